/**
 * ATEN video framing and the session-level video decoder: FramebufferUpdate
 * messages as the BMC sends them (the shared vectors' own wrapped messages),
 * the no-signal cases, resolution changes, Hermon 0x59 tiles and raw frames.
 */
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { createAtenVideoDecoder } from "../../src/aten/video/decoder.ts";
import {
	type AtenRectHeader,
	classifyAtenRect,
	NO_SIGNAL_HEIGHT,
	NO_SIGNAL_WIDTH,
	parseAtenFramebufferUpdate,
	parseAtenRectHeader,
	writeAtenRectHeader,
} from "../../src/aten/video/framing.ts";
import { createHermonDecoder, HERMON_TILE_BYTES } from "../../src/aten/video/hermon.ts";
import { AtenStreamEncoder, atenFramebufferUpdate } from "../../src/demo/aten-encoder.ts";
import { sampleConsolePicture } from "../../src/demo/console-picture.ts";
import { encodeHermon, HermonStreamEncoder } from "../../src/demo/hermon-encoder.ts";
import { IkvmError } from "../../src/errors.ts";
import { loadAtenVectors, matchesAtenVector } from "../support/aten-vectors.ts";
import { errorOf } from "../support/ikvm-error.ts";
import { pixelAt, readBytes } from "../support/pixels.ts";

const dir = join(import.meta.dir, "../fixtures/aten");
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

function fbu(rects: { header: Omit<AtenRectHeader, "dataLength">; payload: Uint8Array }[]): Uint8Array {
	const parts: Uint8Array[] = [Uint8Array.of(0, 0, rects.length >> 8, rects.length & 255)];
	for (const r of rects) {
		parts.push(writeAtenRectHeader({ ...r.header, dataLength: r.payload.length }), r.payload);
	}
	return new Uint8Array(Buffer.concat(parts));
}

const rect = (width: number, height: number, encoding = 0x57) => ({ x: 0, y: 0, width, height, encoding, mode: 0 });

