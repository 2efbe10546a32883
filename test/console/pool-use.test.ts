/**
 * ConsolePool.use: operations other than capture. Exclusive operations are never
 * merged, run one at a time per console in call order, and a non-idempotent one
 * is never replayed after a failure; a handle's isStale asks for a fresh target.
 */
import { describe, expect, test } from "bun:test";
import { standaloneContext } from "../../src/call-context.ts";
import { ConsolePool } from "../../src/console/pool.ts";
import type { ConsoleHandle, ConsoleOpener, ConsoleSession } from "../../src/console/types.ts";
import { IkvmError } from "../../src/errors.ts";
import { testFrame } from "../support/fake-provider.ts";

function recordingOpener() {
	const log: string[] = [];
	let opened = 0;
	const opener: ConsoleOpener = async (target) => {
		opened++;
		if (target.refuse) throw new IkvmError("CONNECTION", "refused", { stage: "connect" });
		let closed = false;
		const session: ConsoleSession = {
			description: `s${opened}`,
			get closed() {
				return closed;
			},
			capture: async () => testFrame(),
			async close() {
				closed = true;
			},
		};
		return session;
	};
	return { opener, log, opened: () => opened };
}

function pool(opener: ConsoleOpener) {
	return new ConsolePool({
		opener,
		limits: { maxWidth: 64, maxHeight: 64 },
		idleMs: 1000,
		maxConcurrent: 4,
		queueTimeoutMs: 1000,
	});
}

const handle: ConsoleHandle = { key: "k", resolve: async () => ({ kind: "fake" }) };

describe("ConsolePool.use", () => {
	test("exclusive operations are each run, one at a time, in call order", async () => {
		const { opener, log } = recordingOpener();
		const p = pool(opener);
		const op = (name: string, ms: number) => async () => {
			log.push(`${name} start`);
			await Bun.sleep(ms);
			log.push(`${name} end`);
			return name;
		};
		const results = await Promise.all([
			p.use(handle, standaloneContext(), op("a", 30), { idempotent: false }),
			p.use(handle, standaloneContext(), op("b", 5), { idempotent: false }),
			p.use(handle, standaloneContext(), op("c", 1), { idempotent: false }),
		]);
		expect(results).toEqual(["a", "b", "c"]);
		expect(log).toEqual(["a start", "a end", "b start", "b end", "c start", "c end"]);
		await p.closeAll();
	});

	test("a capture waits for typing in progress on the same console rather than interleaving", async () => {
		const { opener, log } = recordingOpener();
		const p = pool(opener);
		const typing = p.use(
			handle,
			standaloneContext(),
			async () => {
				log.push("keys start");
				await Bun.sleep(30);
				log.push("keys end");
			},
			{ idempotent: false },
		);
		const shot = p.use(
			handle,
			standaloneContext(),
			async (s, c) => {
				log.push("capture");
				return s.capture(c);
			},
			{ share: "capture", idempotent: true },
		);
		await Promise.all([typing, shot]);
		expect(log).toEqual(["keys start", "keys end", "capture"]);
		await p.closeAll();
	});

	test("a non-idempotent operation that fails on a warm session is not run again", async () => {
		const { opener, opened } = recordingOpener();
		const p = pool(opener);
		await p.capture(handle, standaloneContext());
		let runs = 0;
		const error = await p
			.use(
				handle,
				standaloneContext(),
				async () => {
					runs++;
					throw new IkvmError("CONNECTION", "peer went away mid-sequence");
				},
				{ idempotent: false },
			)
			.catch((e) => e);
		expect(error.message).toContain("mid-sequence");
		expect(runs).toBe(1);
		expect(opened()).toBe(1);
		// The broken session was dropped: the next operation opens a fresh one.
		await p.capture(handle, standaloneContext());
		expect(opened()).toBe(2);
		await p.closeAll();
	});

	test("an idempotent operation that fails on a warm session runs once more on a fresh one", async () => {
		const { opener, opened } = recordingOpener();
		const p = pool(opener);
		await p.capture(handle, standaloneContext());
		let runs = 0;
		const value = await p.use(
			handle,
			standaloneContext(),
			async () => {
				runs++;
				if (runs === 1) throw new IkvmError("CONNECTION", "stale");
				return "ok";
			},
			{ idempotent: true },
		);
		expect(value).toBe("ok");
		expect(runs).toBe(2);
		expect(opened()).toBe(2);
		await p.closeAll();
	});

	test("isStale: a refused target is resolved afresh once; a second refusal is the answer", async () => {
		const { opener } = recordingOpener();
		const p = pool(opener);
		const fresh: boolean[] = [];
		let stale = 0;
		const refusing: ConsoleHandle = {
			key: "r",
			resolve: async (_ctx, f) => {
				fresh.push(f);
				return { kind: "fake", refuse: !f || fresh.length > 2 };
			},
			isStale: () => {
				stale++;
				return true;
			},
		};
		expect((await p.capture(refusing, standaloneContext())).width).toBe(64);
		expect(fresh).toEqual([false, true]);
		expect(stale).toBe(1);
		await p.closeAll();
	});

	test("a non-idempotent operation is retried on a fresh target only when it never started", async () => {
		const { opener } = recordingOpener();
		const p = pool(opener);
		let runs = 0;
		const refusedFirst: ConsoleHandle = {
			key: "n",
			resolve: async (_ctx, f) => ({ kind: "fake", refuse: !f }),
			isStale: () => true,
		};
		await p.use(
			refusedFirst,
			standaloneContext(),
			async () => {
				runs++;
			},
			{ idempotent: false },
		);
		expect(runs).toBe(1);
		await p.closeAll();
	});

	test("a caller whose deadline passes while queued behind another leaves at once", async () => {
		const { opener } = recordingOpener();
		const p = pool(opener);
		const slow = p.use(handle, standaloneContext(), () => Bun.sleep(200), { idempotent: false });
		const started = Date.now();
		const error = await p
			.use(handle, standaloneContext(AbortSignal.timeout(30)), async () => "never", { idempotent: false })
			.catch((e) => e);
		expect(Date.now() - started).toBeLessThan(150);
		expect(error.code).toBe("TIMEOUT");
		await slow;
		await p.closeAll();
	});

	test("no more sessions stay open than the console cap: opening another closes the longest-idle one", async () => {
		const { opener, opened } = recordingOpener();
		const p = new ConsolePool({
			opener,
			limits: { maxWidth: 64, maxHeight: 64 },
			idleMs: 10_000,
			maxConcurrent: 2,
			queueTimeoutMs: 1000,
		});
		const h = (key: string): ConsoleHandle => ({ key, resolve: async () => ({ kind: "fake" }) });
		await p.capture(h("a"), standaloneContext());
		await Bun.sleep(5);
		await p.capture(h("b"), standaloneContext());
		expect(p.openSessions).toBe(2);
		await p.capture(h("c"), standaloneContext());
		expect(p.openSessions).toBe(2);
		// "a" was the longest idle: it was closed, so using it again opens a session; "c" is still warm.
		await p.capture(h("c"), standaloneContext());
		expect(opened()).toBe(3);
		await p.capture(h("a"), standaloneContext());
		expect(opened()).toBe(4);
		expect(p.openSessions).toBe(2);
		await p.closeAll();
	});
});
