import { afterEach, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { type AmiOpenerOptions, createAmiOpener } from "../../src/ami/session.ts";
import type { CallContext } from "../../src/call-context.ts";
import { standaloneContext } from "../../src/call-context.ts";
import { ConsolePool } from "../../src/console/pool.ts";
import type { ConsoleTarget } from "../../src/console/types.ts";
import { IkvmError, type Stage } from "../../src/errors.ts";
import { MockBmc, type MockBmcOptions, mockBmcLogin } from "../mocks/bmc.ts";
import { solidColourDecoder } from "../support/fake-decoder.ts";
import { failure } from "../support/ikvm-error.ts";
import { videoFrame } from "../support/video-frame.ts";

const LIMITS = { maxWidth: 4096, maxHeight: 4096 };
let cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
	for (const c of cleanup.reverse()) await c();
	cleanup = [];
});

/** Frames of a solid colour that changes with each request: [request, 100, 200]. */
const colourFrames: MockBmcOptions["frames"] = ({ request }) =>
	videoFrame(64, 48, new Uint8Array([request & 0xff, 100, 200, 0, 0, 0, 0, 0]));

async function mock(options: Partial<MockBmcOptions> = {}): Promise<MockBmc> {
	const bmc = await new MockBmc({ frames: colourFrames, ...options }).start();
	cleanup.push(() => bmc.stop());
	return bmc;
}

function opener(options: AmiOpenerOptions = {}) {
	const decoder = solidColourDecoder();
	return { open: createAmiOpener({ decoder: decoder.factory, keepAliveMs: 0, ...options }), decoded: decoder.decoded };
}

const viewer = (bmc: MockBmc): ConsoleTarget => ({
	kind: "ami-viewer",
	viewerUrl: bmc.viewerUrl(),
	tls: { insecure: true },
});

function tracking(): CallContext & { stages: Stage[] } {
	const stages: Stage[] = [];
	return { signal: new AbortController().signal, progress: (stage) => stages.push(stage), stages };
}

async function openSession(
	open: ReturnType<typeof opener>["open"],
	target: ConsoleTarget,
	ctx: CallContext = standaloneContext(),
) {
	const session = await open(target, ctx, LIMITS);
	cleanup.push(() => session.close());
	return session;
}

/** The mock counts a WebSocket as closed once its close handshake has run. */
async function settled(check: () => boolean, ms = 1000): Promise<void> {
	const until = performance.now() + ms;
	while (!check() && performance.now() < until) await Bun.sleep(5);
}