describe("ATEN FramebufferUpdate framing", () => {
	test("the vectors' wrapped messages parse to their payloads and decode to the expected pictures", async () => {
		for (const name of ["v1_444_vq_dct_skip_16x16", "v2_420_dc_quadrants_16x16", "v3_incremental_on_v1_16x16"]) {
			const v = await Bun.file(join(dir, `${name}.json`)).json();
			const video = createAtenVideoDecoder();
			for (const frame of v.frames) {
				const message = new Uint8Array(Buffer.from(frame.rfb_framebuffer_update_b64, "base64"));
				const parsed = parseAtenFramebufferUpdate(message);
				if (parsed.kind !== "ok") throw new Error("incomplete");
				expect(parsed.length).toBe(message.length);
				expect(parsed.value).toHaveLength(1);
				const [r] = parsed.value;
				if (!r) throw new Error("no rect");
				expect(r.header).toMatchObject({ x: 0, y: 0, width: 16, height: 16, encoding: 0x57, mode: 0 });
				expect(Buffer.from(r.payload).toString("base64")).toBe(frame.payload_b64);
				expect(video.decodeRect(r).kind).toBe("picture");
			}
			expect(sha256(video.snapshot()?.rgba ?? new Uint8Array())).toBe(v.expected.rgba_sha256);
		}
	});

	test("the real X10 frame inside a FramebufferUpdate, delivered a few bytes at a time, asks for more until complete", async () => {
		const v = await Bun.file(join(dir, "real_x10_console_1024x768.json")).json();
		const payload = await readBytes(join(dir, "real_x10_console_1024x768.bin"));
		const message = fbu([{ header: rect(1024, 768), payload }]);
		for (const cut of [0, 3, 4, 10, 24, 25, 1000, message.length - 1]) {
			const partial = parseAtenFramebufferUpdate(message.subarray(0, cut));
			expect(partial.kind).toBe("need-more");
			if (partial.kind === "need-more") expect(partial.missing).toBeGreaterThan(0);
		}
		const parsed = parseAtenFramebufferUpdate(message);
		if (parsed.kind !== "ok") throw new Error("incomplete");
		const video = createAtenVideoDecoder();
		const result = video.decodeRect(parsed.value[0] as never);
		// The flat form (a dialect parser's rectangle) gives the same picture.
		const flat = createAtenVideoDecoder().decode({ width: 1024, height: 768, encoding: 0x57, payload });
		expect(flat).toMatchObject({ kind: "picture", complete: true });
		if (flat.kind === "picture") expect(sha256(flat.picture.rgba)).toBe(v.expected.rgba_sha256);
		expect(result).toMatchObject({ kind: "picture", codec: "ast2100", resized: true, complete: true });
		expect(sha256(video.snapshot()?.rgba ?? new Uint8Array())).toBe(v.expected.rgba_sha256);
		expect(video.size).toEqual({ width: 1024, height: 768 });
	});

	test("nRects 0 is a valid, empty update; a wrong type byte or a huge dataLen is refused", () => {
		expect(parseAtenFramebufferUpdate(Uint8Array.of(0, 0, 0, 0))).toEqual({ kind: "ok", value: [], length: 4 });
		expect(errorOf(() => parseAtenFramebufferUpdate(Uint8Array.of(4, 0, 0, 0))).code).toBe("PROTOCOL");
		const huge = fbu([{ header: rect(1024, 768), payload: new Uint8Array(0) }]);
		new DataView(huge.buffer).setUint32(4 + 16, 0xffffffff);
		expect(errorOf(() => parseAtenFramebufferUpdate(huge)).code).toBe("TOO_LARGE");
	});

	test("rectangle header fields are big-endian; the encoding is signed", () => {
		const bytes = writeAtenRectHeader({ x: 1, y: 2, width: 1024, height: 768, encoding: -1, mode: 7, dataLength: 9 });
		expect(Array.from(bytes.subarray(4, 8))).toEqual([4, 0, 3, 0]);
		const parsed = parseAtenRectHeader(bytes);
		expect(parsed).toEqual({
			kind: "ok",
			value: { x: 1, y: 2, width: 1024, height: 768, encoding: -1, mode: 7, dataLength: 9 },
			length: 20,
		});
		expect(parseAtenRectHeader(bytes.subarray(0, 19))).toEqual({ kind: "need-more", missing: 1 });
	});
});

