/**
 * A console driver: everything one console protocol contributes, in one
 * object, so a new kind is one folder plus one line in `drivers.ts`.
 */
import type { z } from "zod";
import type { CallContext } from "../call-context.ts";
import type { Stage } from "../errors.ts";
import type { PowerAction, PowerResult } from "../input/types.ts";
import type { ConsoleLimits, ConsoleSession, ConsoleTarget } from "./types.ts";
import type { ViewerSniffer } from "./viewer.ts";

/**
 * Reads a value an entry names (`passwordEnv`: from the environment) or holds inline, failing with
 * the field's name when the variable is unset; secrets (the default) are registered for redaction.
 */
export type SecretReader = (
	inline: string | undefined,
	envName: string | undefined,
	field: string,
	options?: { secret?: boolean },
) => string | undefined;

/** What a targets-file entry becomes. */
export interface ConfiguredTarget<T extends ConsoleTarget = ConsoleTarget> {
	target: T;
	/** Host or IP for list_servers. */
	ip: string | null;
}

/** Runs `op` on this target's warm session (the pool's `use`), for drivers whose power needs the console. */
export type SessionRunner = <R>(op: (session: ConsoleSession, ctx: CallContext) => Promise<R>) => Promise<R>;

export interface ProbeContext {
	signal: AbortSignal;
	/** Limit of each phase (connect, handshake, login, frame). */
	timeoutMs: number;
	/** The framebuffer bounds the server enforces. */
	limits: ConsoleLimits;
}

/** What a probe saw; a `warning` (with its fix) makes the doctor's line a ⚠ instead of a ✓. */
export interface ProbeReport {
	detail: string;
	warning?: string;
}

/** Inventory facts a driver may know about a server (Redfish ComputerSystem fields); all optional. */
export interface ServerFacts {
	readonly manufacturer?: string;
	readonly model?: string;
	readonly serial?: string;
	/** As the BMC reports it, e.g. "On", "Off", "PoweringOn". */
	readonly powerState?: string;
	/** "OK", "Warning", "Critical". */
	readonly health?: string;
	/** Redfish BootProgress.LastState, e.g. "OSRunning", "SetupEntered". */
	readonly bootProgress?: string;
}

/** One server a target stands for, as `listServers` finds it. */
export interface ListedConsole<T extends ConsoleTarget = ConsoleTarget> {
	/** Appended to the entry's id as `<id>/<idSuffix>` when one target holds several servers; absent for one. */
	readonly idSuffix?: string;
	/** What the target calls this server (e.g. the system's HostName), for when the entry has no name. */
	readonly name?: string;
	readonly facts?: ServerFacts;
	/** The target that reaches exactly this server (e.g. the Redfish target narrowed to one SystemId). */
	readonly target: T;
}

// biome-ignore lint/suspicious/noExplicitAny: a driver list holds drivers of every target and schema type.
export type AnyConsoleDriver = ConsoleDriver<any, any>;

export interface ConsoleDriver<T extends ConsoleTarget = ConsoleTarget, S extends z.ZodObject = z.ZodObject> {
	/** The `type` of a targets-file entry for this driver, e.g. "vnc". */
	readonly type: string;
	/** Target kinds this driver opens (the `kind` of a ConsoleTarget), e.g. ["ami-viewer", "ami-login"]. */
	readonly kinds: readonly string[];
	/** One line for README and the doctor: what this kind is. */
	readonly title: string;
	/** A short name for counts, e.g. "VNC". */
	readonly label: string;
	/** zod schema of one targets-file entry, with `type: z.literal(this.type)`. */
	readonly configSchema: S;
	/** Builds the target of a validated entry; `readSecret` resolves passwordEnv and friends. */
	fromConfig(entry: z.infer<S>, readSecret: SecretReader): ConfiguredTarget<T>;
	/** Connects, authenticates, and returns a session ready to capture. */
	open(target: T, ctx: CallContext, limits: ConsoleLimits): Promise<ConsoleSession>;
	/** The doctor's description of a target, without secrets, e.g. "vnc 10.0.0.5:5901". */
	describe(target: T): string;
	/** The stages this driver reports, in the order a cold capture meets them. */
	readonly stages: readonly Stage[];
	/**
	 * The doctor's check that a configured console answers; leaves nothing open (BMCs allow few
	 * sessions) and throws an IkvmError when it does not answer.
	 */
	probe?(target: T, ctx: ProbeContext): Promise<ProbeReport>;
	/** Recognises provider viewer links (and the pages they serve) of this kind. */
	readonly viewer?: ViewerSniffer;
	/** Power control and status, when the protocol or the BMC behind it has one. */
	power?(target: T, action: PowerAction, ctx: CallContext, session: SessionRunner): Promise<PowerResult>;
	/**
	 * The servers behind one entry, with their facts, when a target can stand for several (a Redfish
	 * BMC with several ComputerSystems) or knows inventory. Absent: the entry is one server, no facts.
	 */
	listServers?(target: T, ctx: CallContext): Promise<ListedConsole<T>[]>;
	/** Releases what the driver holds across sessions (Redfish: its BMC sessions); called on shutdown. */
	close?(): Promise<void>;
}
