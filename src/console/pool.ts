/**
 * Keeps console sessions warm and bounded, and runs operations on them.
 *
 * - One session per console key, reused for `idleMs` after the last operation, so a
 *   second screenshot costs a frame round trip rather than a new BMC login.
 * - Operations on one console run one at a time, in call order (one writer per console:
 *   keys typed by two calls never interleave, and a capture never lands mid-sequence).
 * - A shared operation (`share`, e.g. every capture) joins an identical one already in
 *   flight on the same console instead of running again.
 * - At most `maxConcurrent` consoles are operated at once; the rest queue, and a call
 *   that waits longer than `queueTimeoutMs` gets a clear BUSY error. At most as many
 *   sessions are open at all: opening one more closes the longest-idle warm one, so
 *   memory is bounded by maxConcurrent × what one console may hold.
 * - An idempotent operation that fails on a warm session is run once more on a fresh
 *   one (with fresh credentials); one whose target the handle calls stale is resolved
 *   afresh and run once more. A non-idempotent one (input, power) is never replayed
 *   once it has started: its error is the answer.
 */
import type { CallContext, ProgressReporter } from "../call-context.ts";
import { abortReasonToError, IkvmError, type Stage, throwIfAborted } from "../errors.ts";
import type { Frame } from "../frame.ts";
import { log } from "../log.ts";
import type { ConsoleHandle, ConsoleLimits, ConsoleOpener, ConsoleSession } from "./types.ts";

export interface ConsolePoolOptions {
	opener: ConsoleOpener;
	limits: ConsoleLimits;
	idleMs: number;
	maxConcurrent: number;
	queueTimeoutMs: number;
}

/** What runs on a session: it gets the session and the caller's (or the shared flight's) context. */
export type ConsoleOperation<T> = (session: ConsoleSession, ctx: CallContext) => Promise<T>;

export interface UseOptions {
	/**
	 * Calls with the same `share` name on the same console join one run (captures do). Leave it out
	 * for operations that must each run (input).
	 */
	share?: string;
	/** Whether the operation may be run again after a failure (a capture may; typed keys may not). */
	idempotent: boolean;
}

interface Warm {
	session: ConsoleSession;
	timer?: ReturnType<typeof setTimeout>;
	/** When an operation last finished on it. */
	idleSince: number;
}

interface Flight {
	promise: Promise<unknown>;
	controller: AbortController;
	waiters: number;
	reporters: Set<ProgressReporter>;
	/** The stage last reported, named when the caller's deadline runs out. */
	stage: Stage;
}

export class ConsolePool {
	private readonly warm = new Map<string, Warm>();
	private readonly flights = new Map<string, Flight>();
	/** The tail of each console's operation queue. */
	private readonly lanes = new Map<string, Promise<unknown>>();
	private readonly queue: Array<() => void> = [];
	private active = 0;
	private closing = false;

	constructor(private readonly options: ConsolePoolOptions) {}

	/** Number of open console sessions (warm or busy). */
	get openSessions(): number {
		return this.warm.size;
	}

	/** Consoles being operated now. */
	get activeCaptures(): number {
		return this.active;
	}

	/** A complete, current picture: a shared, idempotent `use`. */
	capture(handle: ConsoleHandle, ctx: CallContext): Promise<Frame> {
		return this.use(handle, ctx, (session, c) => session.capture(c), { share: "capture", idempotent: true });
	}

	/** Runs `op` on the warm session of `handle.key` (opening one when needed). */
	use<T>(handle: ConsoleHandle, ctx: CallContext, op: ConsoleOperation<T>, options: UseOptions): Promise<T> {
		throwIfAborted(ctx.signal, "queue");
		if (this.closing) return Promise.reject(new IkvmError("BUSY", "The server is shutting down."));
		if (options.share === undefined) return this.runInLane(handle, ctx, op, options);
		const flightKey = `${handle.key}\u0000${options.share}`;
		let flight = this.flights.get(flightKey);
		// A flight every waiter has left is being stopped: joining it would inherit its abort.
		if (!flight || flight.controller.signal.aborted) {
			const controller = new AbortController();
			const reporters = new Set<ProgressReporter>();
			const created = { controller, reporters, waiters: 0, stage: "queue" } as Flight;
			const shared: CallContext = {
				signal: controller.signal,
				progress: (stage, message) => {
					created.stage = stage;
					for (const r of reporters) r(stage, message);
				},
			};
			// Started on the next tick, so the caller has joined before the first progress report.
			created.promise = Promise.resolve()
				.then(() => this.runInLane(handle, shared, op, options))
				.finally(() => {
					if (this.flights.get(flightKey) === created) this.flights.delete(flightKey);
				});
			flight = created;
			this.flights.set(flightKey, flight);
		}
		return this.join(flight, ctx) as Promise<T>;
	}

