/**
 * Property-based fuzzing (fast-check) of what a VNC server can send: random,
 * truncated and oversized server messages (65535x65535 ServerInit and
 * rectangles, huge ServerCutText lengths, bogus encodings), fed to the RFB
 * state machine directly and through a real socket from the RFB test server.
 * The client answers with a frame or a typed error, in bounded time, and never
 * holds a framebuffer beyond its limits.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import zlib from "node:zlib";
import fc from "fast-check";
import sharp from "sharp";
import { standaloneContext } from "../../src/call-context.ts";
import type { ConsoleLimits } from "../../src/console/types.ts";
import { testPattern } from "../../src/demo/patterns.ts";
import { type RfbServerOptions, type RfbTestServer, startRfbServer } from "../../src/demo/rfb-server.ts";
import { IkvmError } from "../../src/errors.ts";
import { RfbClient } from "../../src/vnc/rfb-client.ts";
import { captureVncFrame } from "../../src/vnc/session.ts";
import { expectPixelExact, tcpTarget, wsTarget } from "../support/vnc.ts";

const LIMIT = 64;
const LIMITS: ConsoleLimits = { maxWidth: LIMIT, maxHeight: LIMIT };

const enc = (s: string) => [...new TextEncoder().encode(s)];
const u16 = (v: number) => [(v >> 8) & 255, v & 255];
const u32 = (v: number) => [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];

function serverInit(width: number, height: number): number[] {
	const pf = [32, 24, 0, 1, ...u16(255), ...u16(255), ...u16(255), 16, 8, 0, 0, 0, 0];
	return [...u16(width), ...u16(height), ...pf, ...u32(4), ...enc("fuzz")];
}

/** Version 3.8, security None, SecurityResult OK: the bytes before ServerInit. */
const PRELUDE = [...enc("RFB 003.008\n"), 1, 1, ...u32(0)];

// ---------------------------------------------------------------- arbitraries

const dim = fc.oneof(
	{ weight: 6, arbitrary: fc.integer({ min: 1, max: 40 }) },
	{ weight: 1, arbitrary: fc.constantFrom(0, LIMIT, LIMIT + 1, 8193, 32768, 65535) },
);
const coord = fc.oneof(
	{ weight: 6, arbitrary: fc.integer({ min: 0, max: 40 }) },
	{ weight: 1, arbitrary: fc.constantFrom(LIMIT, 65535) },
);
const encoding = fc.oneof(
	{ weight: 6, arbitrary: fc.constantFrom(0, 1, 5, 6, 7, 16, -260, -223, -224, -232, -239, -307, -308, -314) },
	// Bogus: encodings never asked for (RRE, TRLE, zlibhex, a compression level, random numbers).
	{ weight: 1, arbitrary: fc.oneof(fc.constantFrom(2, 8, 15, -257), fc.integer()) },
);

const rect = fc
	.record({
		x: coord,
		y: coord,
		w: dim,
		h: dim,
		encoding,
		payload: fc.uint8Array({ maxLength: 400 }),
		/** Give Raw rectangles exactly their pixel bytes, so some updates are well formed. */
		exact: fc.boolean(),
		zrleLength: fc.oneof(fc.nat(400), fc.constantFrom(0xffffffff, 0x7fffffff)),
	})
	.map((r) => {
		const header = [...u16(r.x), ...u16(r.y), ...u16(r.w), ...u16(r.h), ...u32(r.encoding >>> 0)];
		if (r.encoding === 0 && r.exact && r.w * r.h <= 40 * 40) return [...header, ...new Uint8Array(r.w * r.h * 4)];
		if (r.encoding === 16) return [...header, ...u32(r.zrleLength), ...r.payload];
		return [...header, ...r.payload];
	});

const message = fc.oneof(
	{
		weight: 5,
		arbitrary: fc
			.record({ rects: fc.array(rect, { maxLength: 4 }), count: fc.option(fc.constantFrom(0, 65535)) })
			.map(({ rects, count }) => [0, 0, ...u16(count ?? rects.length), ...rects.flat()]),
	},
	{
		weight: 1,
		arbitrary: fc
			.record({
				first: fc.nat(65535),
				count: fc.oneof(fc.nat(8), fc.constant(65535)),
				bytes: fc.uint8Array({ maxLength: 60 }),
			})
			.map(({ first, count, bytes }) => [1, 0, ...u16(first), ...u16(count), ...bytes]),
	},
	{ weight: 1, arbitrary: fc.constant([2]) },
	{
		weight: 2,
		arbitrary: fc
			.record({
				length: fc.oneof(fc.nat(40), fc.constantFrom(16 * 1024 * 1024, 16 * 1024 * 1024 + 1, 0xffffffff)),
				text: fc.string({ maxLength: 40 }),
			})
			.map(({ length, text }) => [3, 0, 0, 0, ...u32(length), ...enc(text).slice(0, length)]),
	},
	{
		weight: 1,
		arbitrary: fc.tuple(fc.integer({ min: 4, max: 255 }), fc.uint8Array({ maxLength: 20 })).map(([t, b]) => [t, ...b]),
	},
	{ weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }).map((b) => [...b]) },
);

