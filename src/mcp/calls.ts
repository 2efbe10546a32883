/**
 * Tool calls in progress, so that shutdown can stop them with a clear error
 * (instead of cutting their connection) and wait briefly for those errors to
 * reach the clients before the transports close.
 */
import { IkvmError } from "../errors.ts";

export function shuttingDownError(): IkvmError {
	return new IkvmError("CANCELLED", "ikvm-mcp is shutting down; this call was stopped.", {
		hint: "Try again once the server is running again.",
		retryable: true,
	});
}

export class CallGate {
	private readonly controller = new AbortController();
	private active = 0;
	private idle: Array<() => void> = [];

	/** Aborted when shutdown begins; every call's signal includes it. */
	get signal(): AbortSignal {
		return this.controller.signal;
	}

	get closing(): boolean {
		return this.controller.signal.aborted;
	}

	get inFlight(): number {
		return this.active;
	}

	/** Runs one call, counted until it settles. */
	async track<T>(run: () => Promise<T>): Promise<T> {
		this.active++;
		try {
			return await run();
		} finally {
			this.active--;
			if (this.active === 0) {
				const waiting = this.idle;
				this.idle = [];
				for (const wake of waiting) wake();
			}
		}
	}

	/** Stops every call in progress, and every later one, with `reason`. Idempotent. */
	close(reason: IkvmError = shuttingDownError()): void {
		if (!this.closing) this.controller.abort(reason);
	}

	/** Resolves true once no call is running, or false after `timeoutMs`. */
	drained(timeoutMs: number): Promise<boolean> {
		if (this.active === 0) return Promise.resolve(true);
		return new Promise<boolean>((resolve) => {
			const wake = () => {
				clearTimeout(timer);
				resolve(true);
			};
			const timer = setTimeout(() => {
				this.idle = this.idle.filter((w) => w !== wake);
				resolve(false);
			}, timeoutMs);
			this.idle.push(wake);
		});
	}
}
