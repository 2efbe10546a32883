/**
 * The provider contract: where servers come from and how to reach their console.
 * Each provider (OVH, configured VNC/AMI targets, demo) implements it and the
 * registry routes a serverId to the provider that owns it.
 */
import type { CallContext } from "../call-context.ts";
import type { ConsoleHandle } from "../console/types.ts";

/** One entry of `list_servers`. */
export interface ServerInfo {
	/** Unique across all providers; what tools take as `serverId`. */
	readonly id: string;
	readonly name: string;
	/** Provider name, e.g. "ovh", "vnc", "ami". */
	readonly provider: string;
	readonly datacenter: string | null;
	readonly ip: string | null;
}

export interface Provider {
	/** Short provider name shown in `list_servers`. */
	readonly name: string;
	/** Every server this provider can reach with the configured credentials. */
	listServers(ctx: CallContext): Promise<ServerInfo[]>;
	/**
	 * Where the console of one of this provider's servers is. Providers resolve; the console
	 * pool opens and operates the session. Throws UNKNOWN_SERVER for an id it does not own.
	 */
	console(serverId: string): ConsoleHandle;
	/** Releases consoles, sessions and timers. */
	close?(): Promise<void>;
}
