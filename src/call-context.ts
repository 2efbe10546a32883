/**
 * What every operation carries from a tool call down to the protocol code:
 * cancellation (the client's and the deadline's) and progress reports. It lives
 * below every layer so protocol and console code need not import providers.
 */
import type { Stage } from "./errors.ts";

/** Reports progress of a long operation (OVH task, BMC login, ...). */
export type ProgressReporter = (stage: Stage, message: string) => void;

/** Carried through every call: cancellation, deadline, progress. */
export interface CallContext {
	readonly signal: AbortSignal;
	readonly progress: ProgressReporter;
}

export function noProgress(): void {}

/** A context for callers outside MCP (CLI, tests). */
export function standaloneContext(signal: AbortSignal = new AbortController().signal): CallContext {
	return { signal, progress: noProgress };
}
