/**
 * Waiting that honours cancellation: every pause can be cut short by the
 * caller's signal, and then rejects with a stage-named error. Also bounded
 * concurrency and how durations read in messages.
 */
import { abortReasonToError, type IkvmError, type Stage, throwIfAborted } from "./errors.ts";

export function sleep(ms: number, signal: AbortSignal, stage: Stage): Promise<void> {
	throwIfAborted(signal, stage);
	return new Promise<void>((resolve, reject) => {
		const onAbort = () => {
			clearTimeout(timer);
			reject(abortReasonToError(signal.reason, stage));
		};
		const timer = setTimeout(() => {
			signal.removeEventListener("abort", onAbort);
			resolve();
		}, ms);
		signal.addEventListener("abort", onAbort, { once: true });
	});
}

/** Waits for `promise`, giving up when `signal` fires (the promise itself keeps running). */
export function raceSignal<T>(promise: Promise<T>, signal: AbortSignal, stage: Stage): Promise<T> {
	throwIfAborted(signal, stage);
	return new Promise<T>((resolve, reject) => {
		const onAbort = () => reject(abortReasonToError(signal.reason, stage));
		signal.addEventListener("abort", onAbort, { once: true });
		promise.then(
			(value) => {
				signal.removeEventListener("abort", onAbort);
				resolve(value);
			},
			(error) => {
				signal.removeEventListener("abort", onAbort);
				reject(error);
			},
		);
	});
}

/** Runs `fn` over `items` with at most `limit` calls in flight; results keep the input order. */
export async function mapLimit<T, R>(
	items: readonly T[],
	limit: number,
	fn: (item: T, index: number) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
	const results: PromiseSettledResult<R>[] = new Array(items.length);
	let next = 0;
	const worker = async () => {
		while (next < items.length) {
			const i = next++;
			try {
				results[i] = { status: "fulfilled", value: await fn(items[i] as T, i) };
			} catch (reason) {
				results[i] = { status: "rejected", reason };
			}
		}
	};
	await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
	return results;
}

/** "0.25 s", "1.5 s", "12 s": a limit as messages state it. */
export function seconds(ms: number): string {
	return `${ms >= 1000 ? Math.round(ms / 100) / 10 : ms / 1000} s`;
}

/** "1.5 s", "2 min": for messages. */
export function formatDuration(ms: number): string {
	if (ms < 1000) return `${ms} ms`;
	if (ms < 120_000) return `${Number((ms / 1000).toFixed(1))} s`;
	return `${Math.round(ms / 60_000)} min`;
}

export interface DeadlineOptions {
	/** The stage a cancellation names. */
	stage: Stage;
	/** The caller's cancellation. */
	signal: AbortSignal;
	timeoutMs: number;
	/** The error for running out of time (it should say what did not arrive, and within how long). */
	onTimeout: () => IkvmError;
}

/**
 * Waits for `register` to settle, bounded by a time limit and the caller's signal. `register`
 * gets resolve/reject and may return an unregister function, called however the wait ends.
 * What was waited for is left as it is: the caller decides whether a timeout ends its session.
 */
export function withDeadline<T>(
	register: (resolve: (value: T) => void, reject: (error: IkvmError) => void) => (() => void) | undefined,
	options: DeadlineOptions,
): Promise<T> {
	const { signal, stage } = options;
	return new Promise<T>((resolve, reject) => {
		let done = false;
		let unregister: (() => void) | undefined;
		const finish = () => {
			done = true;
			clearTimeout(timer);
			signal.removeEventListener("abort", onAbort);
			unregister?.();
		};
		const onAbort = () => {
			if (done) return;
			finish();
			reject(abortReasonToError(signal.reason, stage));
		};
		const timer = setTimeout(() => {
			if (done) return;
			finish();
			reject(options.onTimeout());
		}, options.timeoutMs);
		if (signal.aborted) return onAbort();
		signal.addEventListener("abort", onAbort, { once: true });
		const result = register(
			(value) => {
				if (done) return;
				finish();
				resolve(value);
			},
			(error) => {
				if (done) return;
				finish();
				reject(error);
			},
		);
		if (typeof result === "function") {
			if (done) result();
			else unregister = result;
		}
	});
}