describe("ATEN no-signal, resolution changes, unknown encodings", () => {
	test("the -640x-480 sentinel and an empty 0x57 rectangle are no-signal and never resize the picture", async () => {
		const payload = await readBytes(join(dir, "real_x10_console_1024x768.bin"));
		const video = createAtenVideoDecoder();
		video.decodeRect({ header: { ...rect(1024, 768), dataLength: payload.length }, payload });
		const before = video.snapshot()?.rgba;
		const sentinel = {
			header: { ...rect(NO_SIGNAL_WIDTH, NO_SIGNAL_HEIGHT), dataLength: 0 },
			payload: new Uint8Array(),
		};
		expect(video.decodeRect(sentinel)).toEqual({ kind: "no-signal", reason: "sentinel" });
		// Hermon sometimes sends 10 bytes with the sentinel.
		const hermonSentinel = {
			header: { ...rect(NO_SIGNAL_WIDTH, NO_SIGNAL_HEIGHT, 0x59), dataLength: 10 },
			payload: new Uint8Array(10),
		};
		expect(video.decodeRect(hermonSentinel)).toEqual({ kind: "no-signal", reason: "sentinel" });
		const empty = { header: { ...rect(1024, 768), dataLength: 0 }, payload: new Uint8Array() };
		expect(video.decodeRect(empty)).toEqual({ kind: "no-signal", reason: "empty" });
		expect(video.size).toEqual({ width: 1024, height: 768 });
		expect(video.snapshot()?.rgba).toEqual(before as Uint8Array);
	});

	test("a new size is a resize: the picture restarts and is incomplete until a full frame arrives", async () => {
		const v1 = await Bun.file(join(dir, "v1_444_vq_dct_skip_16x16.json")).json();
		const v3 = await Bun.file(join(dir, "v3_incremental_on_v1_16x16.json")).json();
		const full = new Uint8Array(Buffer.from(v1.frames[0].payload_b64, "base64"));
		const incremental = new Uint8Array(Buffer.from(v3.frames[1].payload_b64, "base64"));
		const video = createAtenVideoDecoder();
		expect(video.decodeRect({ header: { ...rect(16, 16), dataLength: full.length }, payload: full })).toMatchObject({
			resized: true,
			complete: true,
		});
		expect(
			video.decodeRect({ header: { ...rect(16, 16), dataLength: incremental.length }, payload: incremental }),
		).toMatchObject({ resized: false, complete: true });
		// The screen changes mode: the first rectangle at the new size is only an incremental one.
		const small = video.decodeRect({
			header: { ...rect(24, 16), dataLength: incremental.length },
			payload: incremental,
		});
		expect(small).toMatchObject({ kind: "picture", resized: true, complete: false });
		if (small.kind !== "picture") return;
		expect([small.picture.width, small.picture.height]).toEqual([24, 16]);
		// Untouched blocks of the new picture are black.
		expect(pixelAt(small.picture, 20, 2)).toEqual([0, 0, 0, 255]);
		expect(classifyAtenRect({ ...rect(24, 16), dataLength: 1 }, video.size)).toEqual({
			kind: "video",
			codec: "ast2100",
			resized: false,
		});
	});

	test("sizes outside 1..4096 and unknown encodings are typed errors", () => {
		const cur = { width: 0, height: 0 };
		expect(errorOf(() => classifyAtenRect({ ...rect(5000, 768), dataLength: 8 }, cur)).code).toBe("PROTOCOL");
		expect(errorOf(() => classifyAtenRect({ ...rect(0, 768), dataLength: 8 }, cur)).code).toBe("PROTOCOL");
		const unknown = errorOf(() => classifyAtenRect({ ...rect(1024, 768, 0x58), dataLength: 8 }, cur));
		expect(unknown.code).toBe("NOT_SUPPORTED");
		expect(unknown.message).toContain("0x58");
		// Encoding 0 is Hermon on old firmware.
		expect(classifyAtenRect({ ...rect(8, 8, 0), dataLength: 10 }, cur)).toMatchObject({ codec: "hermon" });
	});
});

function gradient(width: number, height: number): { width: number; height: number; rgba: Uint8Array } {
	const rgba = new Uint8Array(width * height * 4);
	for (let y = 0; y < height; y++) {
		for (let x = 0; x < width; x++) {
			const o = (y * width + x) * 4;
			rgba[o] = (x * 8) & 0xf8;
			rgba[o + 1] = (y * 8) & 0xf8;
			rgba[o + 2] = ((x + y) * 4) & 0xf8;
			rgba[o + 3] = 255;
		}
	}
	return { width, height, rgba };
}

/** What the 5-bit channel widening gives for an 8-bit value whose low 3 bits are 0. */
const widen = (c: number) => ((c >> 3) << 3) | ((c >> 3) >> 2);

