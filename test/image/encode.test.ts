import { describe, expect, test } from "bun:test";
import sharp from "sharp";
import { createFrame } from "../../src/frame.ts";
import { encodeImage, encodePng, exactPalette } from "../../src/image/encode.ts";

/** A frame using exactly `colors` distinct colours (each pixel its index's colour), or noise. */
function frameWithColors(width: number, height: number, colors: number) {
	const rgba = new Uint8Array(width * height * 4);
	for (let p = 0; p < width * height; p++) {
		const c = (p * 7919) % colors;
		rgba[p * 4] = (c * 37) & 255;
		rgba[p * 4 + 1] = (c >> 3) & 255;
		rgba[p * 4 + 2] = (c * 11 + 5) & 255;
		rgba[p * 4 + 3] = 255;
	}
	return createFrame(width, height, rgba);
}

async function decode(png: Buffer) {
	const { data, info } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
	return { width: info.width, height: info.height, rgba: new Uint8Array(data) };
}

function pngColourType(png: Buffer): { depth: number; type: number } {
	// IHDR follows the 8-byte signature and the 8-byte chunk header.
	return { depth: png[24] as number, type: png[25] as number };
}

describe("encodePng", () => {
	for (const [colors, depth] of [
		[1, 1],
		[2, 1],
		[3, 2],
		[4, 2],
		[16, 4],
		[17, 8],
		[200, 8],
		[256, 8],
	] as const) {
		test(`${colors} colours: indexed PNG of bit depth ${depth}, pixel-exact`, async () => {
			// Odd widths exercise the bit packing at row ends.
			const frame = frameWithColors(37, 23, colors);
			const encoded = await encodeImage({ width: 37, height: 23, data: frame.rgba, channels: 4 });
			expect(encoded.palette).toBe(true);
			expect(encoded.colors).toBe(colors);
			expect(pngColourType(encoded.png)).toEqual({ depth, type: 3 });
			const back = await decode(encoded.png);
			expect([back.width, back.height]).toEqual([37, 23]);
			expect(Buffer.compare(Buffer.from(back.rgba), Buffer.from(frame.rgba))).toBe(0);
		});
	}

	test("more than 256 colours: truecolour PNG, still pixel-exact", async () => {
		const frame = frameWithColors(64, 48, 3000);
		expect(exactPalette({ width: 64, height: 48, data: frame.rgba, channels: 4 })).toBeUndefined();
		const encoded = await encodeImage({ width: 64, height: 48, data: frame.rgba, channels: 4 });
		expect(encoded.palette).toBe(false);
		expect(pngColourType(encoded.png).type).toBe(2);
		const back = await decode(encoded.png);
		expect(Buffer.compare(Buffer.from(back.rgba), Buffer.from(frame.rgba))).toBe(0);
	});

	test("exactly 257 colours is not squeezed into a palette", async () => {
		const frame = frameWithColors(257, 3, 257);
		const encoded = await encodeImage({ width: 257, height: 3, data: frame.rgba, channels: 4 });
		expect(encoded.palette).toBe(false);
		expect(Buffer.compare(Buffer.from((await decode(encoded.png)).rgba), Buffer.from(frame.rgba))).toBe(0);
	});

	test("RGB input (3 channels) encodes the same pixels", async () => {
		const frame = frameWithColors(20, 10, 5);
		const rgb = new Uint8Array(20 * 10 * 3);
		for (let p = 0; p < 200; p++) rgb.set(frame.rgba.subarray(p * 4, p * 4 + 3), p * 3);
		const encoded = await encodeImage({ width: 20, height: 10, data: rgb, channels: 3 });
		expect(Buffer.compare(Buffer.from((await decode(encoded.png)).rgba), Buffer.from(frame.rgba))).toBe(0);
	});

	test("a palette PNG is much smaller than truecolour for a console-like screen", async () => {
		const frame = frameWithColors(720, 400, 2);
		const png = await encodePng(frame);
		const truecolour = await sharp(frame.rgba, { raw: { width: 720, height: 400, channels: 4 } })
			.removeAlpha()
			.png()
			.toBuffer();
		expect(png.length).toBeLessThan(truecolour.length / 2);
	});
});
