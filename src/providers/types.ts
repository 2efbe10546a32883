/**
 * The provider contract: where servers come from and how to reach their console.
 * Each provider (OVH, configured VNC/AMI targets, demo) implements it and the
 * registry routes a serverId to the provider that owns it.
 */
import type { CallContext } from "../call-context.ts";
import type { ConsoleHandle } from "../console/types.ts";
import type { TargetControl } from "../control/policy.ts";
import type { PowerAction, PowerResult } from "../input/types.ts";

/** Runs a power action through the driver of a server's console kind (ConsoleDriver.power), on its console. */
export type BmcPower = (action: PowerAction, ctx: CallContext) => Promise<PowerResult>;

/** What the operator allows on one server (the per-target switch), and how its host's keyboard is laid out. */
/** One entry of `list_servers`. */
export interface ServerInfo {
	/** Unique across all providers; what tools take as `serverId`. */
	readonly id: string;
	readonly name: string;
	/** Provider name, e.g. "ovh", "vnc", "ami". */
	readonly provider: string;
	readonly datacenter: string | null;
	readonly ip: string | null;
	// Inventory a BMC reports (Redfish targets); absent where the provider does not know it.
	readonly manufacturer?: string;
	readonly model?: string;
	readonly serial?: string;
	/** As the BMC says it: "On", "Off", "PoweringOn", "PoweringOff", "Paused". */
	readonly powerState?: string;
	/** "OK", "Warning" or "Critical" (the system's health rollup). */
	readonly health?: string;
	/** What the host is doing, from Redfish BootProgress.LastState, e.g. "OSRunning", "SetupEntered". */
	readonly bootProgress?: string;
}

export type { TargetControl };

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
	/** The per-target control switch; absent: no control on this provider's servers. */
	control?(serverId: string): TargetControl;
	/**
	 * Power control and status by the provider (e.g. OVH's reboot API); `bmc` runs an action through
	 * the driver of the server's console kind instead. Absent: the registry uses `bmc` directly.
	 */
	power?(serverId: string, action: PowerAction, ctx: CallContext, bmc?: BmcPower): Promise<PowerResult>;
	/** Releases consoles, sessions and timers. */
	close?(): Promise<void>;
}
