/**
 * Each decoder on hand-built rectangles: exact pixels, "need more bytes" at
 * every split point, and bad data refused.
 */
import { describe, expect, test } from "bun:test";
import zlib from "node:zlib";
import { ByteQueue } from "../../src/vnc/byte-queue.ts";
import { CopyRectDecoder } from "../../src/vnc/decoders/copyrect.ts";
import type { RectDecoder } from "../../src/vnc/decoders/decoder.ts";
import { HextileDecoder } from "../../src/vnc/decoders/hextile.ts";
import { RawDecoder } from "../../src/vnc/decoders/raw.ts";
import { ZrleDecoder } from "../../src/vnc/decoders/zrle.ts";
import { Framebuffer, rgb } from "../../src/vnc/framebuffer.ts";
import type { RectHeader } from "../../src/vnc/types.ts";

type RGB = [number, number, number];
const RED: RGB = [255, 0, 0];
const GREEN: RGB = [0, 255, 0];
const BLUE: RGB = [0, 0, 255];
const WHITE: RGB = [255, 255, 255];
const GREY: RGB = [128, 128, 128];

/** A wire pixel in our format: R, G, B, then a junk byte the decoder must ignore. */
const px = ([r, g, b]: RGB): number[] => [r, g, b, 0x5a];
const cpx = ([r, g, b]: RGB): number[] => [r, g, b];

function rect(x: number, y: number, width: number, height: number, encoding: number): RectHeader {
	return { x, y, width, height, encoding };
}

/** Decodes with all bytes at once. */
function decodeAll(decoder: RectDecoder, r: RectHeader, bytes: number[] | Uint8Array, fb: Framebuffer): ByteQueue {
	const q = new ByteQueue(16);
	q.push(Uint8Array.from(bytes));
	expect(decoder.decodeRect(r, q, fb)).toBe(true);
	return q;
}

/** Decodes feeding one byte at a time: must say "need more" until the last byte, then finish with nothing left. */
function decodeByteByByte(decoder: RectDecoder, r: RectHeader, bytes: number[] | Uint8Array, fb: Framebuffer): void {
	const q = new ByteQueue(16);
	const all = Uint8Array.from(bytes);
	for (let i = 0; i < all.length; i++) {
		q.push(all.subarray(i, i + 1));
		const done = decoder.decodeRect(r, q, fb);
		if (i < all.length - 1 && done) throw new Error(`decoder finished after ${i + 1} of ${all.length} bytes`);
		if (i === all.length - 1) expect(done).toBe(true);
	}
	expect(q.length).toBe(0);
}

/** Expected framebuffer built by hand. */
function painted(w: number, h: number, paint: (set: (x: number, y: number, c: RGB) => void) => void): Uint8Array {
	const out = new Uint8Array(w * h * 4);
	paint((x, y, [r, g, b]) => {
		out.set([r, g, b, 255], (y * w + x) * 4);
	});
	return out;
}

function fill(set: (x: number, y: number, c: RGB) => void, x: number, y: number, w: number, h: number, c: RGB) {
	for (let j = y; j < y + h; j++) for (let i = x; i < x + w; i++) set(i, j, c);
}

describe("Raw", () => {
	const bytes = [...px(RED), ...px(GREEN), ...px(BLUE), ...px(WHITE), ...px(GREY), ...px(RED)];
	const expected = painted(5, 4, (set) => {
		set(1, 1, RED);
		set(2, 1, GREEN);
		set(3, 1, BLUE);
		set(1, 2, WHITE);
		set(2, 2, GREY);
		set(3, 2, RED);
	});

	test("paints the rectangle, forces alpha to 255, leaves the rest untouched", () => {
		const fb = new Framebuffer(5, 4);
		const q = decodeAll(new RawDecoder(), rect(1, 1, 3, 2, 0), bytes, fb);
		expect(q.length).toBe(0);
		expect(fb.rgba).toEqual(expected);
	});

	test("bytes one at a time", () => {
		const fb = new Framebuffer(5, 4);
		decodeByteByByte(new RawDecoder(), rect(1, 1, 3, 2, 0), bytes, fb);
		expect(fb.rgba).toEqual(expected);
	});

	test("an empty rectangle needs no bytes", () => {
		const fb = new Framebuffer(2, 2);
		expect(new RawDecoder().decodeRect(rect(0, 0, 0, 2, 0), new ByteQueue(), fb)).toBe(true);
	});

	test("leaves the next message's bytes in the queue", () => {
		const fb = new Framebuffer(5, 4);
		const q = decodeAll(new RawDecoder(), rect(1, 1, 3, 2, 0), [...bytes, 2, 2], fb);
		expect(q.length).toBe(2);
	});
});