describe("AMI console session", () => {
	test("viewer URL → frame, progress per stage; a warm capture costs one GET_FULL_SCREEN; close leaves nothing open", async () => {
		const bmc = await mock();
		const { open } = opener();
		const ctx = tracking();
		const session = await openSession(open, viewer(bmc), ctx);
		const first = await session.capture(ctx);
		expect([first.width, first.height]).toEqual([64, 48]);
		expect([...first.rgba.subarray(0, 4)]).toEqual([1, 100, 200, 255]);
		expect(ctx.stages).toEqual(["bmc-login", "bmc-login", "ws-connect", "handshake", "first-frame"]);
		expect(bmc.stats.validateFlags).toEqual([0]);
		expect(bmc.stats.fullScreenRequests).toBe(1);

		const second = await session.capture(standaloneContext());
		expect(second.rgba[0]).toBe(2);
		expect(bmc.stats.fullScreenRequests).toBe(2);
		expect(bmc.stats.kvmConnections).toBe(1);
		expect(bmc.stats.kvmTokensIssued).toBe(1);

		await session.close();
		expect(session.closed).toBe(true);
		await settled(() => bmc.stats.kvmOpen === 0);
		expect(bmc.stats.kvmOpen).toBe(0);
		expect(bmc.stats.kvmSessions).toBe(0);
		await expect(session.capture(standaloneContext())).rejects.toMatchObject({ code: "CONNECTION" });
	});

	test("direct login: captures, then close() logs out (DELETE /api/session)", async () => {
		const bmc = await mock();
		const { open } = opener();
		const session = await openSession(open, mockBmcLogin(bmc));
		expect((await session.capture(standaloneContext())).width).toBe(64);
		expect(bmc.stats.logins).toBe(1);
		expect(bmc.stats.webSessions).toBe(1);
		await session.close();
		await session.close();
		expect(bmc.stats.logouts).toBe(1);
		expect(bmc.stats.webSessions).toBe(0);
		await settled(() => bmc.stats.kvmOpen === 0);
		expect(bmc.stats.kvmOpen).toBe(0);
	});

	for (const subprotocol of ["binary", "base64", "none"] as const) {
		test(`frames survive arbitrary fragmentation and WebSocket splits (${subprotocol})`, async () => {
			const data = new Uint8Array(5000).map((_, i) => (i * 7) & 0xff);
			data.set([42, 43, 44]);
			const bmc = await mock({
				subprotocol,
				wsChunking: "random",
				fragmentBytes: [1, 700],
				seed: 7,
				frames: () => videoFrame(320, 200, data),
			});
			const { open, decoded } = opener();
			const session = await openSession(open, viewer(bmc));
			for (let i = 0; i < 3; i++) {
				const frame = await session.capture(standaloneContext());
				expect([frame.width, frame.height, frame.rgba[0], frame.rgba[1], frame.rgba[2]]).toEqual([
					320, 200, 42, 43, 44,
				]);
			}
			expect(decoded()).toBe(3);
		});
	}

	test("packed messages: the whole handshake answer and frame in one WebSocket frame", async () => {
		const bmc = await mock({ wsChunking: "coalesce", fragmentBytes: 64 });
		const { open } = opener();
		const session = await openSession(open, viewer(bmc));
		expect((await session.capture(standaloneContext())).rgba[0]).toBe(1);
	});

	test("a capture waits for a frame begun after its request, while pushed updates keep arriving", async () => {
		const bmc = await mock({ pushFramesEveryMs: 5, frameDelayMs: 1 });
		const { open, decoded } = opener();
		const session = await openSession(open, viewer(bmc));
		await session.capture(standaloneContext());
		await Bun.sleep(50);
		const before = decoded();
		expect(before).toBeGreaterThan(2);
		const frame = await session.capture(standaloneContext());
		// Pushed frames carry request 0; the answer to the second GET_FULL_SCREEN carries 2 (or a later push).
		expect(decoded()).toBeGreaterThan(before);
		expect([0, 2]).toContain(frame.rgba[0] as number);
	});

	test("keep-alives are sent while the session is idle", async () => {
		const bmc = await mock();
		const { open } = opener({ keepAliveMs: 20 });
		const session = await openSession(open, viewer(bmc));
		await session.capture(standaloneContext());
		await Bun.sleep(90);
		expect(bmc.stats.keepAlives).toBeGreaterThanOrEqual(2);
	});
});