	/** Waits for a shared flight with this caller's own cancellation; the flight stops when every waiter left. */
	private join(flight: Flight, ctx: CallContext): Promise<unknown> {
		flight.waiters++;
		flight.reporters.add(ctx.progress);
		return new Promise<unknown>((resolve, reject) => {
			const leave = () => {
				ctx.signal.removeEventListener("abort", onAbort);
				flight.reporters.delete(ctx.progress);
				flight.waiters--;
			};
			const onAbort = () => {
				leave();
				if (flight.waiters === 0) flight.controller.abort(ctx.signal.reason);
				reject(abortReasonToError(ctx.signal.reason, flight.stage));
			};
			ctx.signal.addEventListener("abort", onAbort, { once: true });
			flight.promise.then(
				(value) => {
					leave();
					resolve(value);
				},
				(error) => {
					leave();
					reject(error);
				},
			);
		});
	}

	/** Queues `op` behind the operations already waiting on this console. */
	private runInLane<T>(
		handle: ConsoleHandle,
		ctx: CallContext,
		op: ConsoleOperation<T>,
		options: UseOptions,
	): Promise<T> {
		const previous = this.lanes.get(handle.key) ?? Promise.resolve();
		let settle!: { resolve(value: T): void; reject(error: unknown): void };
		const result = new Promise<T>((resolve, reject) => {
			settle = { resolve, reject };
		});
		// A caller whose deadline passes while it waits its turn leaves the queue at once.
		let left = false;
		const onAbort = () => {
			left = true;
			settle.reject(abortReasonToError(ctx.signal.reason, "queue"));
		};
		ctx.signal.addEventListener("abort", onAbort, { once: true });
		const tail = previous.then(async () => {
			ctx.signal.removeEventListener("abort", onAbort);
			if (left) return;
			try {
				settle.resolve(await this.runExclusive(handle, ctx, op, options));
			} catch (error) {
				settle.reject(error);
			}
		});
		this.lanes.set(handle.key, tail);
		void tail.then(() => {
			if (this.lanes.get(handle.key) === tail) this.lanes.delete(handle.key);
		});
		return result;
	}

	private async runExclusive<T>(
		handle: ConsoleHandle,
		ctx: CallContext,
		op: ConsoleOperation<T>,
		options: UseOptions,
	): Promise<T> {
		throwIfAborted(ctx.signal, "queue");
		if (this.closing) throw new IkvmError("BUSY", "The server is shutting down.");
		await this.acquire(ctx);
		try {
			return await this.runOnSession(handle, ctx, op, options);
		} finally {
			this.release();
		}
	}

	private async runOnSession<T>(
		handle: ConsoleHandle,
		ctx: CallContext,
		op: ConsoleOperation<T>,
		options: UseOptions,
	): Promise<T> {
		const existing = this.warm.get(handle.key);
		if (existing && !existing.session.closed) {
			this.clearIdle(existing);
			try {
				const result = await op(existing.session, ctx);
				this.keepWarm(handle.key, existing);
				return result;
			} catch (error) {
				throwIfAborted(ctx.signal);
				await this.drop(handle.key);
				if (!options.idempotent) throw error;
				log.info("warm console failed; opening a fresh one", { console: existing.session.description });
				return this.openAndRun(handle, ctx, op, options, true);
			}
		}
		if (existing) await this.drop(handle.key);
		return this.openAndRun(handle, ctx, op, options, false);
	}

	private async openAndRun<T>(
		handle: ConsoleHandle,
		ctx: CallContext,
		op: ConsoleOperation<T>,
		options: UseOptions,
		fresh: boolean,
	): Promise<T> {
		let started = false;
		try {
			return await this.openOnce(handle, ctx, fresh, (session, c) => {
				started = true;
				return op(session, c);
			});
		} catch (error) {
			const replayable = options.idempotent || !started;
			if (fresh || !replayable || ctx.signal.aborted || !handle.isStale?.(error)) throw error;
			log.info("the console refused a resolved target; resolving it afresh", {
				console: handle.key,
				error: error instanceof Error ? error.message : String(error),
			});
			return this.openOnce(handle, ctx, true, op);
		}
	}

