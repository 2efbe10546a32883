/**
 * Servers declared in the static targets file: VNC servers (Proxmox, libvirt,
 * QEMU) and AMI BMCs reached directly.
 */

import type { CallContext } from "../../call-context.ts";
import type { ConsoleHandle } from "../../console/types.ts";
import { IkvmError } from "../../errors.ts";
import type { Provider, ServerInfo, TargetControl } from "../types.ts";
import type { StaticServer } from "./config.ts";

export class StaticProvider implements Provider {
	readonly name = "config";
	private readonly byId: Map<string, StaticServer>;

	constructor(servers: StaticServer[]) {
		this.byId = new Map(servers.map((s) => [s.id, s]));
	}

	async listServers(_ctx: CallContext): Promise<ServerInfo[]> {
		return [...this.byId.values()].map((s) => ({
			id: s.id,
			name: s.name,
			provider: s.type,
			datacenter: null,
			ip: s.ip,
		}));
	}

	private server(serverId: string): StaticServer {
		const server = this.byId.get(serverId);
		if (!server) throw new IkvmError("UNKNOWN_SERVER", `Unknown server "${serverId}".`);
		return server;
	}

	console(serverId: string): ConsoleHandle {
		const server = this.server(serverId);
		return { key: `config:${serverId}`, resolve: async () => server.target };
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