describe("failures give clear messages and leave nothing open", () => {
	async function expectClean(bmc: MockBmc) {
		await settled(() => bmc.stats.kvmOpen === 0 && bmc.stats.webSessions === 0);
		expect(bmc.stats.kvmOpen).toBe(0);
		expect(bmc.stats.webSessions).toBe(0);
	}

	test("session rejected at validation", async () => {
		const bmc = await mock({ validation: 0 });
		const error = await failure(opener().open(mockBmcLogin(bmc), standaloneContext(), LIMITS));
		expect(error).toMatchObject({ code: "AUTH_FAILED", stage: "handshake" });
		expect(error.message).toMatch(/session rejected/);
		expect(bmc.stats.logouts).toBe(1);
		await expectClean(bmc);
	});

	test("server powered off", async () => {
		const bmc = await mock({ poweredOn: false });
		const error = await failure(opener().open(viewer(bmc), standaloneContext(), LIMITS));
		expect(error).toMatchObject({ code: "POWERED_OFF", stage: "handshake" });
		expect(error.toUserMessage()).toMatch(/server is powered off.*\[stage: handshake\].*Power the server on/);
		await expectClean(bmc);
	});

	test("a warm session whose server is switched off reports it on the next capture", async () => {
		const bmc = await mock();
		const session = await openSession(opener().open, viewer(bmc));
		await session.capture(standaloneContext());
		bmc.options.poweredOn = false;
		bmc.dropKvmConnections();
		await settled(() => session.closed);
		const error = await failure(session.capture(standaloneContext()));
		expect(error.code).toBe("CONNECTION");
		const fresh = await failure(opener().open(viewer(bmc), standaloneContext(), LIMITS));
		expect(fresh.code).toBe("POWERED_OFF");
	});

	test("BMC busy: maximum KVM sessions reached", async () => {
		const bmc = await mock({ maxKvmSessions: 1 });
		const { open } = opener();
		const first = await openSession(open, viewer(bmc));
		const error = await failure(open(mockBmcLogin(bmc), standaloneContext(), LIMITS));
		expect(error).toMatchObject({ code: "BUSY", stage: "handshake", retryable: true });
		expect(error.message).toMatch(/maximum number of KVM sessions/);
		expect(bmc.stats.logouts).toBe(1);
		await first.close();
		await expectClean(bmc);
	});

	test("blank screen: no video signal", async () => {
		const bmc = await mock({ blankScreen: true });
		const session = await openSession(opener().open, viewer(bmc));
		const error = await failure(session.capture(standaloneContext()));
		expect(error).toMatchObject({ code: "UPSTREAM", stage: "first-frame" });
		expect(error.message).toMatch(/blank screen/);
	});

	test("the peer closes in the middle of a frame", async () => {
		const bmc = await mock({
			closeMidFrame: 1,
			fragmentBytes: 100,
			frames: () => videoFrame(64, 48, new Uint8Array(3000)),
		});
		const session = await openSession(opener().open, viewer(bmc));
		const error = await failure(session.capture(standaloneContext()));
		expect(error).toMatchObject({ code: "CONNECTION", stage: "first-frame" });
		expect(error.message).toMatch(/closed the KVM connection in the middle of a video frame \(\d+ of 3000 bytes\)/);
		expect(session.closed).toBe(true);
		await expectClean(bmc);
	});

	test("the BMC closes the WebSocket during the handshake (session expired)", async () => {
		const bmc = await mock();
		const ctx: CallContext = {
			signal: new AbortController().signal,
			progress: (stage) => {
				if (stage === "ws-connect") bmc.expireViewerUrls();
			},
		};
		const error = await failure(opener().open(viewer(bmc), ctx, LIMITS));
		expect(error).toMatchObject({ code: "CONNECTION", stage: "handshake" });
		expect(error.message).toMatch(/closed the KVM connection during the handshake \(code 1008\)/);
		await expectClean(bmc);
	});

	test("a frame larger than the limits is refused", async () => {
		const bmc = await mock({ frames: () => videoFrame(5000, 100) });
		const session = await openSession(opener().open, viewer(bmc));
		const error = await failure(session.capture(standaloneContext()));
		expect(error).toMatchObject({ code: "TOO_LARGE", stage: "first-frame" });
	});

	test("a frame the decoder cannot decode is a decode error", async () => {
		const bmc = await mock({ frames: () => videoFrame(16, 16, new Uint8Array(0)) });
		const session = await openSession(opener().open, viewer(bmc));
		const error = await failure(session.capture(standaloneContext()));
		expect(error).toMatchObject({ code: "PROTOCOL", stage: "decode" });
		expect(error.message).toMatch(/Could not decode the BMC's 16x16 video frame/);
	});

	const short = { request: 2000, wsConnect: 150, handshake: 150, frame: 150, close: 200 };
	for (const [stall, stage] of [
		["ws-upgrade", "ws-connect"],
		["allowed", "handshake"],
		["validation", "handshake"],
		["power", "handshake"],
	] as const) {
		test(`a BMC that stalls at ${stall} times out in stage ${stage}`, async () => {
			const bmc = await mock({ stall });
			const t0 = performance.now();
			const error = await failure(opener({ timeouts: short }).open(mockBmcLogin(bmc), standaloneContext(), LIMITS));
			expect(performance.now() - t0).toBeLessThan(1500);
			expect(error).toMatchObject({ code: "TIMEOUT", stage });
			expect(error.toUserMessage()).toContain(`[stage: ${stage}]`);
			expect(bmc.stats.logouts).toBe(1);
			await expectClean(bmc);
		});
	}

	test("no frame in time: times out in stage first-frame and drops the stalled session", async () => {
		const bmc = await mock({ stall: "frame" });
		const session = await openSession(opener({ timeouts: short }).open, mockBmcLogin(bmc));
		const error = await failure(session.capture(standaloneContext()));
		expect(error).toMatchObject({ code: "TIMEOUT", stage: "first-frame" });
		expect(error.message).toMatch(/No complete video frame/);
		await settled(() => session.closed && bmc.stats.logouts === 1);
		expect(session.closed).toBe(true);
		await expectClean(bmc);
	});

	test("the caller's cancellation during the handshake stops it and cleans up", async () => {
		const bmc = await mock({ stall: "power" });
		const controller = new AbortController();
		const ctx: CallContext = {
			signal: controller.signal,
			progress: (stage) => {
				if (stage === "handshake") setTimeout(() => controller.abort(), 30);
			},
		};
		const error = await failure(opener().open(mockBmcLogin(bmc), ctx, LIMITS));
		expect(error).toMatchObject({ code: "CANCELLED", stage: "handshake" });
		await expectClean(bmc);
	});

	test("garbage from the BMC on a live session ends in a typed error or a frame, never a hang", async () => {
		const bmc = await mock({ seed: 11 });
		const { open } = opener({ timeouts: { frame: 250 } });
		await fc.assert(
			fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 2000 }), async (garbage) => {
				const session = await open(viewer(bmc), standaloneContext(), LIMITS);
				try {
					await session.capture(standaloneContext());
					bmc.sendRawToKvm(garbage);
					const t0 = performance.now();
					try {
						const frame = await session.capture(standaloneContext());
						expect(frame.width).toBe(64);
					} catch (error) {
						expect(error).toBeInstanceOf(IkvmError);
					}
					expect(performance.now() - t0).toBeLessThan(1500);
				} finally {
					await session.close();
				}
			}),
			{ numRuns: 15 },
		);
		await settled(() => bmc.stats.kvmOpen === 0);
		expect(bmc.stats.kvmOpen).toBe(0);
	});

	test("wrong password through the opener", async () => {
		const bmc = await mock();
		const error = await failure(opener().open(mockBmcLogin(bmc, "nope-nope"), standaloneContext(), LIMITS));
		expect(error).toMatchObject({ code: "AUTH_FAILED", stage: "bmc-login" });
		expect(error.message).toMatch(/wrong username or password/);
	});
});

