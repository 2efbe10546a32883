/**
 * The doctor's vocabulary: a check result (one checklist line), the state the
 * steps pass along (what earlier steps learned), and a step.
 */
import type { AppConfig } from "../../config.ts";
import type { ProbeContext, ProbeReport } from "../../console/driver.ts";
import type { ConsoleTarget } from "../../console/types.ts";
import type { OvhApiClient } from "../../providers/ovh/api.ts";
import type { CurrentCredential } from "../../providers/ovh/types.ts";
import type { StaticServer } from "../../providers/static/config.ts";

/** pass ✓, warn ⚠ (does not fail the run), fail ✗, skip – (a prerequisite failed or it does not apply). */
export type CheckStatus = "pass" | "warn" | "fail" | "skip";

export interface CheckResult {
	/** What was checked, e.g. "OVH credentials", "rule GET /dedicated/server", "target vm1". */
	readonly name: string;
	readonly status: CheckStatus;
	/** What was found (never a secret). */
	readonly detail: string;
	/** What to do about a failure or warning. */
	readonly fix?: string;
}

export interface DoctorTimeouts {
	/** Each OVH API request. */
	ovhRequestMs: number;
	/** Each phase of a target probe (connect, handshake or login). */
	targetMs: number;
}

export const DEFAULT_DOCTOR_TIMEOUTS: DoctorTimeouts = { ovhRequestMs: 8000, targetMs: 5000 };

/** Checks that a configured console answers, then leaves nothing open; throws an IkvmError when it does not. */
export type TargetProbe = (target: ConsoleTarget, ctx: ProbeContext) => Promise<ProbeReport>;

export interface DoctorOptions {
	env: Record<string, string | undefined>;
	/** `--config FILE`; else IKVM_CONFIG, else ./ikvm.config.json when present. */
	configPath?: string;
	cwd?: string;
	signal?: AbortSignal;
	timeouts?: Partial<DoctorTimeouts>;
	/** Clock drift above which the clock check warns. Default 10 s. */
	clockWarnSeconds?: number;
	/** Replaces the probe of a target kind (tests). */
	probes?: Partial<Record<string, TargetProbe>>;
	/** Called with each result as soon as it is known (the CLI prints as it goes). */
	onResult?: (result: CheckResult) => void;
}

/** What earlier steps learned; later steps read it and skip when a prerequisite failed. */
export interface DoctorState {
	config?: AppConfig;
	/** Why the environment could not be read, when it could not. */
	configError?: string;
	targets?: StaticServer[];
	targetsFile?: string;
	ovh?: OvhApiClient;
	/** OVH's clock minus ours, seconds, once /auth/time answered. */
	clockDelta?: number;
	/** Why OVH checks after reachability are skipped. */
	ovhBlocked?: string;
	credential?: CurrentCredential;
	/** Service names, once GET /dedicated/server answered. */
	servers?: string[];
}

export interface DoctorContext {
	readonly options: DoctorOptions;
	readonly timeouts: DoctorTimeouts;
	readonly signal: AbortSignal;
}

/** One step of the checklist: reads and extends the state, returns its lines. */
export type DoctorStep = (state: DoctorState, ctx: DoctorContext) => Promise<CheckResult[]>;

export const pass = (name: string, detail: string): CheckResult => ({ name, status: "pass", detail });
export const skip = (name: string, detail: string): CheckResult => ({ name, status: "skip", detail });
export const warn = (name: string, detail: string, fix?: string): CheckResult => ({
	name,
	status: "warn",
	detail,
	fix,
});
export const fail = (name: string, detail: string, fix?: string): CheckResult => ({
	name,
	status: "fail",
	detail,
	fix,
});

export type { ProbeContext, ProbeReport };
