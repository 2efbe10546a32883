/**
 * Encoder → decoder round trips. The encoder (src/demo/ast2500-encoder.ts) is
 * written from the format description independently of the decoder's block
 * grammar, colour maths and transform, so each checks the other.
 */
import { describe, expect, test } from "bun:test";
import { Ast2500Decoder, parseVideoHeader, yccToRgb } from "../../src/aspeed/index.ts";
import {
	Ast2500StreamEncoder,
	encodeAst2500Frame,
	encodeAst2500FrameWithStats,
	type RgbaPicture,
	renderConsole,
	sampleConsolePicture,
} from "../support/ast2500-encoder.ts";
import { psnr } from "../support/pixels.ts";

const limits = { maxWidth: 4096, maxHeight: 4096 };
const decode = (frame: Uint8Array, matrix?: "bt601" | "ami") =>
	new Ast2500Decoder({ colorMatrix: matrix }).decode(frame);

/** Blocks of at most four colours, every colour exactly representable (made from YCbCr). */
function paletteBlocks(width: number, height: number, seed = 3, matrix: "bt601" | "ami" = "ami"): RgbaPicture {
	let s = seed;
	const rand = (n: number) => {
		s = (Math.imul(s, 1103515245) + 12345) >>> 0;
		return (s >>> 8) % n;
	};
	const rgba = new Uint8Array(width * height * 4);
	for (let by = 0; by < height; by += 8) {
		for (let bx = 0; bx < width; bx += 8) {
			const count = 1 + rand(4);
			const colors = Array.from({ length: count }, () => {
				// Draw until the colour is inside the RGB gamut (no channel clipped).
				for (;;) {
					const c = yccToRgb(16 + rand(220), 16 + rand(225), 16 + rand(225), matrix);
					if (c.every((v) => v > 0 && v < 255)) return c;
				}
			});
			for (let y = by; y < Math.min(height, by + 8); y++) {
				for (let x = bx; x < Math.min(width, bx + 8); x++) {
					const c = colors[rand(count)] ?? [0, 0, 0];
					rgba.set([c[0], c[1], c[2], 255], (y * width + x) * 4);
				}
			}
		}
	}
	return { width, height, rgba };
}

/** Smooth colour ramps: nothing a VQ block can hold. */
function gradient(width: number, height: number): RgbaPicture {
	const rgba = new Uint8Array(width * height * 4);
	for (let y = 0; y < height; y++) {
		for (let x = 0; x < width; x++) {
			rgba.set([(x * 255) / width, (y * 255) / height, 128 + 100 * Math.sin(x / 9), 255], (y * width + x) * 4);
		}
	}
	return { width, height, rgba };
}

