/**
 * Typed errors. Every failure a user can meet carries a code, the stage it
 * happened in (when it is part of a capture) and a hint saying what to do next.
 * Messages never contain secrets: callers pass them through `redact` anyway.
 */

export type ErrorCode =
	| "UNKNOWN_SERVER"
	| "NOT_CONFIGURED"
	| "CONFIG_INVALID"
	| "BAD_INPUT"
	| "AUTH_FAILED"
	| "ACCESS_DENIED"
	| "NOT_SUPPORTED"
	| "POWERED_OFF"
	| "BUSY"
	| "TIMEOUT"
	| "CANCELLED"
	| "PROTOCOL"
	| "UPSTREAM"
	| "CONNECTION"
	| "TOO_LARGE"
	| "INTERNAL";

/** Where in a capture we were when something failed; also used for progress. */
export type Stage =
	| CoreStage
	// A console driver names its own stages (e.g. "aten-login"); see ConsoleDriver.stages.
	| (string & {});

/** Stages every capture path shares. */
export type CoreStage =
	| "list-servers"
	| "ovh-api"
	| "ovh-access"
	| "ovh-task"
	| "bmc-login"
	| "ws-connect"
	| "connect"
	| "handshake"
	| "first-frame"
	| "decode"
	| "encode"
	| "queue"
	| "ocr"
	| "wait";

export interface IkvmErrorOptions {
	stage?: Stage;
	hint?: string;
	cause?: unknown;
	/** Whether retrying the same call later may succeed. */
	retryable?: boolean;
}

export class IkvmError extends Error {
	readonly code: ErrorCode;
	readonly stage?: Stage;
	readonly hint?: string;
	readonly retryable: boolean;

	constructor(code: ErrorCode, message: string, options: IkvmErrorOptions = {}) {
		super(message, options.cause === undefined ? undefined : { cause: options.cause });
		this.name = "IkvmError";
		this.code = code;
		this.stage = options.stage;
		this.hint = options.hint;
		this.retryable = options.retryable ?? false;
	}

	/** One line for a user: what happened, where, and what to do. */
	toUserMessage(): string {
		const where = this.stage ? ` [stage: ${this.stage}]` : "";
		const hint = this.hint ? ` ${this.hint}` : "";
		return `${this.message}${where}${hint}`;
	}
}

export function isIkvmError(error: unknown): error is IkvmError {
	return error instanceof IkvmError;
}

/** Wraps anything thrown into an IkvmError, keeping typed ones as they are. */
export function toIkvmError(error: unknown, fallbackStage?: Stage): IkvmError {
	if (error instanceof IkvmError) return error;
	if (error instanceof Error && error.name === "AbortError") {
		return new IkvmError("CANCELLED", "The call was cancelled.", { stage: fallbackStage, cause: error });
	}
	if (error instanceof Error && error.name === "TimeoutError") {
		return new IkvmError("TIMEOUT", "The operation timed out.", { stage: fallbackStage, cause: error });
	}
	const message = error instanceof Error ? error.message : String(error);
	return new IkvmError("INTERNAL", `Unexpected error: ${message}`, { stage: fallbackStage, cause: error });
}

/** Throws a stage-named TIMEOUT/CANCELLED error if the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, stage?: Stage): void {
	if (!signal?.aborted) return;
	throw abortReasonToError(signal.reason, stage);
}

export function abortReasonToError(reason: unknown, stage?: Stage): IkvmError {
	if (reason instanceof IkvmError) return reason;
	if (reason instanceof Error && reason.name === "TimeoutError") {
		return new IkvmError("TIMEOUT", "The tool call ran out of time.", {
			stage,
			hint: "Raise TOOL_TIMEOUT_SECONDS if the console is slow to answer.",
			retryable: true,
		});
	}
	return new IkvmError("CANCELLED", "The call was cancelled.", { stage });
}

/**
 * What a console's receive path throws, as a typed error: IkvmErrors pass unchanged; anything
 * else (a bug, not the peer's fault) becomes an INTERNAL error naming `what` and the stage.
 */
export function wrapUnknown(error: unknown, stage: Stage, what: string): IkvmError {
	if (error instanceof IkvmError) return error;
	const message = error instanceof Error ? error.message : String(error);
	return new IkvmError("INTERNAL", `${what} failed unexpectedly: ${message}`, { stage, cause: error });
}

/** Re-labels an error with the stage it surfaced in, unless it already names one. */
export function atStage(error: IkvmError, stage: Stage): IkvmError {
	if (error.stage) return error;
	return new IkvmError(error.code, error.message, {
		stage,
		hint: error.hint,
		retryable: error.retryable,
		cause: error,
	});
}