describe("Hermon 0x59", () => {
	test("RGB555 little-endian pixels widened as (c << 3) | (c >> 2)", () => {
		const decoder = createHermonDecoder();
		const payload = new Uint8Array(10 + 2);
		const view = new DataView(payload.buffer);
		view.setUint8(0, 1);
		view.setUint32(6, payload.length);
		view.setUint16(10, (31 << 10) | (16 << 5) | 1, true); // R 31, G 16, B 1
		const result = decoder.decode(payload, { width: 1, height: 1 });
		expect(result.kind).toBe("picture");
		if (result.kind !== "picture") return;
		expect(Array.from(result.picture.rgba)).toEqual([255, 132, 8, 255]);
	});

	test("a raw frame, then tiles painted over it, clipped at a 600-line bottom edge", () => {
		const decoder = createHermonDecoder();
		const first = gradient(40, 600);
		const raw = decoder.decode(encodeHermon(first), { width: 40, height: 600 });
		expect(raw).toMatchObject({ kind: "picture", update: "raw", resized: true, complete: true });
		if (raw.kind !== "picture") return;
		for (const [x, y] of [
			[0, 0],
			[39, 599],
			[17, 300],
		] as const) {
			const [r, g, b] = pixelAt(first, x, y);
			expect(pixelAt(raw.picture, x, y)).toEqual([widen(r ?? 0), widen(g ?? 0), widen(b ?? 0), 255]);
		}
		// A white picture sent as two tiles: (row 37, col 2) hangs over both edges (600 = 37.5 tiles, 40 = 2.5).
		const white = { width: 40, height: 600, rgba: new Uint8Array(40 * 600 * 4).fill(255) };
		const tiles = encodeHermon(white, {
			tiles: [
				{ row: 37, col: 2 },
				{ row: 0, col: 1 },
			],
		});
		expect(tiles.length).toBe(10 + 2 * HERMON_TILE_BYTES);
		const painted = decoder.decode(tiles, { width: 40, height: 600 });
		expect(painted).toMatchObject({ kind: "picture", update: "tiles", tiles: 2, resized: false, complete: true });
		if (painted.kind !== "picture") return;
		expect(pixelAt(painted.picture, 39, 599)).toEqual([255, 255, 255, 255]);
		expect(pixelAt(painted.picture, 32, 592)).toEqual([255, 255, 255, 255]);
		expect(pixelAt(painted.picture, 20, 5)).toEqual([255, 255, 255, 255]);
		expect(pixelAt(painted.picture, 31, 599)).toEqual(pixelAt(raw.picture, 31, 599));
		expect(pixelAt(painted.picture, 0, 0)).toEqual([0, 0, 0, 255]);
	});

	test("tiles alone complete the picture only once every tile has been painted", () => {
		const decoder = createHermonDecoder();
		const pic = gradient(32, 20);
		const all = [0, 1].flatMap((row) => [0, 1].map((col) => ({ row, col })));
		const firstHalf = decoder.decode(encodeHermon(pic, { tiles: all.slice(0, 3) }), { width: 32, height: 20 });
		expect(firstHalf).toMatchObject({ complete: false, resized: true });
		const rest = decoder.decode(encodeHermon(pic, { tiles: all.slice(3) }), { width: 32, height: 20 });
		expect(rest).toMatchObject({ complete: true, resized: false });
		const video = createAtenVideoDecoder();
		const payload = encodeHermon(pic);
		expect(video.decodeRect({ header: { ...rect(32, 20, 0x59), dataLength: payload.length }, payload })).toMatchObject({
			kind: "picture",
			codec: "hermon",
			complete: true,
		});
		expect(video.snapshot()?.rgba).toEqual(decoder.snapshot()?.rgba as Uint8Array);
	});

	test("inconsistent sub-headers are typed errors", () => {
		const decoder = createHermonDecoder();
		const good = encodeHermon(gradient(16, 16), { tiles: [{ row: 0, col: 0 }] });
		const check = (bytes: Uint8Array, size = { width: 16, height: 16 }) => {
			const error = errorOf(() => decoder.decode(bytes, size));
			expect(error).toBeInstanceOf(IkvmError);
			return error.code;
		};
		const wrongTotal = good.slice();
		new DataView(wrongTotal.buffer).setUint32(6, 99);
		expect(check(wrongTotal)).toBe("PROTOCOL");
		const tooManyTiles = good.slice();
		new DataView(tooManyTiles.buffer).setUint32(2, 2);
		expect(check(tooManyTiles)).toBe("PROTOCOL");
		const badType = good.slice();
		badType[0] = 7;
		expect(check(badType)).toBe("PROTOCOL");
		expect(check(good.subarray(0, 5))).toBe("PROTOCOL");
		const rawShort = encodeHermon(gradient(4, 4));
		expect(check(rawShort, { width: 8, height: 8 })).toBe("PROTOCOL");
		expect(check(good, { width: 5000, height: 16 })).toBe("TOO_LARGE");
		expect(decoder.decode(new Uint8Array(), { width: 16, height: 16 })).toEqual({ kind: "no-signal" });
		expect(decoder.decode(good.subarray(0, 10), { width: 16, height: 16, dataLength: good.length })).toEqual({
			kind: "need-more",
			missing: good.length - 10,
		});
	});
});