const messages = fc.array(message, { maxLength: 8 }).map((m) => m.flat());

/** Splits bytes at the given cut points (taken modulo the length). */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
	const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
	const out: Uint8Array[] = [];
	let at = 0;
	for (const p of [...points, bytes.length]) {
		out.push(bytes.subarray(at, p));
		at = p;
	}
	return out;
}

function expectClearError(error: unknown): IkvmError {
	if (!(error instanceof IkvmError)) throw new Error(`not an IkvmError: ${String(error)}`);
	expect(error.message.length).toBeGreaterThan(15);
	expect(error.stage).toBeDefined();
	return error;
}

// ---------------------------------------------------------------- state machine

describe("the RFB state machine fed fuzzed server messages", () => {
	test("random, truncated and oversized messages: a typed error or nothing, never a framebuffer past the limits", () => {
		const rssBefore = process.memoryUsage().rss;
		let errors = 0;
		fc.assert(
			fc.property(
				dim,
				dim,
				messages,
				fc.option(fc.nat()),
				fc.array(fc.nat(), { maxLength: 12 }),
				(width, height, body, truncateAt, cuts) => {
					let stream = Uint8Array.from([...PRELUDE, ...serverInit(width, height), ...body]);
					if (truncateAt !== null) stream = stream.subarray(0, truncateAt % (stream.length + 1));
					const client = new RfbClient({ limits: LIMITS }, { send: () => {}, ready: () => {}, updateEnd: () => {} });
					let failed: IkvmError | undefined;
					for (const chunk of split(stream, cuts)) {
						try {
							client.receive(chunk);
						} catch (error) {
							// After the first error the client ignores everything, so there is never a second.
							expect(failed).toBeUndefined();
							failed = expectClearError(error);
							expect(["PROTOCOL", "TOO_LARGE"]).toContain(failed.code);
							errors++;
						}
						const fb = client.framebuffer;
						if (fb) {
							expect(fb.width).toBeLessThanOrEqual(LIMIT);
							expect(fb.height).toBeLessThanOrEqual(LIMIT);
							expect(fb.rgba.length).toBe(fb.width * fb.height * 4);
						}
					}
					const initFed = stream.length >= PRELUDE.length + 28;
					const refused = width === 0 || height === 0 ? "PROTOCOL" : width > LIMIT || height > LIMIT ? "TOO_LARGE" : "";
					if (initFed && refused) expect(failed?.code ?? "no error").toBe(refused);
				},
			),
			{ numRuns: 3000 },
		);
		expect(errors).toBeGreaterThan(100);
		expect(process.memoryUsage().rss - rssBefore).toBeLessThan(256 * 1024 * 1024);
	});

	test("oversized values are refused as soon as their header is complete, before any payload", () => {
		const start = () => {
			const client = new RfbClient({ limits: LIMITS }, { send: () => {}, ready: () => {}, updateEnd: () => {} });
			client.receive(Uint8Array.from([...PRELUDE, ...serverInit(32, 32)]));
			return client;
		};
		const refusal = (bytes: number[]) => {
			try {
				start().receive(Uint8Array.from(bytes));
			} catch (error) {
				return expectClearError(error).message;
			}
			return "accepted";
		};
		const rectHeader = (w: number, h: number, e: number) => [
			0,
			0,
			...u16(1),
			0,
			0,
			0,
			0,
			...u16(w),
			...u16(h),
			...u32(e >>> 0),
		];
		expect(refusal(rectHeader(65535, 65535, 0))).toContain("65535x65535+0+0 rectangle outside the 32x32 framebuffer");
		expect(refusal(rectHeader(65535, 65535, -223))).toContain("65535x65535, larger than the allowed 64x64");
		expect(refusal([...rectHeader(65535, 65535, -308), 1, 0, 0, 0, ...new Array(16).fill(0)])).toContain(
			"larger than the allowed 64x64",
		);
		expect(refusal([...rectHeader(8, 8, 16), ...u32(0xffffffff)])).toContain("claims 4294967295 bytes");
		expect(refusal([...rectHeader(8, 8, 2)])).toContain("RRE, which this client did not ask for");
		expect(refusal([3, 0, 0, 0, ...u32(0xffffffff)])).toContain("clipboard message of 4294967295 bytes");
		const init = new RfbClient({ limits: LIMITS }, { send: () => {}, ready: () => {}, updateEnd: () => {} });
		expect(() => init.receive(Uint8Array.from([...PRELUDE, ...serverInit(65535, 65535)]))).toThrow(
			"The VNC framebuffer is 65535x65535, larger than the allowed 64x64.",
		);
	});
});

