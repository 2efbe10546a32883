import { describe, expect, test } from "bun:test";
import { standaloneContext } from "../../src/call-context.ts";
import { ConsolePool } from "../../src/console/pool.ts";
import type { ConsoleHandle, ConsoleOpener, ConsoleSession } from "../../src/console/types.ts";

type TargetResolver = ConsoleHandle["resolve"];

import { IkvmError } from "../../src/errors.ts";
import { testFrame } from "../support/fake-provider.ts";

/** Sessions that count opens, captures and closes; captures take `delayMs`. */
function fakeOpener(delayMs = 20) {
	const stats = { opened: 0, closed: 0, captures: 0, failNext: false };
	const opener: ConsoleOpener = async (_target, ctx) => {
		stats.opened++;
		let closed = false;
		const session: ConsoleSession = {
			description: "fake",
			get closed() {
				return closed;
			},
			async capture(c) {
				stats.captures++;
				await new Promise<void>((resolve, reject) => {
					const t = setTimeout(resolve, delayMs);
					c.signal.addEventListener("abort", () => {
						clearTimeout(t);
						reject(c.signal.reason);
					});
				});
				if (stats.failNext) {
					stats.failNext = false;
					closed = true;
					throw new IkvmError("CONNECTION", "peer went away");
				}
				return testFrame();
			},
			async close() {
				if (!closed) stats.closed++;
				closed = true;
			},
		};
		ctx.progress("connect", "fake connect");
		return session;
	};
	return { opener, stats };
}

const target: TargetResolver = async () => ({ kind: "vnc", host: "127.0.0.1", port: 1 });

function pool(opener: ConsoleOpener, overrides: Partial<ConstructorParameters<typeof ConsolePool>[0]> = {}) {
	return new ConsolePool({
		opener,
		limits: { maxWidth: 8192, maxHeight: 8192 },
		idleMs: 1000,
		maxConcurrent: 4,
		queueTimeoutMs: 1000,
		...overrides,
	});
}

describe("ConsolePool", () => {
	test("a second capture reuses the warm session", async () => {
		const { opener, stats } = fakeOpener();
		const p = pool(opener);
		await p.capture({ key: "a", resolve: target }, standaloneContext());
		await p.capture({ key: "a", resolve: target }, standaloneContext());
		expect(stats.opened).toBe(1);
		expect(stats.captures).toBe(2);
		expect(p.openSessions).toBe(1);
		await p.closeAll();
		expect(stats.closed).toBe(1);
	});

	test("concurrent captures of one server share one capture", async () => {
		const { opener, stats } = fakeOpener(50);
		const p = pool(opener);
		const frames = await Promise.all(
			[1, 2, 3, 4, 5].map(() => p.capture({ key: "a", resolve: target }, standaloneContext())),
		);
		expect(frames.length).toBe(5);
		expect(stats.opened).toBe(1);
		expect(stats.captures).toBe(1);
		await p.closeAll();
	});

	test("an idle session is closed after idleMs", async () => {
		const { opener, stats } = fakeOpener(1);
		const p = pool(opener, { idleMs: 30 });
		await p.capture({ key: "a", resolve: target }, standaloneContext());
		await Bun.sleep(80);
		expect(stats.closed).toBe(1);
		expect(p.openSessions).toBe(0);
	});

	test("a failing warm session is replaced once, with fresh credentials", async () => {
		const { opener, stats } = fakeOpener(1);
		const fresh: boolean[] = [];
		const resolver: TargetResolver = async (_ctx, f) => {
			fresh.push(f);
			return { kind: "vnc", host: "127.0.0.1", port: 1 };
		};
		const p = pool(opener);
		await p.capture({ key: "a", resolve: resolver }, standaloneContext());
		stats.failNext = true;
		await p.capture({ key: "a", resolve: resolver }, standaloneContext());
		expect(stats.opened).toBe(2);
		expect(fresh).toEqual([false, true]);
		await p.closeAll();
	});

	test("captures beyond the cap queue, then fail BUSY after the bound", async () => {
		const { opener } = fakeOpener(200);
		const p = pool(opener, { maxConcurrent: 1, queueTimeoutMs: 50 });
		const first = p.capture({ key: "a", resolve: target }, standaloneContext());
		const second = p.capture({ key: "b", resolve: target }, standaloneContext());
		await expect(second).rejects.toMatchObject({ code: "BUSY" });
		await first;
		await p.closeAll();
	});

	test("different servers run in parallel up to the cap", async () => {
		const { opener, stats } = fakeOpener(60);
		const p = pool(opener, { maxConcurrent: 2 });
		const t0 = performance.now();
		await Promise.all(["a", "b"].map((k) => p.capture({ key: k, resolve: target }, standaloneContext())));
		expect(performance.now() - t0).toBeLessThan(110);
		expect(stats.opened).toBe(2);
		await p.closeAll();
	});

	test("cancelling the only waiter aborts the capture and closes the session", async () => {
		const { opener, stats } = fakeOpener(500);
		const p = pool(opener);
		const controller = new AbortController();
		const call = p.capture({ key: "a", resolve: target }, standaloneContext(controller.signal));
		await Bun.sleep(20);
		controller.abort();
		await expect(call).rejects.toMatchObject({ code: "CANCELLED" });
		await Bun.sleep(10);
		expect(p.openSessions).toBe(0);
		expect(stats.closed).toBe(1);
	});

	test("one waiter cancelling does not cancel the others", async () => {
		const { opener } = fakeOpener(80);
		const p = pool(opener);
		const controller = new AbortController();
		const a = p.capture({ key: "a", resolve: target }, standaloneContext(controller.signal));
		const b = p.capture({ key: "a", resolve: target }, standaloneContext());
		controller.abort();
		await expect(a).rejects.toMatchObject({ code: "CANCELLED" });
		expect((await b).width).toBe(64);
		await p.closeAll();
	});

	test("after closeAll new captures are refused", async () => {
		const { opener } = fakeOpener(1);
		const p = pool(opener);
		await p.closeAll();
		await expect(p.capture({ key: "a", resolve: target }, standaloneContext())).rejects.toMatchObject({ code: "BUSY" });
	});
});

describe("deadline errors name the stage", () => {
	test("a deadline during connect says the stage that ran out", async () => {
		const opener: ConsoleOpener = async (_t, ctx) => {
			ctx.progress("handshake", "shaking hands");
			await new Promise((_, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)));
			throw new Error("unreachable");
		};
		const p = pool(opener);
		const call = p.capture({ key: "a", resolve: target }, standaloneContext(AbortSignal.timeout(50)));
		await expect(call).rejects.toMatchObject({ code: "TIMEOUT", stage: "handshake" });
		await p.closeAll();
	});
});
