/**
 * Servers declared in the static targets file: VNC servers (Proxmox, libvirt,
 * QEMU) and AMI BMCs reached directly.
 */

import type { CallContext } from "../../call-context.ts";
import type { ConsolePool } from "../../console/pool.ts";
import type { ConsoleTarget } from "../../console/types.ts";
import { IkvmError, toIkvmError } from "../../errors.ts";
import type { Frame } from "../../frame.ts";
import { log } from "../../log.ts";
import { redfishDriver } from "../../redfish/driver.ts";
import type { Provider, ServerInfo } from "../types.ts";
import type { StaticServer } from "./config.ts";

export class StaticProvider implements Provider {
	readonly name = "config";
	private readonly byId: Map<string, StaticServer>;
	/** Servers a Redfish entry stands for (`<id>` or `<id>/<SystemId>`) → their narrowed targets. */
	private readonly expanded = new Map<string, ConsoleTarget>();

	constructor(
		servers: StaticServer[],
		private readonly consoles: ConsolePool,
	) {
		this.byId = new Map(servers.map((s) => [s.id, s]));
	}

	async listServers(ctx: CallContext): Promise<ServerInfo[]> {
		const lists = await Promise.all(
			[...this.byId.values()].map(async (s): Promise<ServerInfo[]> => {
				const base: ServerInfo = { id: s.id, name: s.name, provider: s.type, datacenter: null, ip: s.ip };
				if (s.target.kind !== "redfish") return [base];
				// A Redfish entry stands for each ComputerSystem of its BMC, with their facts.
				try {
					const listed = await redfishDriver.listServers(s.target, ctx);
					return listed.map((l) => {
						const id = l.idSuffix ? `${s.id}/${l.idSuffix}` : s.id;
						this.expanded.set(id, l.target);
						return { ...base, id, name: s.name !== s.id ? s.name : (l.name ?? s.name), ...l.facts };
					});
				} catch (error) {
					log.warn("could not list the systems of a Redfish BMC", { id: s.id, error: toIkvmError(error).message });
					return [base];
				}
			}),
		);
		return lists.flat();
	}

	async getScreenshot(serverId: string, ctx: CallContext): Promise<Frame> {
		let target: ConsoleTarget | undefined = this.expanded.get(serverId) ?? this.byId.get(serverId)?.target;
		if (!target && serverId.includes("/")) {
			await this.listServers(ctx);
			target = this.expanded.get(serverId);
		}
		if (!target) throw new IkvmError("UNKNOWN_SERVER", `Unknown server "${serverId}".`);
		const resolved = target;
		return this.consoles.capture(`config:${serverId}`, async () => resolved, ctx);
	}

	async close(): Promise<void> {
		await redfishDriver.close();
	}
}
