/**
 * Servers declared in the static targets file: VNC servers (Proxmox, libvirt,
 * QEMU) and AMI BMCs reached directly.
 */

import type { CallContext } from "../../call-context.ts";
import type { ConsolePool } from "../../console/pool.ts";
import { IkvmError } from "../../errors.ts";
import type { Frame } from "../../frame.ts";
import type { Provider, ServerInfo } from "../types.ts";
import type { StaticServer } from "./config.ts";

export class StaticProvider implements Provider {
	readonly name = "config";
	private readonly byId: Map<string, StaticServer>;

	constructor(
		servers: StaticServer[],
		private readonly consoles: ConsolePool,
	) {
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

	async getScreenshot(serverId: string, ctx: CallContext): Promise<Frame> {
		const server = this.byId.get(serverId);
		if (!server) throw new IkvmError("UNKNOWN_SERVER", `Unknown server "${serverId}".`);
		return this.consoles.capture(`config:${serverId}`, async () => server.target, ctx);
	}
}
