/**
 * Tight, TightPNG, ZLIB and the pseudo-encodings through a real socket from
 * the RFB test server (real zlib, real JPEG and PNG made by sharp): exact
 * pixels for the lossless forms, a PSNR bound for JPEG, the zlib stream reset
 * flags across captures of a warm session, the cursor drawn only when asked,
 * and zlib bombs refused fast with a typed error while the event loop stays free.
 */
import { describe, expect, test } from "bun:test";
import zlib from "node:zlib";
import { consolePattern, testPattern } from "../../src/demo/patterns.ts";
import { encodeRaw, toWirePicture, ZrleStream } from "../../src/demo/rfb-encoders.ts";
import { startRfbServer } from "../../src/demo/rfb-server.ts";
import { compressZlibRect, planTight, TightStreams } from "../../src/demo/rfb-tight.ts";
import type { Frame } from "../../src/frame.ts";
import { ByteQueue } from "../../src/vnc/byte-queue.ts";
import { TightDecoder } from "../../src/vnc/decoders/tight.ts";
import { ZlibDecoder } from "../../src/vnc/decoders/zlib.ts";
import { ZrleDecoder } from "../../src/vnc/decoders/zrle.ts";
import { preferredEncodings } from "../../src/vnc/encodings.ts";
import { Framebuffer, type VncFrame } from "../../src/vnc/framebuffer.ts";
import { RfbClient } from "../../src/vnc/rfb-client.ts";
import { captureVncFrame, openVncSession } from "../../src/vnc/session.ts";
import { CLIENT_PIXEL_FORMAT, Encoding, type RectHeader, type RgbaImage } from "../../src/vnc/types.ts";
import { expectPixelExact, LIMITS, rfbServers, tcpTarget, testContext, wsTarget } from "../support/vnc.ts";

const IMAGE = testPattern(203, 141);
const startServer = rfbServers(IMAGE);

/** Peak signal-to-noise ratio of the RGB channels, in dB. */
function psnr(a: Frame, b: RgbaImage): number {
	let sum = 0;
	let n = 0;
	for (let i = 0; i < a.rgba.length; i += 4) {
		for (let c = 0; c < 3; c++) {
			const d = (a.rgba[i + c] as number) - (b.rgba[i + c] as number);
			sum += d * d;
			n++;
		}
	}
	return sum === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10((255 * 255) / (sum / n));
}

describe("Tight JPEG", () => {
	test("with a quality level announced the server sends JPEG; the frame is close to the picture and says it is lossy", async () => {
		const server = await startServer({ encoding: "tight", tightTile: 32 });
		const frame = (await captureVncFrame(tcpTarget(server.tcpPort), testContext(), LIMITS, {
			encodings: preferredEncodings({ quality: 8 }),
		})) as VncFrame;
		expect(server.forms.has("tight:jpeg")).toBe(true);
		expect(server.lastClient?.encodings?.[0]).toBe(Encoding.Tight);
		expect(server.lastClient?.encodings).toContain(Encoding.QualityLevel0 + 8);
		expect(psnr(frame, IMAGE)).toBeGreaterThan(28);
		expect(frame.encodings).toEqual(["Tight"]);
		expect(frame.lossy).toBe(true);
	});

	test("split into 1..7-byte writes over WebSocket, JPEG rectangles among others stay in order", async () => {
		const server = await startServer({ encoding: "tight", tightTile: 32, chunking: { maxChunk: 7, seed: 3 } });
		const frame = await captureVncFrame(wsTarget(server.wsUrl), testContext(), LIMITS, {
			encodings: [Encoding.Tight, Encoding.QualityLevel0 + 9],
		});
		expect(server.forms.has("tight:jpeg")).toBe(true);
		expect(server.forms.has("tight:fill")).toBe(true);
		expect(psnr(frame, IMAGE)).toBeGreaterThan(30);
	});

	test("without a quality level the frame is exact, and says which encoding painted it", async () => {
		const server = await startServer({ encoding: "tight", tightTile: 32 });
		const frame = (await captureVncFrame(tcpTarget(server.tcpPort), testContext(), LIMITS, {
			encodings: [Encoding.Tight],
		})) as VncFrame;
		expectPixelExact(frame, IMAGE);
		expect(frame.encodings).toEqual(["Tight"]);
		expect(frame.lossy).toBe(false);
	});

	test("the target's quality option turns JPEG on; without it the default preference stays exact", async () => {
		const server = await startServer({ encoding: "tight", tightTile: 32 });
		const exact = (await captureVncFrame(tcpTarget(server.tcpPort), testContext(), LIMITS)) as VncFrame;
		expectPixelExact(exact, IMAGE);
		expect(server.forms.has("tight:jpeg")).toBe(false);
		expect(server.lastClient?.encodings?.[0]).toBe(Encoding.ZRLE);
		const jpeg = (await captureVncFrame(tcpTarget(server.tcpPort, { quality: 9 }), testContext(), LIMITS)) as VncFrame;
		expect(server.forms.has("tight:jpeg")).toBe(true);
		expect(server.lastClient?.encodings?.[0]).toBe(Encoding.Tight);
		expect(jpeg.lossy).toBe(true);
		expect(psnr(jpeg, IMAGE)).toBeGreaterThan(30);
	});

	test("TightPNG with a quality level: JPEG and PNG rectangles in one frame", async () => {
		const server = await startServer({ encoding: "tightpng", tightTile: 32 });
		const frame = await captureVncFrame(tcpTarget(server.tcpPort), testContext(), LIMITS, {
			encodings: [Encoding.TightPNG, Encoding.QualityLevel0 + 9],
		});
		expect(server.forms.has("tightpng:jpeg")).toBe(true);
		expect(server.forms.has("tightpng:png")).toBe(true);
		expect(psnr(frame, IMAGE)).toBeGreaterThan(30);
	});
});