describe("round trip: DCT modes", () => {
	const screen = sampleConsolePicture(640, 480);

	test("4:4:4 DCT on a text console: PSNR >= 40 dB", () => {
		const { frame, stats } = encodeAst2500FrameWithStats(screen, { vq: false });
		expect(stats).toMatchObject({ blocks: 80 * 60, dctBlocks: 80 * 60, vqBlocks: 0 });
		const picture = decode(frame);
		expect([picture.width, picture.height]).toEqual([640, 480]);
		expect(psnr(picture.rgba, screen.rgba)).toBeGreaterThanOrEqual(40);
	});

	test("4:2:0 DCT on a text console: PSNR >= 40 dB", () => {
		const { frame, stats } = encodeAst2500FrameWithStats(screen, { mode: "420" });
		expect(stats).toMatchObject({ blocks: 40 * 30, dctBlocks: 40 * 30 });
		expect(parseVideoHeader(frame, limits).mode420).toBe(true);
		expect(psnr(decode(frame).rgba, screen.rgba)).toBeGreaterThanOrEqual(40);
	});

	test("sizes that are not block multiples keep their size and quality in both modes", () => {
		const odd = sampleConsolePicture(100, 60);
		for (const mode of ["444", "420"] as const) {
			const picture = decode(encodeAst2500Frame(odd, { mode, vq: false }));
			expect([picture.width, picture.height]).toEqual([100, 60]);
			expect(psnr(picture.rgba, odd.rgba)).toBeGreaterThanOrEqual(38);
		}
	});

	test("smooth colour content survives in both modes when encoder and decoder agree on the matrix", () => {
		const image = gradient(96, 64);
		expect(psnr(decode(encodeAst2500Frame(image, { vq: false })).rgba, image.rgba)).toBeGreaterThanOrEqual(40);
		expect(psnr(decode(encodeAst2500Frame(image, { mode: "420" })).rgba, image.rgba)).toBeGreaterThanOrEqual(36);
		// Encoding for the viewer's matrix and decoding with BT.601 visibly shifts the colours.
		const mismatched = decode(encodeAst2500Frame(image, { vq: false, colorMatrix: "ami" }), "bt601");
		expect(psnr(mismatched.rgba, image.rgba)).toBeLessThan(35);
		const ami = decode(encodeAst2500Frame(image, { vq: false, colorMatrix: "ami" }), "ami");
		expect(psnr(ami.rgba, image.rgba)).toBeGreaterThanOrEqual(40);
	});

	test("table selectors: the header carries them and quality rises with the selector", () => {
		const results: number[] = [];
		for (let sel = 0; sel <= 7; sel++) {
			const frame = encodeAst2500Frame(screen, { vq: false, jpegTableSelector: sel });
			expect(parseVideoHeader(frame, limits).jpegTableSelector).toBe(sel);
			results.push(psnr(decode(frame).rgba, screen.rgba));
		}
		expect(results[0]).toBeGreaterThan(20);
		expect(results[6]).toBeGreaterThan((results[0] ?? 0) + 8);
		for (let sel = 1; sel <= 6; sel++) expect(results[sel]).toBeGreaterThan(results[sel - 1] ?? 0);
		// Mapping 1 (chroma on the luma tables) round-trips too.
		const mapped = encodeAst2500Frame(gradient(64, 64), { vq: false, jpegTableSelector: 4, yuvTableMapping: 1 });
		expect(parseVideoHeader(mapped, limits).yuvTableMapping).toBe(1);
		expect(psnr(decode(mapped).rgba, gradient(64, 64).rgba)).toBeGreaterThan(30);
	});

	test("LOW blocks use the advance tables; 0x4 (next) and 0xC (explicit) decode the same", () => {
		const explicit = encodeAst2500Frame(screen, {
			vq: false,
			lowQuality: true,
			advanceTableSelector: 6,
			jpegTableSelector: 0,
		});
		const next = encodeAst2500Frame(screen, {
			vq: false,
			lowQuality: true,
			lowCode: "next",
			advanceTableSelector: 6,
			jpegTableSelector: 0,
		});
		expect(next.length).toBeLessThan(explicit.length);
		const a = decode(explicit);
		expect(decode(next).rgba).toEqual(a.rgba);
		// Quality is that of selector 6, not of the coarse JPEG selector 0.
		expect(psnr(a.rgba, screen.rgba)).toBeGreaterThanOrEqual(40);
	});

	test("explicit positions on every block (like V5) give the same picture", () => {
		const plain = decode(encodeAst2500Frame(screen, { mode: "420" }));
		const positioned = encodeAst2500Frame(screen, { mode: "420", explicitPositions: true });
		expect(decode(positioned).rgba).toEqual(plain.rgba);
	});
});

describe("round trip: VQ blocks", () => {
	test("a text console (<= 4 colours per block) is all VQ and comes back pixel for pixel", () => {
		const screen = sampleConsolePicture(320, 200);
		const { frame, stats } = encodeAst2500FrameWithStats(screen);
		expect(stats.vqBlocks).toBe(40 * 25);
		expect(decode(frame).rgba).toEqual(screen.rgba);
	});

	test("1-, 2-, 3- and 4-colour blocks of arbitrary representable colours are exact, in both matrices", () => {
		const image = paletteBlocks(64, 48);
		expect(decode(encodeAst2500Frame(image)).rgba).toEqual(image.rgba);
		const btImage = paletteBlocks(64, 48, 9, "bt601");
		expect(decode(encodeAst2500Frame(btImage, { colorMatrix: "bt601" }), "bt601").rgba).toEqual(btImage.rgba);
	});

	test("in a mixed picture every VQ-eligible block is exact and the rest is DCT", () => {
		const image = gradient(64, 64);
		const text = renderConsole(64, 32, [{ text: "PANIC" }, { text: "OK", fg: [255, 255, 85], bg: [0, 0, 170] }]);
		image.rgba.set(text.rgba, 0); // top half text, bottom half gradient
		const { frame, stats } = encodeAst2500FrameWithStats(image);
		expect(stats.vqBlocks).toBe(8 * 4);
		expect(stats.dctBlocks).toBe(8 * 4);
		const picture = decode(frame);
		expect(picture.rgba.subarray(0, 64 * 32 * 4)).toEqual(image.rgba.subarray(0, 64 * 32 * 4));
		expect(psnr(picture.rgba.subarray(64 * 32 * 4), image.rgba.subarray(64 * 32 * 4))).toBeGreaterThan(40);
	});
});