// ---------------------------------------------------------------- Tight, TightPNG, ZLIB, cursor and name decoders

describe("the new decoders fed fuzzed rectangles (Tight, TightPNG, ZLIB, Cursor, Cursor With Alpha, DesktopName)", () => {
	const zlibOf = (b: Uint8Array) => [...zlib.deflateSync(b, { finishFlush: zlib.constants.Z_SYNC_FLUSH })];
	const compact = (n: number) =>
		n < 0x80 ? [n] : n < 0x4000 ? [(n & 0x7f) | 0x80, n >> 7] : [(n & 0x7f) | 0x80, ((n >> 7) & 0x7f) | 0x80, n >> 14];
	let images: number[][] = [];
	beforeAll(async () => {
		const rgb = new Uint8Array(8 * 6 * 3).map((_, i) => (i * 37) & 255);
		const raw = { raw: { width: 8, height: 6, channels: 3 as const } };
		const jpeg = [...(await sharp(rgb, raw).jpeg({ quality: 80 }).toBuffer())];
		const png = [...(await sharp(rgb, raw).png().toBuffer())];
		// Real images of the right (8x6) and wrong sizes, truncated ones, and a header claiming 65500x65500.
		const big = [
			...(await sharp({ create: { width: 64, height: 64, channels: 3, background: "#123456" } })
				.jpeg()
				.toBuffer()),
		];
		const huge = [...jpeg];
		const sof = huge.findIndex((b, i) => b === 0xff && huge[i + 1] === 0xc0);
		if (sof > 0) huge.splice(sof + 5, 4, 0xff, 0xdc, 0xff, 0xdc);
		images = [jpeg, png, big, huge, jpeg.slice(0, jpeg.length >> 1), png.slice(0, 40)];
	});

	const payload = fc.oneof(
		fc.uint8Array({ maxLength: 300 }).map((b) => ({ kind: "random" as const, b })),
		fc
			.record({
				control: fc.nat(255),
				data: fc.uint8Array({ maxLength: 400 }),
				filter: fc.nat(3),
				colours: fc.nat(255),
			})
			.map((r) => ({ kind: "tight-basic" as const, ...r })),
		fc
			.record({ image: fc.nat(5), png: fc.boolean(), resets: fc.nat(15) })
			.map((r) => ({ kind: "tight-image" as const, ...r })),
		fc
			.record({ data: fc.uint8Array({ maxLength: 400 }), fill: fc.boolean() })
			.map((r) => ({ kind: "zlib" as const, ...r })),
	);
	const newRect = fc.record({
		x: fc.nat(12),
		y: fc.nat(8),
		w: fc.oneof(fc.integer({ min: 0, max: 12 }), fc.constant(8)),
		h: fc.oneof(fc.integer({ min: 0, max: 8 }), fc.constant(6)),
		encoding: fc.constantFrom(7, -260, 6, -239, -314, -307),
		payload,
	});

	type NewRect = typeof newRect extends fc.Arbitrary<infer T> ? T : never;
	function body(r: NewRect): number[] {
		const header = [...u16(r.x), ...u16(r.y), ...u16(r.w), ...u16(r.h), ...u32(r.encoding >>> 0)];
		const p = r.payload;
		switch (p.kind) {
			case "random":
				return [...header, ...p.b];
			case "tight-basic": {
				const withFilter = p.control & 0x40;
				const head = [p.control & 0x7f, ...(withFilter ? [p.filter] : [])];
				if (withFilter && p.filter === 1) head.push(p.colours, ...new Array(((p.colours % 256) + 1) * 3).fill(7));
				const z = zlibOf(p.data);
				return [...header, ...head, ...compact(z.length), ...z];
			}
			case "tight-image": {
				const image = images[p.image] as number[];
				return [...header, (p.png ? 0xa0 : 0x90) | p.resets, ...compact(image.length), ...image];
			}
			case "zlib": {
				const data = p.fill ? new Uint8Array(r.w * r.h * 4).fill(9) : p.data;
				const z = zlibOf(data);
				return [...header, ...u32(z.length), ...z];
			}
		}
	}

	test("only typed errors, each at most once, in bounded time and memory, even for asynchronous JPEG/PNG", async () => {
		const rssBefore = process.memoryUsage().rss;
		const outcome = { errors: 0, painted: 0 };
		await fc.assert(
			fc.asyncProperty(
				fc.array(newRect, { minLength: 1, maxLength: 3 }),
				fc.array(fc.nat(), { maxLength: 6 }),
				async (rects, cuts) => {
					const stream = Uint8Array.from([
						...PRELUDE,
						...serverInit(24, 16),
						0,
						0,
						...u16(rects.length),
						...rects.flatMap(body),
					]);
					const errors: unknown[] = [];
					let updates = 0;
					const client = new RfbClient(
						{ limits: LIMITS },
						{ send: () => {}, ready: () => {}, updateEnd: () => updates++, error: (e) => errors.push(e) },
					);
					const started = performance.now();
					for (const chunk of split(stream, cuts)) {
						try {
							client.receive(chunk);
						} catch (error) {
							errors.push(error);
						}
						await Bun.sleep(0);
					}
					await client.idle();
					expect(performance.now() - started).toBeLessThan(2000);
					expect(errors.length).toBeLessThanOrEqual(1);
					for (const e of errors) {
						expect(["PROTOCOL", "TOO_LARGE"]).toContain(expectClearError(e).code);
						outcome.errors++;
					}
					if (updates > 0) outcome.painted++;
				},
			),
			{ numRuns: 400 },
		);
		expect(outcome.errors).toBeGreaterThan(20);
		expect(outcome.painted).toBeGreaterThan(5);
		expect(process.memoryUsage().rss - rssBefore).toBeLessThan(256 * 1024 * 1024);
	}, 60_000);
});