describe("Tight zlib streams across captures", () => {
	test("a warm session: stream 0 reset before each frame, picture changed in between, every capture exact", async () => {
		const server = await startServer({ encoding: "tight", tightTile: 32, tightReset: true });
		const session = await openVncSession(tcpTarget(server.tcpPort), testContext(), LIMITS);
		try {
			expectPixelExact(await session.capture(testContext()), IMAGE);
			const next = testPattern(203, 141, 99);
			server.setImage(next);
			expectPixelExact(await session.capture(testContext()), next);
			server.setImage(IMAGE);
			expectPixelExact(await session.capture(testContext()), IMAGE);
		} finally {
			await session.close();
		}
		expect(server.forms.has("tight:reset")).toBe(true);
	});
});

describe("pseudo-encodings", () => {
	/** A 5x4 pointer: an opaque red arrow-ish block, a half-transparent column, a transparent corner. */
	function pointerImage(): RgbaImage {
		const rgba = new Uint8Array(5 * 4 * 4);
		for (let i = 0; i < 20; i++) {
			const x = i % 5;
			rgba.set(x === 4 ? [0, 0, 255, 128] : i === 0 ? [0, 0, 0, 0] : [255, 0, 0, 255], i * 4);
		}
		return { width: 5, height: 4, rgba };
	}

	test("Cursor With Alpha: stored; drawn at the pointer position only with the cursor option", async () => {
		const server = await startServer({
			cursor: { image: pointerImage(), hotX: 1, hotY: 1 },
			pointer: { x: 50, y: 40 },
			lastRect: true,
		});
		const plain = await captureVncFrame(tcpTarget(server.tcpPort), testContext(), LIMITS);
		expectPixelExact(plain, IMAGE);
		expect(server.forms.has("pseudo:cursor-with-alpha")).toBe(true);
		const drawn = await captureVncFrame(tcpTarget(server.tcpPort), testContext(), LIMITS, { cursor: true });
		const at = (x: number, y: number) => [...drawn.rgba.subarray((y * 203 + x) * 4, (y * 203 + x) * 4 + 4)];
		// Hotspot (1,1) at (50,40): the shape's top-left is (49,39).
		expect(at(50, 40)).toEqual([255, 0, 0, 255]);
		expect(at(49, 39)).toEqual([...IMAGE.rgba.subarray((39 * 203 + 49) * 4, (39 * 203 + 49) * 4 + 4)]);
		const under = IMAGE.rgba.subarray((40 * 203 + 53) * 4);
		const blended = at(53, 40);
		expect(Math.abs((blended[2] as number) - Math.round((255 * 128 + (under[2] as number) * 127) / 255))).toBeLessThan(
			3,
		);
	});

	test("plain Cursor (bitmask), DesktopName and LastRect over WebSocket", async () => {
		const server = await startServer({
			encoding: "hextile",
			cursor: { image: pointerImage(), hotX: 0, hotY: 0, as: "cursor" },
			pointer: { x: 10, y: 10 },
			renameTo: "renamed desktop",
			lastRect: true,
		});
		const frame = await captureVncFrame(wsTarget(server.wsUrl), testContext(), LIMITS, { cursor: true });
		expect(server.forms.has("pseudo:cursor")).toBe(true);
		expect(server.forms.has("pseudo:desktop-name")).toBe(true);
		const p = (11 * 203 + 11) * 4;
		expect([...frame.rgba.subarray(p, p + 4)]).toEqual([255, 0, 0, 255]);
		// The 50%-alpha column is opaque in a 1-bit mask (alpha >= 128).
		const q = (10 * 203 + 14) * 4;
		expect([...frame.rgba.subarray(q, q + 3)]).toEqual([0, 0, 255]);
		// The transparent corner shows the picture.
		const r = (10 * 203 + 10) * 4;
		expect([...frame.rgba.subarray(r, r + 4)]).toEqual([...IMAGE.rgba.subarray(r, r + 4)]);
	});

	test("the state a connection learns: desktop name, cursor shape, screen layout", () => {
		const client = new RfbClient({ limits: LIMITS }, { send: () => {}, ready: () => {}, updateEnd: () => {} });
		const u16 = (v: number) => [(v >> 8) & 255, v & 255];
		const u32 = (v: number) => [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
		const pf = [32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0];
		const name = [...new TextEncoder().encode("first")];
		const next = [...new TextEncoder().encode("é second")];
		const rect = (x: number, y: number, w: number, h: number, e: number) => [
			...u16(x),
			...u16(y),
			...u16(w),
			...u16(h),
			...u32(e >>> 0),
		];
		client.receive(
			Uint8Array.from([
				...new TextEncoder().encode("RFB 003.008\n"),
				1,
				1,
				...u32(0),
				...u16(8),
				...u16(8),
				...pf,
				...u32(name.length),
				...name,
			]),
		);
		expect(client.server.desktopName).toBe("first");
		client.receive(
			Uint8Array.from([
				0,
				0,
				...u16(3),
				...rect(0, 0, 0, 0, Encoding.DesktopName),
				...u32(next.length),
				...next,
				...rect(1, 0, 2, 1, Encoding.Cursor),
				...[9, 8, 7, 0, 6, 5, 4, 0],
				0b01000000,
				...rect(0, 0, 16, 12, Encoding.ExtendedDesktopSize),
				2,
				0,
				0,
				0,
				...[...u32(7), ...u16(0), ...u16(0), ...u16(8), ...u16(12), ...u32(0)],
				...[...u32(8), ...u16(8), ...u16(0), ...u16(8), ...u16(12), ...u32(0)],
			]),
		);
		expect(client.server.desktopName).toBe("é second");
		expect(client.server.cursor).toEqual({
			width: 2,
			height: 1,
			hotX: 1,
			hotY: 0,
			rgba: Uint8Array.from([9, 8, 7, 0, 6, 5, 4, 255]),
		});
		expect(client.server.screens?.map((s) => [s.id, s.x, s.width])).toEqual([
			[7, 0, 8],
			[8, 8, 8],
		]);
		expect(client.framebuffer?.width).toBe(16);
	});
});

describe("decoders fed one byte at a time", () => {
	test("Tight fill, palettes, copy and gradient (lossless) and ZLIB: need more bytes at every split, then exact", async () => {
		const pic = toWirePicture(IMAGE, CLIENT_PIXEL_FORMAT);
		const forms = new Set<string>();
		const plan = await planTight(pic, 0, 0, IMAGE.width, IMAGE.height, { tile: 32, forms });
		expect([...forms]).toEqual(
			expect.arrayContaining(["tight:fill", "tight:mono", "tight:palette", "tight:copy", "tight:gradient"]),
		);
		const streams = new TightStreams();
		const tight = new TightDecoder();
		const fb = new Framebuffer(IMAGE.width, IMAGE.height);
		const feed = (decoder: { decodeRect: TightDecoder["decodeRect"] }, rect: RectHeader, bytes: Uint8Array) => {
			const q = new ByteQueue(16);
			for (let i = 0; i < bytes.length; i++) {
				q.push(bytes.subarray(i, i + 1));
				const done = decoder.decodeRect(rect, q, fb);
				expect(done).toBe(i === bytes.length - 1);
			}
			expect(q.length).toBe(0);
		};
		for (const r of plan) {
			feed(tight, { ...r, encoding: Encoding.Tight }, await streams.payload(r));
		}
		streams.close();
		expect(Buffer.from(fb.rgba).equals(Buffer.from(IMAGE.rgba))).toBe(true);

		const zfb = new Framebuffer(IMAGE.width, IMAGE.height);
		const z = new ZrleStream();
		const zlibDecoder = new ZlibDecoder();
		const half = 70;
		for (const [y, h] of [
			[0, half],
			[half, IMAGE.height - half],
		] as const) {
			const payload = await compressZlibRect(z, encodeRaw(pic, 0, y, IMAGE.width, h));
			const q = new ByteQueue(16);
			const rect = { x: 0, y, width: IMAGE.width, height: h, encoding: Encoding.ZLIB };
			for (let i = 0; i < payload.length; i++) {
				q.push(payload.subarray(i, i + 1));
				expect(zlibDecoder.decodeRect(rect, q, zfb)).toBe(i === payload.length - 1);
			}
		}
		z.close();
		expect(Buffer.from(zfb.rgba).equals(Buffer.from(IMAGE.rgba))).toBe(true);
	});

	test("bad Tight data is refused with a reason", () => {
		const fb = new Framebuffer(8, 8);
		const rect = { x: 0, y: 0, width: 8, height: 8, encoding: Encoding.Tight };
		const refusal = (bytes: number[], decoder = new TightDecoder()) => {
			const q = new ByteQueue();
			q.push(Uint8Array.from(bytes));
			try {
				decoder.decodeRect(rect, q, fb);
				return "accepted";
			} catch (error) {
				return (error as Error).message;
			}
		};
		expect(refusal([0xb0])).toContain("invalid compression type 11");
		expect(refusal([0xa0, 1, 0])).toContain("invalid compression type 10");
		expect(refusal([0x40, 3])).toContain("unknown filter 3");
		expect(refusal([0x00, 0x10], new TightDecoder(true))).toContain("TightPNG rectangle uses basic compression");
		// Palette of 3 colours, one byte per pixel: index 5 is outside it (64 bytes, compressed).
		const data = zlib.deflateSync(new Uint8Array(64).fill(5), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
		expect(refusal([0x60, 1, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, data.length, ...data])).toContain(
			"palette index 5 exceeds the palette of 3",
		);
		// Copy filter: 8x8x3 = 192 bytes expected, 100 sent.
		const short = zlib.deflateSync(new Uint8Array(100), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
		expect(refusal([0x00, short.length, ...short])).toContain("inflates to 100 bytes; the 8x8 rectangle needs 192");
		expect(refusal([0x00, 0xff, 0xff, 0x7f])).toContain("claims");
	});

	test("a broken JPEG through a real socket ends the capture at once with a PROTOCOL error", async () => {
		const garbage = [0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5, 6, 7, 8];
		const inject = Uint8Array.from([
			0,
			0,
			...be16(1),
			...be16(0),
			...be16(0),
			...be16(8),
			...be16(8),
			...be32(Encoding.Tight),
			0x90,
			garbage.length,
			...garbage,
		]);
		const server = await startServer({ encoding: "tight", inject });
		const started = performance.now();
		const error = await captureVncFrame(tcpTarget(server.tcpPort), testContext(), LIMITS).catch((e) => e);
		expect(error).toMatchObject({ code: "PROTOCOL", stage: "decode" });
		expect(error.message).toContain("Tight JPEG data for a 8x8 rectangle cannot be decoded");
		expect(performance.now() - started).toBeLessThan(2000);
	});
});

// ---------------------------------------------------------------- bombs

/**
 * zlib data of about `mb` MB that inflates to about 1000 times as much, made
 * without compressing GBs: a raw deflate of 1 MiB of zeros, ended with a sync
 * flush, starts with a literal and then refers back only to zeros, so it can
 * be repeated after a zlib header as often as wanted.
 */
function zlibBomb(mb: number): Uint8Array {
	const repeat = zlib.deflateRawSync(Buffer.alloc(1 << 20), { level: 9, finishFlush: zlib.constants.Z_SYNC_FLUSH });
	const copies = Math.ceil((mb * 1024 * 1024) / repeat.length);
	const out = new Uint8Array(2 + copies * repeat.length);
	out.set([0x78, 0xda]);
	for (let i = 0; i < copies; i++) out.set(repeat, 2 + i * repeat.length);
	return out;
}

const be32 = (v: number) => [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
const be16 = (v: number) => [(v >> 8) & 255, v & 255];

/** Largest gap between ticks of a 5 ms interval while `run` runs: how long the event loop was blocked. */
async function longestStall<T>(run: () => Promise<T>): Promise<{ result: T | unknown; stallMs: number; ms: number }> {
	let last = performance.now();
	let stallMs = 0;
	const timer = setInterval(() => {
		const now = performance.now();
		stallMs = Math.max(stallMs, now - last);
		last = now;
	}, 5);
	const started = performance.now();
	const result = await run().catch((e: unknown) => e);
	const ms = performance.now() - started;
	clearInterval(timer);
	return { result, stallMs: Math.max(stallMs, performance.now() - last), ms };
}

describe("zlib bombs", () => {
	const bomb = zlibBomb(3);

	test("the bomb is what it claims: 3 MB that inflate to about 3 GB", () => {
		expect(bomb.length).toBeGreaterThan(3_000_000);
		// Inflating a prefix shows the ratio without inflating it all.
		const prefix = zlib.inflateSync(bomb.subarray(0, 100_000), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
		expect(prefix.length / 100_000).toBeGreaterThan(900);
	});

	test("a ZRLE rectangle of it over a real socket fails fast with TOO_LARGE, the event loop never blocked long", async () => {
		const image = consolePattern(1024, 768);
		const inject = Uint8Array.from([
			0,
			0,
			...be16(1),
			...be16(0),
			...be16(0),
			...be16(1024),
			...be16(768),
			...be32(Encoding.ZRLE),
			...be32(bomb.length),
		]);
		const server = await startRfbServer({
			image,
			encoding: "zrle",
			inject: new Uint8Array([...inject, ...bomb]),
		});
		try {
			const { result, stallMs, ms } = await longestStall(() =>
				captureVncFrame(tcpTarget(server.tcpPort), testContext(), LIMITS),
			);
			expect(result).toMatchObject({ code: "TOO_LARGE", stage: "decode" });
			expect((result as Error).message).toContain("ZRLE data inflates to more than");
			expect(ms).toBeLessThan(1000);
			expect(stallMs).toBeLessThan(300);
		} finally {
			await server.close();
		}
	});

	test("ZLIB and Tight rectangles of it fail fast with TOO_LARGE", () => {
		const fb = new Framebuffer(1024, 768);
		const rect = { x: 0, y: 0, width: 1024, height: 768, encoding: 0 };
		const cases: Array<[string, () => unknown]> = [
			[
				"ZLIB",
				() => {
					const q = new ByteQueue();
					q.push(Uint8Array.from([...be32(bomb.length)]));
					q.push(bomb);
					return new ZlibDecoder().decodeRect({ ...rect, encoding: Encoding.ZLIB }, q, fb);
				},
			],
			[
				"Tight",
				() => {
					// Basic compression, copy filter, stream 0: a compact length is at most 22 bits (4 MiB).
					// 2 MB: within what a 1024x768 copy-filter rectangle may claim (its data is 3 bytes a pixel).
					const small = zlibBomb(2);
					const q = new ByteQueue();
					const n = small.length;
					q.push(Uint8Array.of(0x00, (n & 0x7f) | 0x80, ((n >> 7) & 0x7f) | 0x80, n >> 14));
					q.push(small);
					return new TightDecoder().decodeRect({ ...rect, encoding: Encoding.Tight }, q, fb);
				},
			],
		];
		for (const [name, run] of cases) {
			const started = performance.now();
			let error: unknown;
			try {
				run();
			} catch (e) {
				error = e;
			}
			expect(error).toMatchObject({ code: "TOO_LARGE", stage: "decode" });
			expect((error as Error).message).toContain(`${name}`);
			expect(performance.now() - started).toBeLessThan(500);
		}
		// The ZRLE decoder directly, too: stops at its rectangle's bound.
		const q = new ByteQueue();
		q.push(Uint8Array.from(be32(bomb.length)));
		q.push(bomb);
		expect(() => new ZrleDecoder().decodeRect({ ...rect, encoding: Encoding.ZRLE }, q, fb)).toThrow(
			/inflates to more than/,
		);
	});
});