describe("round trip: partial frames", () => {
	const before = sampleConsolePicture(320, 240);
	const after = renderConsole(320, 240, [
		...Array.from({ length: 15 }, (_, i) => ({ text: "" as string, row: i })).map(() => ({ text: "" })),
	]);
	after.rgba.set(before.rgba);
	const line = renderConsole(320, 16, [{ text: "login: root", fg: [255, 255, 255] }]);
	after.rgba.set(line.rgba, 320 * 16 * 5 * 4); // replace text row 5

	for (const mode of ["444", "420"] as const) {
		test(`${mode}: only changed blocks are sent and they apply over the previous picture`, () => {
			const encoder = new Ast2500StreamEncoder({ mode });
			const decoder = new Ast2500Decoder();
			const full = encoder.encode(before);
			const first = decoder.decode(full);
			const partial = encoder.encode(after);
			expect(partial.length).toBeLessThan(full.length / 5);
			const second = decoder.decode(partial);
			const blocks = decoder.lastFrame?.blocks ?? 0;
			expect(blocks).toBeGreaterThan(0);
			expect(blocks).toBeLessThanOrEqual(mode === "444" ? 2 * 40 : 40);
			// Same pixels as a full encode of the new picture decoded from scratch.
			expect(second.rgba).toEqual(decode(encodeAst2500Frame(after, { mode })).rgba);
			if (mode === "444") expect(second.rgba).toEqual(after.rgba);
			// Rows far from the change are untouched.
			expect(second.rgba.subarray(0, 320 * 64 * 4)).toEqual(first.rgba.subarray(0, 320 * 64 * 4));
			// On a fresh decoder the partial frame alone leaves the rest black.
			const alone = decode(partial);
			expect(alone.rgba.subarray(0, 320 * 4 * 4).every((v, i) => (i & 3) === 3 || v === 0)).toBe(true);
		});
	}

	test("an unchanged picture gives a frame with only FRAME_END", () => {
		const encoder = new Ast2500StreamEncoder();
		const decoder = new Ast2500Decoder();
		decoder.decode(encoder.encode(before));
		const same = encoder.encode(before);
		expect(same.length).toBe(86 + 12); // one word with FRAME_END + 2 guard words
		decoder.decode(same);
		expect(decoder.lastFrame).toMatchObject({ blocks: 0, sawFrameEnd: true });
		expect(encoder.encode(before, { full: true }).length).toBeGreaterThan(1000);
	});

	test("a stream that reuses the decoder's colour cache stays exact and gets smaller", () => {
		const reuse = new Ast2500StreamEncoder({ reuseVqCache: true });
		const plain = new Ast2500StreamEncoder();
		const decoder = new Ast2500Decoder();
		let reusedBytes = 0;
		let plainBytes = 0;
		for (const image of [before, after, before, paletteBlocks(320, 240), after]) {
			const frame = reuse.encode(image);
			reusedBytes += frame.length;
			plainBytes += plain.encode(image).length;
			expect(decoder.decode(frame).rgba).toEqual(image.rgba);
		}
		expect(reusedBytes).toBeLessThan(plainBytes * 0.8);
	});

	test("a resolution change sends a full frame", () => {
		const encoder = new Ast2500StreamEncoder();
		const decoder = new Ast2500Decoder();
		decoder.decode(encoder.encode(before));
		const small = sampleConsolePicture(160, 96);
		const picture = decoder.decode(encoder.encode(small));
		expect([picture.width, picture.height]).toEqual([160, 96]);
		expect(picture.rgba).toEqual(small.rgba);
	});
});

describe("encoder input checks", () => {
	test("refuses mismatched buffers, empty pictures, positions beyond 255 and bad selectors", () => {
		expect(() => encodeAst2500Frame({ width: 8, height: 8, rgba: new Uint8Array(10) })).toThrow(RangeError);
		expect(() => encodeAst2500Frame({ width: 0, height: 8, rgba: new Uint8Array(0) })).toThrow(RangeError);
		expect(() => encodeAst2500Frame({ width: 2056, height: 8, rgba: new Uint8Array(2056 * 32) })).toThrow(RangeError);
		expect(() => encodeAst2500Frame(sampleConsolePicture(8, 8), { jpegTableSelector: 8 })).toThrow(RangeError);
	});
});
