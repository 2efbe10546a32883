/**
 * Servers declared in the static targets file: VNC servers (Proxmox, libvirt,
 * QEMU), AMI BMCs reached directly, Redfish BMCs (one server per ComputerSystem).
 */

import type { CallContext } from "../../call-context.ts";
import type { AnyConsoleDriver, ListedConsole } from "../../console/driver.ts";
import { DRIVERS, driverForKind } from "../../console/drivers.ts";
import type { ConsoleHandle, ConsoleTarget } from "../../console/types.ts";
import { IkvmError, toIkvmError } from "../../errors.ts";
import { log } from "../../log.ts";
import type { Provider, ServerInfo, TargetControl } from "../types.ts";
import type { StaticServer } from "./config.ts";

export class StaticProvider implements Provider {
	readonly name = "config";
	private readonly byId: Map<string, StaticServer>;

	/** Servers an entry stands for through its driver's listServers (`<id>` or `<id>/<SystemId>`) → their targets. */
	private readonly expanded = new Map<string, ConsoleTarget>();

	constructor(
		servers: StaticServer[],
		private readonly drivers: readonly AnyConsoleDriver[] = DRIVERS,
	) {
		this.byId = new Map(servers.map((s) => [s.id, s]));
	}

	async listServers(ctx: CallContext): Promise<ServerInfo[]> {
		const lists = await Promise.all(
			[...this.byId.values()].map(async (s): Promise<ServerInfo[]> => {
				const base: ServerInfo = { id: s.id, name: s.name, provider: s.type, datacenter: null, ip: s.ip };
				const driver = driverForKind(s.target.kind, this.drivers);
				if (!driver?.listServers) return [base];
				// One entry may stand for several servers (a Redfish BMC with several ComputerSystems), with facts.
				try {
					const listed: ListedConsole[] = await driver.listServers(s.target, ctx);
					return listed.map((l) => {
						const id = l.idSuffix ? `${s.id}/${l.idSuffix}` : s.id;
						this.expanded.set(id, l.target);
						// The entry's own name wins; several servers of one entry are told apart by their suffix.
						const named = s.name !== s.id ? (l.idSuffix ? `${s.name} (${l.idSuffix})` : s.name) : undefined;
						return { ...base, id, name: named ?? l.name ?? id, ...l.facts };
					});
				} catch (error) {
					log.warn(`could not list the servers behind a ${s.type} entry`, {
						id: s.id,
						error: toIkvmError(error).message,
					});
					return [base];
				}
			}),
		);
		return lists.flat();
	}

	/** The entry a server id belongs to: its own, or the entry of `<id>/<SystemId>` (ids never contain "/"). */
	private server(serverId: string): StaticServer {
		const slash = serverId.indexOf("/");
		const server = this.byId.get(serverId) ?? (slash > 0 ? this.byId.get(serverId.slice(0, slash)) : undefined);
		if (!server || (slash > 0 && !this.expanded.has(serverId))) {
			throw new IkvmError("UNKNOWN_SERVER", `Unknown server "${serverId}".`);
		}
		return server;
	}

	console(serverId: string): ConsoleHandle {
		const known = this.expanded.get(serverId) ?? this.server(serverId).target;
		return { key: `config:${serverId}`, resolve: async () => this.expanded.get(serverId) ?? known };
	}

	async close(): Promise<void> {
		await Promise.allSettled(this.drivers.map((d) => d.close?.()));
	}

	control(serverId: string): TargetControl {
		const server = this.server(serverId);
		return {
			allowed: server.control ?? new Set(),
			keyboardLayout: server.keyboardLayout ?? "us",
			switchName: `the "control" field of target "${serverId}" in the targets file`,
		};
	}
}