describe("streams as the mock BMC sends them", () => {
	test("all four shared vectors as FramebufferUpdate messages, one session decoder per vector: bit-exact", async () => {
		const vectors = await loadAtenVectors();
		expect(vectors.map((v) => v.updates.length)).toEqual([1, 1, 2, 1]);
		for (const vector of vectors) {
			const video = createAtenVideoDecoder();
			for (const message of vector.updates) {
				const parsed = parseAtenFramebufferUpdate(message);
				if (parsed.kind !== "ok" || !parsed.value[0]) throw new Error("incomplete");
				expect(video.decodeRect(parsed.value[0]).kind).toBe("picture");
			}
			expect(await matchesAtenVector(vector, video.snapshot()?.rgba ?? new Uint8Array())).toBe(true);
		}
		// And the check can fail: one changed pixel is not the vector's picture.
		const [v1] = vectors;
		if (!v1) throw new Error("no vector");
		const video = createAtenVideoDecoder();
		const parsed = parseAtenFramebufferUpdate(v1.updates[0] ?? new Uint8Array());
		if (parsed.kind !== "ok" || !parsed.value[0]) throw new Error("incomplete");
		video.decodeRect(parsed.value[0]);
		const wrong = video.snapshot()?.rgba ?? new Uint8Array();
		wrong[0] = (wrong[0] ?? 0) ^ 1;
		expect(await matchesAtenVector(v1, wrong)).toBe(false);
	});

	test("0x57: a mode change mid-stream gives a resized, complete full frame; incremental frames after it", () => {
		const stream = new AtenStreamEncoder();
		const video = createAtenVideoDecoder();
		const send = (pic: { width: number; height: number; rgba: Uint8Array }, full = false) => {
			const parsed = parseAtenFramebufferUpdate(
				atenFramebufferUpdate(stream.encode(pic, { full }), pic.width, pic.height),
			);
			if (parsed.kind !== "ok" || !parsed.value[0]) throw new Error("incomplete");
			return video.decodeRect(parsed.value[0]);
		};
		const big = sampleConsolePicture(1024, 768);
		expect(send(big)).toMatchObject({ resized: true, complete: true });
		const small = sampleConsolePicture(720, 400);
		const changed = send(small);
		expect(changed).toMatchObject({ kind: "picture", resized: true, complete: true });
		if (changed.kind !== "picture") return;
		expect(changed.picture.rgba).toEqual(small.rgba);
		const edited = { ...small, rgba: small.rgba.slice() };
		edited.rgba.fill(255, 0, 720 * 4 * 8);
		expect(send(edited)).toMatchObject({ resized: false, complete: true });
		expect(video.snapshot()?.rgba).toEqual(edited.rgba);
		expect(video.size).toEqual({ width: 720, height: 400 });
	});

	test("0x59: a raw first frame, then only the changed tiles", () => {
		const stream = new HermonStreamEncoder();
		const decoder = createHermonDecoder();
		const pic = sampleConsolePicture(640, 480);
		const first = stream.encode(pic);
		expect(first[0]).toBe(1);
		decoder.decode(first, pic);
		const edited = { ...pic, rgba: pic.rgba.slice() };
		edited.rgba.fill(255, (100 * 640 + 100) * 4, (100 * 640 + 140) * 4); // 40 pixels of one row: 3 tiles
		const update = stream.encode(edited);
		expect(update[0]).toBe(0);
		expect(new DataView(update.buffer).getUint32(2)).toBe(3);
		const result = decoder.decode(update, edited);
		expect(result).toMatchObject({ kind: "picture", update: "tiles", tiles: 3, complete: true });
		// Every pixel is the source reduced to 5 bits per channel and widened back (170 → 173).
		const widened = (c: number) => ((c >> 3) << 3) | (c >> 5);
		const expected = edited.rgba.map((v, i) => ((i & 3) === 3 ? 255 : widened(v)));
		expect(decoder.snapshot()?.rgba).toEqual(expected);
	});
});
