/**
 * Keeps console sessions warm and bounded.
 *
 * - One session per server, reused for `idleMs` after the last capture, so a
 *   second screenshot costs a frame round trip rather than a new BMC login.
 * - Concurrent captures of one server share one in-flight capture.
 * - At most `maxConcurrent` captures run at once; the rest queue, and a call
 *   that waits longer than `queueTimeoutMs` gets a clear BUSY error.
 * - A warm session that fails is replaced once by a fresh one.
 * - Input (`use`) is exclusive and never replayed: one writer per console, queued
 *   behind the captures and other input of that console, never joined or retried.
 */

import type { CallContext, ProgressReporter } from "../call-context.ts";
import { abortReasonToError, IkvmError, type Stage, throwIfAborted } from "../errors.ts";
import type { Frame } from "../frame.ts";
import { log } from "../log.ts";
import type { ConsoleLimits, ConsoleOpener, ConsoleSession, ConsoleTarget } from "./types.ts";

export interface ConsolePoolOptions {
	opener: ConsoleOpener;
	limits: ConsoleLimits;
	idleMs: number;
	maxConcurrent: number;
	queueTimeoutMs: number;
}

/** Resolves where a console is; `fresh` asks to drop cached credentials (e.g. an expired viewer URL). */
export type TargetResolver = (ctx: CallContext, fresh: boolean) => Promise<ConsoleTarget>;

interface Warm {
	session: ConsoleSession;
	timer?: ReturnType<typeof setTimeout>;
}

interface Flight {
	promise: Promise<Frame>;
	controller: AbortController;
	waiters: number;
	reporters: Set<ProgressReporter>;
	/** The stage last reported, named when the caller's deadline runs out. */
	stage: Stage;
}

export class ConsolePool {
	private readonly warm = new Map<string, Warm>();
	private readonly flights = new Map<string, Flight>();
	private readonly queue: Array<() => void> = [];
	private active = 0;
	private closing = false;
	/** Per console: the tail of the queue of operations that must not interleave on its session. */
	private readonly locks = new Map<string, Promise<void>>();

	constructor(private readonly options: ConsolePoolOptions) {}

	/** Number of open console sessions (warm or busy). */
	get openSessions(): number {
		return this.warm.size;
	}

	get activeCaptures(): number {
		return this.active;
	}

	/** Captures a frame of the console `key`, joining an in-flight capture of the same key. */
	capture(key: string, resolve: TargetResolver, ctx: CallContext): Promise<Frame> {
		throwIfAborted(ctx.signal, "queue");
		if (this.closing) return Promise.reject(new IkvmError("BUSY", "The server is shutting down."));
		let flight = this.flights.get(key);
		if (!flight) {
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
				.then(() => this.runExclusive(key, resolve, shared))
				.finally(() => {
					if (this.flights.get(key) === created) this.flights.delete(key);
				});
			flight = created;
			this.flights.set(key, flight);
		}
		return this.join(flight, ctx);
	}