describe("CopyRect", () => {
	/** A 6x5 framebuffer whose every pixel is distinct. */
	function numbered(): Framebuffer {
		const fb = new Framebuffer(6, 5);
		for (let y = 0; y < 5; y++) for (let x = 0; x < 6; x++) fb.pixels[y * 6 + x] = rgb(x * 40, y * 50, 7);
		return fb;
	}

	/** What a copy must produce: read every source pixel before writing any. */
	function reference(fb: Framebuffer, sx: number, sy: number, dx: number, dy: number, w: number, h: number) {
		const before = fb.pixels.slice();
		const out = before.slice();
		for (let j = 0; j < h; j++)
			for (let i = 0; i < w; i++) out[(dy + j) * 6 + dx + i] = before[(sy + j) * 6 + sx + i] as number;
		return out;
	}

	const src = (x: number, y: number) => [x >> 8, x & 255, y >> 8, y & 255];

	for (const [name, sx, sy, dx, dy, w, h] of [
		["disjoint", 0, 0, 3, 2, 3, 3],
		["overlapping, moving down and right", 0, 0, 1, 1, 5, 4],
		["overlapping, moving up (a scroll)", 0, 1, 0, 0, 6, 4],
		["overlapping within rows, moving left", 1, 0, 0, 0, 5, 5],
		["overlapping within rows, moving right", 0, 0, 2, 0, 4, 5],
	] as const) {
		test(name, () => {
			const fb = numbered();
			const want = reference(fb, sx, sy, dx, dy, w, h);
			decodeByteByByte(new CopyRectDecoder(), rect(dx, dy, w, h, 1), src(sx, sy), fb);
			expect(fb.pixels).toEqual(want);
		});
	}

	test("a source outside the framebuffer is refused", () => {
		const fb = numbered();
		const q = new ByteQueue();
		q.push(Uint8Array.from(src(4, 0)));
		expect(() => new CopyRectDecoder().decodeRect(rect(0, 0, 3, 3, 1), q, fb)).toThrow(/CopyRect source .* outside/);
	});
});

describe("Hextile", () => {
	// A 20x18 rectangle at (2,1) in a 24x20 framebuffer: tiles 16x16, 4x16, 16x2, 4x2.
	const r = rect(2, 1, 20, 18, 5);
	const tile1Raw: number[] = [1];
	for (let i = 0; i < 256; i++) tile1Raw.push(...px([i, 255 - i, (i * 3) & 255]));
	// tile 2: background only
	const tile2 = [2, ...px(BLUE)];
	// tile 3: background kept (blue), foreground + two mono subrects
	const tile3 = [
		4 | 8,
		...px(WHITE),
		2,
		(0 << 4) | 0,
		((3 - 1) << 4) | (2 - 1),
		(10 << 4) | 1,
		((6 - 1) << 4) | (1 - 1),
	];
	// tile 4: new background, coloured subrects (foreground ignored)
	const tile4 = [
		2 | 8 | 16,
		...px(GREY),
		2,
		...px(RED),
		(1 << 4) | 0,
		((2 - 1) << 4) | (1 - 1),
		...px(GREEN),
		(3 << 4) | 1,
		0,
	];
	const bytes = [...tile1Raw, ...tile2, ...tile3, ...tile4];
	const expected = painted(24, 20, (set) => {
		for (let i = 0; i < 256; i++) set(2 + (i % 16), 1 + Math.floor(i / 16), [i, 255 - i, (i * 3) & 255]);
		fill(set, 18, 1, 4, 16, BLUE);
		fill(set, 2, 17, 16, 2, BLUE);
		fill(set, 2, 17, 3, 2, WHITE);
		fill(set, 12, 18, 6, 1, WHITE);
		fill(set, 18, 17, 4, 2, GREY);
		fill(set, 19, 17, 2, 1, RED);
		set(21, 18, GREEN);
	});

	test("raw, background-only, mono and coloured subrectangle tiles, with partial edge tiles", () => {
		const fb = new Framebuffer(24, 20);
		const q = decodeAll(new HextileDecoder(), r, bytes, fb);
		expect(q.length).toBe(0);
		expect(fb.rgba).toEqual(expected);
	});

	test("bytes one at a time", () => {
		const fb = new Framebuffer(24, 20);
		decodeByteByByte(new HextileDecoder(), r, bytes, fb);
		expect(fb.rgba).toEqual(expected);
	});

	test("foreground persists into later tiles", () => {
		// two 16x1 tiles: the first sets bg+fg, the second only has subrects
		const fb = new Framebuffer(32, 1);
		const data = [2 | 4 | 8, ...px(BLUE), ...px(RED), 1, 0x00, 0x00, 8, 1, 0x50, 0x10];
		decodeAll(new HextileDecoder(), rect(0, 0, 32, 1, 5), data, fb);
		const want = painted(32, 1, (set) => {
			fill(set, 0, 0, 32, 1, BLUE);
			set(0, 0, RED);
			fill(set, 21, 0, 2, 1, RED);
		});
		expect(fb.rgba).toEqual(want);
	});

	test("an invalid subencoding is refused", () => {
		const q = new ByteQueue();
		q.push(Uint8Array.of(0x40));
		expect(() => new HextileDecoder().decodeRect(rect(0, 0, 16, 16, 5), q, new Framebuffer(16, 16))).toThrow(
			/invalid subencoding 64/,
		);
	});

	test("a subrectangle outside its tile is refused", () => {
		const q = new ByteQueue();
		// 8x8 tile, subrect at (6,0) of width 4
		q.push(Uint8Array.from([2 | 4 | 8, ...px(BLUE), ...px(RED), 1, 0x60, 0x30]));
		expect(() => new HextileDecoder().decodeRect(rect(0, 0, 8, 8, 5), q, new Framebuffer(8, 8))).toThrow(
			/does not fit its 8x8 tile/,
		);
	});
});

