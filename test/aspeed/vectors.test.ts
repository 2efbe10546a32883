/**
 * The shared test vectors: frames whose pixels the BMC's
 * own viewer decoded. test/fixtures/ast2500/README.md says what each must give.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Ast2500Decoder } from "../../src/aspeed/index.ts";
import { pixelAt, psnr, readBytes, readPng } from "../support/pixels.ts";

const dir = join(import.meta.dir, "../fixtures/ast2500");
const frame = (name: string) => readBytes(join(dir, `${name}.bin`));

function allPixels(rgba: Uint8Array, expected: number[]): boolean {
	for (let i = 0; i < rgba.length; i += 4) {
		if (rgba[i] !== expected[0] || rgba[i + 1] !== expected[1] || rgba[i + 2] !== expected[2] || rgba[i + 3] !== 255) {
			return false;
		}
	}
	return true;
}

describe("AST2500 shared vectors", () => {
	test("V1: one VQ 1-colour block is (255, 47, 0) with the viewer's matrix (default), (255, 0, 0) with BT.601", async () => {
		const bin = await frame("v1_vq1_8x8");
		const ours = new Ast2500Decoder().decode(bin);
		expect([ours.width, ours.height]).toEqual([8, 8]);
		expect(allPixels(ours.rgba, [255, 47, 0])).toBe(true);
		expect(ours.rgba).toEqual((await readPng(join(dir, "v1_vq1_8x8.png"))).rgba);

		const bt601 = new Ast2500Decoder({ colorMatrix: "bt601" }).decode(bin);
		expect(allPixels(bt601.rgba, [255, 0, 0])).toBe(true);
	});

	test("V2: VQ 2-colour checkerboard, then an explicit-position block reusing a cache slot", async () => {
		const picture = new Ast2500Decoder().decode(await frame("v2_vq2_skip_16x8"));
		expect([picture.width, picture.height]).toEqual([16, 8]);
		for (let y = 0; y < 8; y++) {
			for (let x = 0; x < 16; x++) {
				const white = x >= 8 || ((x + y) & 1) === 1;
				expect(pixelAt(picture, x, y)).toEqual(white ? [255, 255, 255, 255] : [0, 0, 0, 255]);
			}
		}
		expect(picture.rgba).toEqual((await readPng(join(dir, "v2_vq2_skip_16x8.png"))).rgba);
	});

	test("V3: one DC-only JPEG block is (133, 133, 133)", async () => {
		const picture = new Ast2500Decoder().decode(await frame("v3_jpeg_dc_8x8"));
		expect(allPixels(picture.rgba, [133, 133, 133])).toBe(true);
		expect(picture.rgba).toEqual((await readPng(join(dir, "v3_jpeg_dc_8x8.png"))).rgba);
	});

	test("V4: 160x96 console frame equals the viewer's decode pixel for pixel with the default matrix", async () => {
		const bin = await frame("v4_console_444_q7");
		const viewer = await readPng(join(dir, "v4_console_444_q7.png"));
		const ami = new Ast2500Decoder().decode(bin);
		expect([ami.width, ami.height]).toEqual([viewer.width, viewer.height]);
		// Bit-exact IDCT, quantisation and colour tables: identical, so PSNR is infinite (>= 45 dB asked).
		expect(psnr(ami.rgba, viewer.rgba)).toBe(Number.POSITIVE_INFINITY);

		// With BT.601 the saturated colours differ (the V4 encoder used the inverse of
		// AMI's matrix); grey console text is unaffected.
		const ours = new Ast2500Decoder({ colorMatrix: "bt601" }).decode(bin);
		expect(psnr(ours.rgba, viewer.rgba)).toBeGreaterThan(30);
		let greyMismatch = 0;
		for (let i = 0; i < viewer.rgba.length; i += 4) {
			const grey = viewer.rgba[i] === viewer.rgba[i + 1] && viewer.rgba[i + 1] === viewer.rgba[i + 2];
			if (grey && (ours.rgba[i] !== ami.rgba[i] || ours.rgba[i + 1] !== ami.rgba[i + 1])) greyMismatch++;
		}
		expect(greyMismatch).toBe(0);
	});

	test("V4 against the source image: >= 50 dB with the viewer's matrix", async () => {
		const source = await readPng(join(dir, "v4_console_source.png"));
		const ami = new Ast2500Decoder({ colorMatrix: "ami" }).decode(await frame("v4_console_444_q7"));
		expect(psnr(ami.rgba, source.rgba)).toBeGreaterThan(50);
	});
});