	private async openOnce<T>(
		handle: ConsoleHandle,
		ctx: CallContext,
		fresh: boolean,
		op: ConsoleOperation<T>,
	): Promise<T> {
		const target = await handle.resolve(ctx, fresh);
		throwIfAborted(ctx.signal);
		await this.makeRoom(handle.key);
		const session = await this.options.opener(target, ctx, this.options.limits);
		const entry: Warm = { session, idleSince: Date.now() };
		this.warm.set(handle.key, entry);
		try {
			const result = await op(session, ctx);
			this.keepWarm(handle.key, entry);
			return result;
		} catch (error) {
			await this.drop(handle.key);
			throw error;
		}
	}

	/** Closes the longest-idle warm session when opening another would pass the cap. */
	private async makeRoom(opening: string): Promise<void> {
		while (this.warm.size >= this.options.maxConcurrent) {
			let oldest: string | undefined;
			let since = Number.POSITIVE_INFINITY;
			for (const [key, entry] of this.warm) {
				if (key === opening || this.lanes.has(key) || entry.timer === undefined) continue;
				if (entry.idleSince < since) {
					since = entry.idleSince;
					oldest = key;
				}
			}
			if (oldest === undefined) return;
			log.debug("closing the longest-idle console to stay within the console cap", { console: oldest });
			await this.drop(oldest);
		}
	}

	private keepWarm(key: string, entry: Warm): void {
		if (this.closing || this.options.idleMs <= 0 || entry.session.closed) {
			void this.drop(key);
			return;
		}
		this.clearIdle(entry);
		entry.idleSince = Date.now();
		entry.timer = setTimeout(() => {
			if (this.lanes.has(key)) return;
			void this.drop(key);
		}, this.options.idleMs);
		entry.timer.unref?.();
	}

	private clearIdle(entry: Warm): void {
		if (entry.timer) clearTimeout(entry.timer);
		entry.timer = undefined;
	}

	private async drop(key: string): Promise<void> {
		const entry = this.warm.get(key);
		if (!entry) return;
		this.warm.delete(key);
		this.clearIdle(entry);
		await entry.session.close().catch(() => {});
		log.debug("console closed", { console: entry.session.description });
	}

	private acquire(ctx: CallContext): Promise<void> {
		if (this.active < this.options.maxConcurrent) {
			this.active++;
			return Promise.resolve();
		}
		ctx.progress("queue", "Waiting for a free console slot");
		return new Promise<void>((resolve, reject) => {
			const grant = () => {
				cleanup();
				this.active++;
				resolve();
			};
			const timer = setTimeout(() => {
				cleanup();
				reject(
					new IkvmError("BUSY", `All ${this.options.maxConcurrent} console slots are busy.`, {
						stage: "queue",
						hint: "Try again shortly, or raise MAX_CONCURRENT_CONSOLES.",
						retryable: true,
					}),
				);
			}, this.options.queueTimeoutMs);
			const onAbort = () => {
				cleanup();
				reject(abortReasonToError(ctx.signal.reason, "queue"));
			};
			const cleanup = () => {
				clearTimeout(timer);
				ctx.signal.removeEventListener("abort", onAbort);
				const i = this.queue.indexOf(grant);
				if (i >= 0) this.queue.splice(i, 1);
			};
			ctx.signal.addEventListener("abort", onAbort, { once: true });
			this.queue.push(grant);
		});
	}

	private release(): void {
		this.active--;
		const next = this.queue.shift();
		if (next) next();
	}

	/** Closes every session; new operations are refused. */
	async closeAll(): Promise<void> {
		this.closing = true;
		const flights = [...this.flights.values()];
		for (const flight of flights) flight.controller.abort(new IkvmError("CANCELLED", "Shutting down."));
		await Promise.allSettled(flights.map((f) => f.promise));
		await Promise.allSettled([...this.lanes.values()]);
		await Promise.allSettled([...this.warm.keys()].map((k) => this.drop(k)));
	}
}