/** One zlib stream across several rectangles, flushed after each, as ZRLE servers do. */
class Deflater {
	private readonly d = zlib.createDeflate();
	compress(data: number[]): Promise<number[]> {
		return new Promise((resolve) => {
			this.d.write(Uint8Array.from(data));
			this.d.flush(zlib.constants.Z_SYNC_FLUSH, () => {
				const parts: Buffer[] = [];
				for (let c = this.d.read(); c !== null; c = this.d.read()) parts.push(c);
				const out = Buffer.concat(parts);
				resolve([out.length >>> 24, (out.length >> 16) & 255, (out.length >> 8) & 255, out.length & 255, ...out]);
			});
		});
	}
}

describe("ZRLE", () => {
	// Rectangle A: 70x3 at (0,0) = a 64x3 palette-RLE tile and a 6x3 packed-palette tile.
	const paletteRle = [
		128 + 3,
		...cpx(RED),
		...cpx(GREEN),
		...cpx(BLUE),
		// 192 pixels: red x100 (a run), green x1 (a single index), blue x91 (a run)
		0 | 128,
		99,
		1,
		2 | 128,
		90,
	];
	// 3 colours: 2 bits per index; 6 pixels per row = 12 bits, so each row is 2 bytes, zero-padded
	const packed = [
		3,
		...cpx(WHITE),
		...cpx(GREY),
		...cpx(RED),
		0b00_00_01_10,
		0b00_00_0000,
		0b10_10_10_10,
		0b10_10_0000,
		0b01_01_01_01,
		0b00_00_0000,
	];
	const rectA = [...paletteRle, ...packed];
	// Rectangle B: 10x2 at (0,3), plain RLE; the first run crosses the row end.
	const plainRle = [128, ...cpx(GREEN), 12, ...cpx(WHITE), 6];
	// Rectangle C: 2x2 at (20,5), raw compact pixels.
	const raw = [0, ...cpx(RED), ...cpx(GREEN), ...cpx(BLUE), ...cpx(WHITE)];
	// Rectangle D: 5x3 at (30,3), solid.
	const solid = [1, ...cpx(GREY)];
	// A run longer than 255 needs several length bytes: 64x5 = 320 pixels = 255 + 64 + 1.
	const longRun = [128, ...cpx(BLUE), 255, 64];

	const expected = painted(70, 8, (set) => {
		const order: RGB[] = [];
		for (let i = 0; i < 100; i++) order.push(RED);
		order.push(GREEN);
		for (let i = 0; i < 91; i++) order.push(BLUE);
		order.forEach((c, i) => {
			set(i % 64, Math.floor(i / 64), c);
		});
		const pal = [WHITE, GREY, RED];
		[
			[0, 0, 1, 2, 0, 0],
			[2, 2, 2, 2, 2, 2],
			[1, 1, 1, 1, 0, 0],
		].forEach((row, y) => {
			row.forEach((idx, x) => {
				set(64 + x, y, pal[idx] as RGB);
			});
		});
		for (let i = 0; i < 20; i++) set(i % 10, 3 + Math.floor(i / 10), i < 13 ? GREEN : WHITE);
		set(20, 5, RED);
		set(21, 5, GREEN);
		set(20, 6, BLUE);
		set(21, 6, WHITE);
		fill(set, 30, 3, 5, 3, GREY);
	});

	async function stream(): Promise<Array<[RectHeader, number[]]>> {
		const z = new Deflater();
		return [
			[rect(0, 0, 70, 3, 16), await z.compress(rectA)],
			[rect(0, 3, 10, 2, 16), await z.compress(plainRle)],
			[rect(20, 5, 2, 2, 16), await z.compress(raw)],
			[rect(30, 3, 5, 3, 16), await z.compress(solid)],
		];
	}

	test("palette RLE, packed palette, plain RLE, raw and solid tiles over one zlib stream", async () => {
		const fb = new Framebuffer(70, 8);
		const decoder = new ZrleDecoder();
		for (const [r, bytes] of await stream()) expect(decodeAll(decoder, r, bytes, fb).length).toBe(0);
		expect(fb.rgba).toEqual(expected);
	});

	test("bytes one at a time", async () => {
		const fb = new Framebuffer(70, 8);
		const decoder = new ZrleDecoder();
		for (const [r, bytes] of await stream()) decodeByteByByte(decoder, r, bytes, fb);
		expect(fb.rgba).toEqual(expected);
	});

	test("the zlib stream carries over: a later rectangle cannot be inflated on its own", async () => {
		const rects = await stream();
		const [r, bytes] = rects[1] as [RectHeader, number[]];
		const q = new ByteQueue();
		q.push(Uint8Array.from(bytes));
		expect(() => new ZrleDecoder().decodeRect(r, q, new Framebuffer(70, 8))).toThrow(/zlib data is corrupt/);
	});

	test("run lengths of several bytes", async () => {
		const fb = new Framebuffer(64, 5);
		decodeAll(new ZrleDecoder(), rect(0, 0, 64, 5, 16), await new Deflater().compress(longRun), fb);
		expect(fb.rgba).toEqual(painted(64, 5, (set) => fill(set, 0, 0, 64, 5, BLUE)));
	});

	async function failure(tile: number[], r = rect(0, 0, 4, 4, 16)): Promise<string> {
		const q = new ByteQueue();
		q.push(Uint8Array.from(await new Deflater().compress(tile)));
		try {
			new ZrleDecoder().decodeRect(r, q, new Framebuffer(8, 8));
			return "no error";
		} catch (error) {
			return (error as Error).message;
		}
	}

	test("bad tiles are refused with a reason", async () => {
		expect(await failure([17])).toMatch(/invalid subencoding 17/);
		expect(await failure([129])).toMatch(/invalid subencoding 129/);
		expect(await failure([128, ...cpx(RED), 16])).toMatch(/run of 17 pixels overflows its 4x4 tile/);
		expect(await failure([130, ...cpx(RED), ...cpx(BLUE), 5])).toMatch(/palette index 5 exceeds the palette of 2/);
		expect(await failure([3, ...cpx(RED), ...cpx(BLUE), ...cpx(GREEN), 0b11000000, 0, 0, 0])).toMatch(
			/palette index 3 exceeds the palette of 3/,
		);
		expect(await failure([0, ...cpx(RED)])).toMatch(/ends inside a tile/);
	});

	test("a length no rectangle of this size can need is refused before buffering", () => {
		const q = new ByteQueue();
		q.push(Uint8Array.of(0x7f, 0xff, 0xff, 0xff));
		expect(() => new ZrleDecoder().decodeRect(rect(0, 0, 4, 4, 16), q, new Framebuffer(8, 8))).toThrow(
			/claims 2147483647 bytes/,
		);
	});

	test("data that inflates beyond the rectangle is refused", async () => {
		const q = new ByteQueue();
		q.push(Uint8Array.from(await new Deflater().compress(new Array(200_000).fill(1))));
		expect(() => new ZrleDecoder().decodeRect(rect(0, 0, 4, 4, 16), q, new Framebuffer(8, 8))).toThrow(
			/inflates to more than/,
		);
	});
});
