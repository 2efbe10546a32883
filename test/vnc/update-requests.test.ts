/**
 * Update requests as real servers expect them, and servers that abuse size changes:
 * TigerVNC answers the first request with an empty update; some servers stay silent
 * until the screen changes; a hostile one sends a storm of DesktopSize rectangles.
 * In every case the call ends within its deadline and the event loop keeps running.
 */
import { describe, expect, test } from "bun:test";
import { testPattern } from "../../src/demo/patterns.ts";
import { IkvmError } from "../../src/errors.ts";
import { captureVncFrame, createVncOpener } from "../../src/vnc/session.ts";
import { expectPixelExact, LIMITS, rfbServers, tcpTarget, testContext, wsTarget } from "../support/vnc.ts";

const IMAGE = testPattern(160, 100);
const serve = rfbServers(IMAGE);

/** The longest gap between ticks of a 10 ms timer while `run` runs: the event loop's responsiveness. */
function errorOf(result: unknown): IkvmError {
	if (result instanceof IkvmError) return result;
	throw new Error(`expected an IkvmError, got ${String(result)}`);
}

async function longestStall<T>(run: () => Promise<T>): Promise<{ result: T | Error; stallMs: number; ms: number }> {
	let last = performance.now();
	let stallMs = 0;
	const timer = setInterval(() => {
		const now = performance.now();
		stallMs = Math.max(stallMs, now - last);
		last = now;
	}, 10);
	const t0 = performance.now();
	let result: T | Error;
	try {
		result = await run();
	} catch (error) {
		result = error as Error;
	} finally {
		clearInterval(timer);
	}
	stallMs = Math.max(stallMs, performance.now() - last);
	return { result, stallMs, ms: performance.now() - t0 };
}

describe("update requests", () => {
	test("TigerVNC-style: an empty answer to the first request is followed by another request", async () => {
		const server = await serve({ encoding: "zrle", answer: "empty-first" });
		for (const target of [tcpTarget(server.tcpPort), wsTarget(server.wsUrl)]) {
			const t0 = performance.now();
			const frame = await captureVncFrame(target, testContext(), LIMITS);
			expectPixelExact(frame, IMAGE);
			// Answered by the next request at once, not by the quiet-period re-request.
			expect(performance.now() - t0).toBeLessThan(450);
		}
		expect(server.lastClient?.updateRequests).toBe(2);
	});

	test("a server that ignores the first request still gives a still screen in full", async () => {
		const server = await serve({ encoding: "hextile", answer: "ignore-first" });
		const frame = await captureVncFrame(tcpTarget(server.tcpPort), testContext(), LIMITS);
		expectPixelExact(frame, IMAGE);
		expect(server.lastClient?.updateRequests).toBeGreaterThanOrEqual(2);
	});

	test("a warm session asks again for every capture and counts each request once", async () => {
		const server = await serve({ encoding: "zrle" });
		const session = await createVncOpener()(tcpTarget(server.tcpPort), testContext(), LIMITS);
		try {
			for (let i = 0; i < 3; i++) expectPixelExact(await session.capture(testContext()), IMAGE);
		} finally {
			await session.close();
		}
		expect(server.lastClient?.updateRequests).toBe(3);
	});

	test("no busy loop: a server that answers every request at once with an empty update", async () => {
		const server = await serve({ answer: "always-empty" });
		const open = createVncOpener({ timeouts: { frameMs: 1500 } });
		const session = await open(tcpTarget(server.tcpPort), testContext(), LIMITS);
		const { result, ms } = await longestStall(() => session.capture(testContext()));
		await session.close();
		expect(errorOf(result)).toMatchObject({ code: "TIMEOUT", stage: "first-frame" });
		expect(ms).toBeLessThan(2500);
		// Backing off 20, 40, … 500 ms (plus the quiet-period full requests): a handful, not thousands.
		expect(server.lastClient?.updateRequests).toBeGreaterThanOrEqual(4);
		expect(server.lastClient?.updateRequests).toBeLessThanOrEqual(16);
	});

	test("no busy loop: a server that never sends pixels costs a request per 500 ms, and the deadline holds", async () => {
		const server = await serve({ stall: "frame" });
		const open = createVncOpener({ timeouts: { frameMs: 1600 } });
		const session = await open(tcpTarget(server.tcpPort), testContext(), LIMITS);
		const { result, ms } = await longestStall(() => session.capture(testContext()));
		await session.close();
		expect(errorOf(result)).toMatchObject({ code: "TIMEOUT", stage: "first-frame" });
		expect(ms).toBeLessThan(2500);
		expect(server.lastClient?.updateRequests).toBeGreaterThanOrEqual(2);
		expect(server.lastClient?.updateRequests).toBeLessThanOrEqual(5);
	});
});

/** A FramebufferUpdate of `sizes.length` DesktopSize rectangles. */
function desktopSizes(sizes: [number, number][]): Uint8Array {
	const m = new Uint8Array(4 + sizes.length * 12);
	const v = new DataView(m.buffer);
	v.setUint16(2, sizes.length);
	sizes.forEach(([w, h], i) => {
		v.setUint16(4 + i * 12 + 4, w);
		v.setUint16(4 + i * 12 + 6, h);
		v.setInt32(4 + i * 12 + 8, -223);
	});
	return m;
}

describe("DesktopSize storms (issue 21)", () => {
	test("65,535 size changes in one update: refused at once, the event loop never stalls", async () => {
		const sizes: [number, number][] = [];
		for (let i = 0; i < 65535; i++) sizes.push(i % 2 ? [4096, 2160] : [4095, 2159]);
		const server = await serve({ inject: desktopSizes(sizes) });
		const { result, stallMs, ms } = await longestStall(() =>
			captureVncFrame(tcpTarget(server.tcpPort), testContext(5000), { maxWidth: 4096, maxHeight: 2160 }),
		);
		expect(errorOf(result)).toMatchObject({ code: "PROTOCOL" });
		expect((result as Error).message).toContain("more than 16 times in one framebuffer update");
		expect(ms).toBeLessThan(2000);
		expect(stallMs).toBeLessThan(250);
	});

	test("thousands of updates of one size change each: timers keep firing and the frame deadline holds", async () => {
		const updates: Uint8Array[] = [];
		for (let i = 0; i < 3000; i++) updates.push(desktopSizes([i % 2 ? [4096, 2160] : [4095, 2159]]));
		const server = await serve({ inject: Buffer.concat(updates) });
		const open = createVncOpener({ timeouts: { frameMs: 1500 } });
		const { result, stallMs, ms } = await longestStall(async () => {
			const session = await open(tcpTarget(server.tcpPort), testContext(8000), {
				maxWidth: 4096,
				maxHeight: 2160,
			});
			try {
				return await session.capture(testContext(8000));
			} finally {
				await session.close();
			}
		});
		// Either the storm ends and the real picture arrives, or the deadline cuts it: never later.
		if (result instanceof Error) expect(errorOf(result)).toMatchObject({ code: "TIMEOUT", stage: "first-frame" });
		else expectPixelExact(result, IMAGE);
		expect(ms).toBeLessThan(3500);
		expect(stallMs).toBeLessThan(300);
	}, 15_000);
});