	/** Waits for a shared flight with this caller's own cancellation; the flight stops when every waiter left. */
	private join(flight: Flight, ctx: CallContext): Promise<Frame> {
		flight.waiters++;
		flight.reporters.add(ctx.progress);
		return new Promise<Frame>((resolve, reject) => {
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
				(frame) => {
					leave();
					resolve(frame);
				},
				(error) => {
					leave();
					reject(error);
				},
			);
		});
	}

	private runExclusive(key: string, resolve: TargetResolver, ctx: CallContext): Promise<Frame> {
		return this.serialized(key, ctx, async () => {
			await this.acquire(ctx);
			try {
				return await this.captureWithSession(key, resolve, ctx);
			} finally {
				this.release();
			}
		});
	}

	/**
	 * Runs `op` alone on the console `key` (opening it when no session is warm): queued behind
	 * every other capture and `use` of that console, never shared with another caller, and never
	 * run twice — a failure is the caller's, since input may already have reached the host.
	 */
	use<R>(
		key: string,
		resolve: TargetResolver,
		ctx: CallContext,
		op: (session: ConsoleSession, ctx: CallContext) => Promise<R>,
	): Promise<R> {
		throwIfAborted(ctx.signal, "queue");
		if (this.closing) return Promise.reject(new IkvmError("BUSY", "The server is shutting down."));
		return this.serialized(key, ctx, async () => {
			await this.acquire(ctx);
			try {
				let entry = this.warm.get(key);
				if (entry?.session.closed) {
					await this.drop(key);
					entry = undefined;
				}
				if (entry) this.clearIdle(entry);
				else {
					const target = await resolve(ctx, false);
					throwIfAborted(ctx.signal);
					entry = { session: await this.options.opener(target, ctx, this.options.limits) };
					this.warm.set(key, entry);
				}
				try {
					return await op(entry.session, ctx);
				} finally {
					this.keepWarm(key, entry);
				}
			} finally {
				this.release();
			}
		});
	}

	/** Runs `run` after every earlier serialized operation on `key` has settled; leaving the queue on abort. */
	private serialized<R>(key: string, ctx: CallContext, run: () => Promise<R>): Promise<R> {
		const before = this.locks.get(key) ?? Promise.resolve();
		let done!: () => void;
		const mine = new Promise<void>((r) => {
			done = r;
		});
		const tail = before.then(() => mine);
		this.locks.set(key, tail);
		const finish = () => {
			done();
			if (this.locks.get(key) === tail) this.locks.delete(key);
		};
		const waited = new Promise<void>((resolve, reject) => {
			if (ctx.signal.aborted) return reject(abortReasonToError(ctx.signal.reason, "queue"));
			const onAbort = () => reject(abortReasonToError(ctx.signal.reason, "queue"));
			ctx.signal.addEventListener("abort", onAbort, { once: true });
			before.then(() => {
				ctx.signal.removeEventListener("abort", onAbort);
				resolve();
			});
		});
		return waited.then(
			async () => {
				try {
					return await run();
				} finally {
					finish();
				}
			},
			(error) => {
				// Aborted while queued: our turn passes on once the one before us is done.
				before.then(finish);
				throw error;
			},
		);
	}

	private async captureWithSession(key: string, resolve: TargetResolver, ctx: CallContext): Promise<Frame> {
		const existing = this.warm.get(key);
		if (existing && !existing.session.closed) {
			this.clearIdle(existing);
			try {
				const frame = await existing.session.capture(ctx);
				this.keepWarm(key, existing);
				return frame;
			} catch (error) {
				throwIfAborted(ctx.signal);
				log.info("warm console failed; opening a fresh one", { console: existing.session.description });
				await this.drop(key);
				return this.openAndCapture(key, resolve, ctx, true, error);
			}
		}
		if (existing) await this.drop(key);
		return this.openAndCapture(key, resolve, ctx, false);
	}

	private async openAndCapture(
		key: string,
		resolve: TargetResolver,
		ctx: CallContext,
		fresh: boolean,
		_previous?: unknown,
	): Promise<Frame> {
		const target = await resolve(ctx, fresh);
		throwIfAborted(ctx.signal);
		const session = await this.options.opener(target, ctx, this.options.limits);
		const entry: Warm = { session };
		this.warm.set(key, entry);
		try {
			const frame = await session.capture(ctx);
			this.keepWarm(key, entry);
			return frame;
		} catch (error) {
			await this.drop(key);
			throw error;
		}
	}

	private keepWarm(key: string, entry: Warm): void {
		if (this.closing || this.options.idleMs <= 0 || entry.session.closed) {
			void this.drop(key);
			return;
		}
		this.clearIdle(entry);
		entry.timer = setTimeout(() => {
			if (this.flights.has(key)) return;
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

	/** Closes every session; new captures are refused. */
	async closeAll(): Promise<void> {
		this.closing = true;
		const flights = [...this.flights.values()];
		for (const flight of flights) flight.controller.abort(new IkvmError("CANCELLED", "Shutting down."));
		await Promise.allSettled(flights.map((f) => f.promise));
		await Promise.allSettled([...this.warm.keys()].map((k) => this.drop(k)));
	}
}