// ---------------------------------------------------------------- real sockets

describe("fuzzed server messages through a real socket (RFB test server `inject`)", () => {
	const image = testPattern(32, 24);
	const options: RfbServerOptions = { image, encoding: "hextile" };
	let server: RfbTestServer;
	beforeAll(async () => {
		server = await startRfbServer(options);
	});
	afterAll(async () => {
		await server.close();
	});
	const timeouts = { connectMs: 1000, handshakeMs: 1000, frameMs: 250 };

	test("each capture ends with a frame or a clear error within its time limits, and the connection is closed", async () => {
		const outcomes = { frames: 0, errors: 0 };
		await fc.assert(
			fc.asyncProperty(
				fc.option(fc.record({ width: dim, height: dim })),
				messages,
				fc.boolean(),
				async (initialSize, inject, overWs) => {
					options.initialSize = initialSize ?? undefined;
					options.inject = Uint8Array.from(inject);
					const target = overWs ? wsTarget(server.wsUrl) : tcpTarget(server.tcpPort);
					const started = performance.now();
					try {
						const frame = await captureVncFrame(target, standaloneContext(AbortSignal.timeout(5000)), LIMITS, {
							timeouts,
						});
						expect(frame.width).toBeLessThanOrEqual(LIMIT);
						expect(frame.height).toBeLessThanOrEqual(LIMIT);
						outcomes.frames++;
					} catch (error) {
						expectClearError(error);
						outcomes.errors++;
					}
					expect(performance.now() - started).toBeLessThan(timeouts.handshakeMs + timeouts.frameMs + 1000);
					const until = performance.now() + 1000;
					while (server.openConnections > 0 && performance.now() < until) await Bun.sleep(5);
					expect(server.openConnections).toBe(0);
				},
			),
			{ numRuns: 40 },
		);
		expect(outcomes.errors).toBeGreaterThan(0);
		expect(outcomes.frames).toBeGreaterThan(0);
	}, 60_000);

	test("a 65535x65535 ServerInit over the wire is refused before allocation, and the next capture works", async () => {
		options.inject = undefined;
		options.initialSize = { width: 65535, height: 65535 };
		const error = await captureVncFrame(tcpTarget(server.tcpPort), standaloneContext(), LIMITS, { timeouts }).catch(
			(e) => e,
		);
		expect(error).toMatchObject({ code: "TOO_LARGE", stage: "handshake" });
		options.initialSize = undefined;
		const frame = await captureVncFrame(wsTarget(server.wsUrl), standaloneContext(), LIMITS, { timeouts });
		expectPixelExact(frame, image);
	});
});
