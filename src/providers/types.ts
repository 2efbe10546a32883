/**
 * The provider contract: where servers come from and how to reach their console.
 * Each provider (OVH, configured VNC/AMI targets, demo) implements it and the
 * registry routes a serverId to the provider that owns it.
 */
import type { CallContext } from "../call-context.ts";
import type { ControlKind } from "../config.ts";
import type { ConsoleSession } from "../console/types.ts";
import type { Frame } from "../frame.ts";
import type { LayoutName } from "../input/layouts.ts";
import type { PowerAction, PowerResult } from "../input/types.ts";

/** What the operator allows on one server (the per-target switch), and how its host's keyboard is laid out. */
export interface TargetControl {
	readonly allowed: ReadonlySet<ControlKind>;
	readonly keyboardLayout: LayoutName;
	/** Where this permission is set, for a refusal's hint, e.g. 'the "control" field of its entry in ikvm.config.json'. */
	readonly switchName: string;
}

/** An operation on a server's live console session, run alone on it (input). */
export type ConsoleOperation<R> = (session: ConsoleSession, ctx: CallContext) => Promise<R>;

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
	/** Captures the current console picture of one of this provider's servers. */
	getScreenshot(serverId: string, ctx: CallContext): Promise<Frame>;
	/** The per-target control switch; absent: no control on this provider's servers. */
	control?(serverId: string): TargetControl;
	/**
	 * Runs `op` on the server's console session as an exclusive, non-idempotent operation: queued
	 * behind other work on that console, never merged with another call, never replayed after a failure.
	 */
	useConsole?<R>(serverId: string, ctx: CallContext, op: ConsoleOperation<R>): Promise<R>;
	/** Power control and status; absent: this provider cannot switch power. */
	power?(serverId: string, action: PowerAction, ctx: CallContext): Promise<PowerResult>;
	/** Releases consoles, sessions and timers. */
	close?(): Promise<void>;
}