describe("with the ConsolePool", () => {
	test("a warm session is reused, a dropped one replaced with fresh credentials, and shutdown closes everything", async () => {
		const bmc = await mock();
		const { open } = opener();
		const pool = new ConsolePool({
			opener: open,
			limits: LIMITS,
			idleMs: 5000,
			maxConcurrent: 2,
			queueTimeoutMs: 1000,
		});
		const fresh: boolean[] = [];
		const resolve = async (_ctx: CallContext, f: boolean): Promise<ConsoleTarget> => {
			fresh.push(f);
			return viewer(bmc);
		};
		await pool.capture({ key: "srv", resolve: resolve }, standaloneContext());
		await pool.capture({ key: "srv", resolve: resolve }, standaloneContext());
		expect(bmc.stats.kvmConnections).toBe(1);
		expect(bmc.stats.fullScreenRequests).toBe(2);

		bmc.dropKvmConnections();
		await settled(() => bmc.stats.kvmOpen === 0);
		const frame = await pool.capture({ key: "srv", resolve: resolve }, standaloneContext());
		expect(frame.width).toBe(64);
		expect(fresh).toEqual([false, true]);
		expect(bmc.stats.kvmConnections).toBe(2);

		await pool.closeAll();
		await settled(() => bmc.stats.kvmOpen === 0);
		expect(bmc.stats.kvmOpen).toBe(0);
	});

	test("direct-login sessions are logged out when the pool closes them on idle", async () => {
		const bmc = await mock();
		const pool = new ConsolePool({
			opener: opener().open,
			limits: LIMITS,
			idleMs: 50,
			maxConcurrent: 2,
			queueTimeoutMs: 1000,
		});
		await pool.capture({ key: "srv", resolve: async () => mockBmcLogin(bmc) }, standaloneContext());
		expect(bmc.stats.webSessions).toBe(1);
		await settled(() => bmc.stats.logouts === 1, 2000);
		expect(bmc.stats.webSessions).toBe(0);
		await settled(() => bmc.stats.kvmOpen === 0);
		expect(bmc.stats.kvmOpen).toBe(0);
		await pool.closeAll();
	});
});
