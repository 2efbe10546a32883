/**
 * Block grammar of the frame decoder, with hand-built bit streams
 * (the bit reader, Huffman, IDCT and colour steps). Colours are checked through yccToRgb so each
 * expectation reads as "this Y/Cb/Cr landed on these pixels".
 */
import { describe, expect, test } from "bun:test";
import { AC_LUMA, DC_LUMA } from "../../src/aspeed/huffman.ts";
import { Ast2500Decoder, yccToRgb } from "../../src/aspeed/index.ts";
import { at, b, dataUnit, flatBlock444, huffCode, testFrame, vqEntry } from "../support/ast2500-bits.ts";
import { errorOf } from "../support/ikvm-error.ts";
import { pixelAt } from "../support/pixels.ts";

const END = "1001";
const grey = (y: number) => [...yccToRgb(y, 128, 128), 255];
/** VQ 1-colour block loading `y` (neutral chroma) into slot 0. */
const vq1 = (y: number) => `0101${vqEntry(0, (y << 16) | 0x8080)}`;
const vq1At = (x: number, y: number, luma: number) => `${at(0xd, x, y)}${vqEntry(0, (luma << 16) | 0x8080)}`;

function blockColor(picture: { width: number; rgba: Uint8Array }, bx: number, by: number, size = 8): number[] {
	const first = pixelAt(picture as never, bx * size, by * size);
	for (let j = 0; j < size; j++) {
		for (let i = 0; i < size; i++) {
			const x = bx * size + i;
			const y = by * size + j;
			if (x >= picture.width) continue;
			const p = pixelAt(picture as never, x, y);
			if (p.join() !== first.join()) return [-1, x, y];
		}
	}
	return first;
}

describe("position and block codes", () => {
	test("blocks advance left to right, top to bottom, and wrap to (0,0) after the last", () => {
		const d = new Ast2500Decoder();
		const p = d.decode(testFrame(vq1(50) + vq1(60) + vq1(70) + vq1(80) + vq1(90) + END, { width: 16, height: 16 }));
		expect(blockColor(p, 0, 0)).toEqual(grey(90));
		expect(blockColor(p, 1, 0)).toEqual(grey(60));
		expect(blockColor(p, 0, 1)).toEqual(grey(70));
		expect(blockColor(p, 1, 1)).toEqual(grey(80));
		expect(d.lastFrame?.blocks).toBe(5);
		expect(d.lastFrame?.sawFrameEnd).toBe(true);
	});

	test("explicit positions (X:8 Y:8) jump, and the next block continues from there", () => {
		const d = new Ast2500Decoder();
		const p = d.decode(testFrame(vq1At(1, 1, 100) + vq1(120) + END, { width: 16, height: 16 }));
		expect(blockColor(p, 1, 1)).toEqual(grey(100));
		expect(blockColor(p, 0, 0)).toEqual(grey(120)); // (1,1) was last: wrapped
		expect(blockColor(p, 1, 0)).toEqual([0, 0, 0, 255]); // never drawn
	});

	test("positions outside the picture are decoded but not drawn", () => {
		const d = new Ast2500Decoder();
		const p = d.decode(testFrame(vq1At(200, 200, 235) + vq1At(0, 0, 100) + END));
		expect(blockColor(p, 0, 0)).toEqual(grey(100));
		expect(d.lastFrame?.blocks).toBe(2);
	});

	test("undefined codes 0x1/0x3/0xB consume 3 bits (not 4) and draw nothing", () => {
		// "0001" is code 0x1; its last bit starts the next code: "1001" = FRAME_END.
		const d = new Ast2500Decoder();
		const p = d.decode(testFrame(`000${END}`));
		expect(d.lastFrame).toMatchObject({ blocks: 1, sawFrameEnd: true });
		expect(blockColor(p, 0, 0)).toEqual([0, 0, 0, 255]);
		// 0x3 then 0xB then FRAME_END, each sharing its last bit with the next code.
		d.decode(testFrame(`001101${END}`));
		expect(d.lastFrame).toMatchObject({ blocks: 2, sawFrameEnd: true });
	});

	test("without FRAME_END the frame stops at the viewer's word rule, dropping the last block", () => {
		// Four 31-bit VQ blocks fill 4 words exactly; after block 3 the reader's word index reaches 4.
		const d = new Ast2500Decoder();
		const p = d.decode(testFrame(vq1(50) + vq1(60) + vq1(70) + vq1(80), { width: 16, height: 16, guardWords: 0 }));
		expect(d.lastFrame).toMatchObject({ blocks: 3, sawFrameEnd: false });
		expect(blockColor(p, 1, 1)).toEqual([0, 0, 0, 255]);
		// With the two guard words the encoder rule asks for, all four blocks arrive.
		d.decode(testFrame(vq1(50) + vq1(60) + vq1(70) + vq1(80), { width: 16, height: 16, guardWords: 2 }));
		expect(d.lastFrame?.blocks).toBeGreaterThanOrEqual(4);
	});

	test("an empty frame (CompressSize 0) decodes exactly one block from zero bits, like the viewer", () => {
		const d = new Ast2500Decoder();
		const p = d.decode(testFrame("", { guardWords: 0 }));
		expect(d.lastFrame).toMatchObject({ blocks: 1, sawFrameEnd: false });
		expect(p.width).toBe(8);
	});
});

describe("DCT blocks", () => {
	test("JPEG 4:4:4 DC-only block: Y = (DC·M >> 3) + 128 (spec V3)", () => {
		const p = new Ast2500Decoder().decode(testFrame(`0000${flatBlock444(10)}${END}`));
		expect(blockColor(p, 0, 0)).toEqual([133, 133, 133, 255]);
	});

	test("DC predictors: Y carries across JPEG, VQ, explicit-position and LOW blocks; reset each frame", () => {
		const d = new Ast2500Decoder();
		// JPEG Y DC 10 at (0,0); VQ at (1,0); JPEG at (2,0) with diff 0 → DC still 10.
		const frame = testFrame(`0000${flatBlock444(10)}${vq1(235)}${at(0x8, 0, 1)}${flatBlock444(0)}${END}`, {
			width: 24,
			height: 16,
		});
		const p = d.decode(frame);
		expect(blockColor(p, 0, 0)).toEqual(grey(130));
		expect(blockColor(p, 0, 1)).toEqual(grey(130));
		// Same frame again: predictors restart at 0, so the picture is identical.
		expect(d.decode(frame).rgba).toEqual(p.rgba);
	});

	test("chroma DC predictors are separate for Cb and Cr", () => {
		// Block 1: Cb DC +8, Cr DC -8. Block 2: diffs 0 → same chroma.
		const p = new Ast2500Decoder().decode(
			testFrame(`0000${flatBlock444(0, 8, -8)}0000${flatBlock444(0, 0, 0)}${END}`, { width: 16 }),
		);
		const cb = 128 + ((8 * 3) >> 3); // chroma sel 7 DC multiplier 3
		const cr = 128 + ((-8 * 3) >> 3);
		expect(blockColor(p, 0, 0)).toEqual([...yccToRgb(128, cb, cr), 255]);
		expect(blockColor(p, 1, 0)).toEqual(blockColor(p, 0, 0));
	});

	test("LOW code 0x4 is a DCT block with the advance tables at the next position (AMI misreads it)", () => {
		// JPEG sel 7 (luma M00 = 2), advance sel 0 (M00 = 20). Y predictor stays 10.
		const bits = `0000${flatBlock444(10)}0100${flatBlock444(0)}${at(0xc, 0, 1)}${flatBlock444(0)}${END}`;
		const p = new Ast2500Decoder().decode(testFrame(bits, { width: 16, height: 16, advanceTableSelector: 0 }));
		expect(blockColor(p, 0, 0)).toEqual(grey(130));
		expect(blockColor(p, 1, 0)).toEqual(grey(128 + ((10 * 20) >> 3)));
		expect(blockColor(p, 0, 1)).toEqual(grey(128 + ((10 * 20) >> 3)));
	});

	test("the YUV table mapping flag switches chroma to the luma tables (1 = luma, as AMI)", () => {
		const bits = `0000${flatBlock444(0, 1, 0)}${END}`;
		// Selector 0: chroma base M00 = 31, luma M00 = 20.
		const separate = new Ast2500Decoder().decode(testFrame(bits, { jpegTableSelector: 0, yuvTableMapping: 0 }));
		const mapped = new Ast2500Decoder().decode(testFrame(bits, { jpegTableSelector: 0, yuvTableMapping: 1 }));
		expect(blockColor(separate, 0, 0)).toEqual([...yccToRgb(128, 128 + (31 >> 3), 128), 255]);
		expect(blockColor(mapped, 0, 0)).toEqual([...yccToRgb(128, 128 + (20 >> 3), 128), 255]);
	});

	test("AC coefficients shape the block (first horizontal frequency: left bright, right dark)", () => {
		const bits = `0000${dataUnit(0, false, [[0, 30]])}${dataUnit(0, true)}${dataUnit(0, true)}${END}`;
		const p = new Ast2500Decoder().decode(testFrame(bits));
		for (let y = 0; y < 8; y++) expect(pixelAt(p, 0, y)).toEqual(pixelAt(p, 0, 0));
		expect(pixelAt(p, 0, 0)[0]).toBeGreaterThan(pixelAt(p, 7, 0)[0] ?? 255);
	});

	test("ZRL and a coefficient at zig-zag position 63 decode without an EOB", () => {
		// DC cat 0, three ZRL (48 zeros), run 14 → position 63, value +1; no EOB after position 63.
		const zrl = huffCode(AC_LUMA, 0xf0).repeat(3);
		const y = `${huffCode(DC_LUMA, 0)}${zrl}${huffCode(AC_LUMA, (14 << 4) | 1)}1`;
		const bits = `0000${y}${dataUnit(0, true)}${dataUnit(0, true)}${vq1(235)}${END}`;
		const d = new Ast2500Decoder();
		const p = d.decode(testFrame(bits, { width: 16 }));
		// The stream stayed in sync: the VQ block after it is intact.
		expect(blockColor(p, 1, 0)).toEqual(grey(235));
		expect(d.lastFrame?.sawFrameEnd).toBe(true);
	});

	test("PASS2 refines the previous YUV by (sample − 128) and does not update it (spec §8.2)", () => {
		const d = new Ast2500Decoder();
		// JPEG Y DC 10 → 130; PASS2 at (0,0) with diff 0 (DC 10, advance M 2 → +2) → 132 → RGB 135.
		const pass2 = `${at(0xa, 0, 0)}${flatBlock444(0)}`;
		let p = d.decode(testFrame(`0000${flatBlock444(10)}${pass2}${END}`));
		expect(blockColor(p, 0, 0)).toEqual([135, 135, 135, 255]);
		// Another PASS2 in a later frame refines the same stored 130 again, not 132.
		p = d.decode(testFrame(`${at(0xa, 0, 0)}${flatBlock444(10)}${END}`));
		expect(blockColor(p, 0, 0)).toEqual([135, 135, 135, 255]);
		// PASS2 0x2 at the next position: VQ Y 100 at (0,0) and (1,0), back to (0,0), then PASS2
		// with Y DC 40 (×2 >> 3 = +10) lands on (1,0) → 110; (0,0) keeps 100.
		p = d.decode(testFrame(`${vq1(100)}${vq1(100)}${vq1At(0, 0, 100)}0010${flatBlock444(40)}${END}`, { width: 16 }));
		expect(blockColor(p, 0, 0)).toEqual(grey(100));
		expect(blockColor(p, 1, 0)).toEqual(grey(110));
	});

	test("PASS2 clamps the refined value to 0..255", () => {
		const d = new Ast2500Decoder();
		// VQ white (Y 235) then PASS2 with a big positive delta → Y 255.
		const p = d.decode(testFrame(`${vq1(235)}${at(0xa, 0, 0)}${flatBlock444(400)}${END}`));
		expect(blockColor(p, 0, 0)).toEqual(grey(255));
	});
});

describe("4:2:0", () => {
	test("four Y units (TL, TR, BL, BR) then Cb, Cr over the 16x16 macroblock", () => {
		const y = dataUnit(10) + dataUnit(10) + dataUnit(10) + dataUnit(10); // DC 10, 20, 30, 40
		const p = new Ast2500Decoder().decode(
			testFrame(`0000${y}${dataUnit(0, true)}${dataUnit(0, true)}${END}`, { width: 16, height: 16, mode420: true }),
		);
		expect(blockColor(p, 0, 0)).toEqual(grey(128 + (20 >> 3)));
		expect(blockColor(p, 1, 0)).toEqual(grey(128 + (40 >> 3)));
		expect(blockColor(p, 0, 1)).toEqual(grey(128 + (60 >> 3)));
		expect(blockColor(p, 1, 1)).toEqual(grey(128 + (80 >> 3)));
	});

	test("each chroma sample covers a 2x2 pixel square (nearest neighbour)", () => {
		const flatY = dataUnit(0) + dataUnit(0) + dataUnit(0) + dataUnit(0);
		const cb = dataUnit(0, true, [[0, 40]]); // horizontal chroma ramp
		const p = new Ast2500Decoder().decode(
			testFrame(`0000${flatY}${cb}${dataUnit(0, true)}${END}`, { width: 16, height: 16, mode420: true }),
		);
		for (let y = 0; y < 16; y++) {
			for (let x = 0; x < 16; x += 2) expect(pixelAt(p, x + 1, y)).toEqual(pixelAt(p, x, y));
			expect(pixelAt(p, 0, y)).toEqual(pixelAt(p, 0, 0));
		}
		expect(pixelAt(p, 0, 0)).not.toEqual(pixelAt(p, 14, 0));
	});

	test("a width/height not divisible by 16 is clipped cleanly (no shear)", () => {
		const mb = `0000${dataUnit(8)}${dataUnit(0)}${dataUnit(0)}${dataUnit(0)}${dataUnit(0, true)}${dataUnit(0, true)}`;
		// Macroblock k (raster order) gets Y DC 8·(k+1): levels 130, 132, 134, 136.
		const p = new Ast2500Decoder().decode(testFrame(mb.repeat(4) + END, { width: 20, height: 20, mode420: true }));
		expect([p.width, p.height, p.rgba.length]).toEqual([20, 20, 20 * 20 * 4]);
		for (let y = 0; y < 20; y++) {
			for (let x = 0; x < 20; x++) {
				const k = (y >> 4) * 2 + (x >> 4);
				expect(pixelAt(p, x, y)).toEqual(grey(128 + ((8 * (k + 1) * 2) >> 3)));
			}
		}
	});

	test("PASS2 in 4:2:0 is parsed and dropped; the stream stays in sync", () => {
		const mb = `${dataUnit(10)}${dataUnit(0)}${dataUnit(0)}${dataUnit(0)}${dataUnit(0, true)}${dataUnit(0, true)}`;
		const bits = `0000${mb}${at(0xa, 0, 0)}${flatBlock444(50)}${at(0x8, 1, 0)}${mb}${END}`;
		const p = new Ast2500Decoder().decode(testFrame(bits, { width: 32, height: 16, mode420: true }));
		expect(blockColor(p, 0, 0)).toEqual(grey(130));
		// PASS2 added 50 to the Y predictor: the next macroblock's DC is 10 + 50 + 10 = 70.
		expect(blockColor(p, 2, 0)).toEqual(grey(128 + ((70 * 2) >> 3)));
	});
});

describe("VQ blocks", () => {
	test("4-colour block: 2-bit indices in raster order select the palette entries", () => {
		const colors = [0x108080, 0x508080, 0x908080, 0xeb8080];
		const entries = colors.map((c, i) => vqEntry(i, c)).join("");
		let bitmap = "";
		for (let p = 0; p < 64; p++) bitmap += b((p % 8) >> 1, 2); // columns 0-1 → 0, 2-3 → 1, ...
		const p = new Ast2500Decoder().decode(testFrame(`0111${entries}${bitmap}${END}`));
		for (let x = 0; x < 8; x++) expect(pixelAt(p, x, 5)).toEqual(grey((colors[x >> 1] ?? 0) >> 16));
	});

	test("the colour cache persists across frames: a fresh decoder has the defaults", () => {
		// Only references slot 2, no update: default 0x808080 → RGB 130.
		const refSlot2 = testFrame(`0101${vqEntry(2)}${END}`);
		expect(blockColor(new Ast2500Decoder().decode(refSlot2), 0, 0)).toEqual(grey(128));
		expect(grey(128)).toEqual([130, 130, 130, 255]);
		const d = new Ast2500Decoder();
		d.decode(testFrame(`0101${vqEntry(2, 0x408080)}${END}`));
		expect(blockColor(d.decode(refSlot2), 0, 0)).toEqual(grey(0x40));
		d.reset();
		expect(blockColor(d.decode(refSlot2), 0, 0)).toEqual(grey(128));
	});

	test("two entries naming the same slot: the later update wins for both (colours resolve after the entries)", () => {
		const entries = vqEntry(1, 0x208080) + vqEntry(1, 0xd08080);
		const bitmap = "0".repeat(32) + "1".repeat(32);
		const p = new Ast2500Decoder().decode(testFrame(`0110${entries}${bitmap}${END}`));
		expect(blockColor(p, 0, 0)).toEqual(grey(0xd0));
	});

	test("VQ in 4:2:0 paints the 8x8 pattern scaled 2x over the macroblock", () => {
		const entries = vqEntry(0, 0x108080) + vqEntry(1, 0xeb8080);
		const bitmap = "01".repeat(32); // vertical stripes
		const p = new Ast2500Decoder().decode(
			testFrame(`0110${entries}${bitmap}${END}`, { width: 16, height: 16, mode420: true }),
		);
		expect(pixelAt(p, 0, 0)).toEqual(grey(0x10));
		expect(pixelAt(p, 1, 0)).toEqual(grey(0x10));
		expect(pixelAt(p, 2, 15)).toEqual(grey(0xeb));
	});
});

describe("frames over frames", () => {
	test("a partial frame applies over the previous picture; the result is a copy", () => {
		const d = new Ast2500Decoder();
		const first = d.decode(testFrame(vq1(50) + vq1(60) + vq1(70) + vq1(80) + END, { width: 16, height: 16 }));
		first.rgba.fill(7); // caller's copy, must not leak into the decoder
		const second = d.decode(testFrame(vq1At(1, 1, 200) + END, { width: 16, height: 16 }));
		expect(blockColor(second, 0, 0)).toEqual(grey(50));
		expect(blockColor(second, 1, 0)).toEqual(grey(60));
		expect(blockColor(second, 1, 1)).toEqual(grey(200));
		const third = d.decode(testFrame(END, { width: 16, height: 16 }));
		expect(third.rgba).toEqual(second.rgba);
	});

	test("a resolution change starts a new black picture of the new size", () => {
		const d = new Ast2500Decoder();
		d.decode(testFrame(vq1(235) + END));
		const p = d.decode(testFrame(vq1At(1, 0, 100) + END, { width: 16, height: 8 }));
		expect([p.width, p.height]).toEqual([16, 8]);
		expect(blockColor(p, 0, 0)).toEqual([0, 0, 0, 255]);
		expect(blockColor(p, 1, 0)).toEqual(grey(100));
	});

	test("a corrupt Huffman code is a PROTOCOL error at the decode stage, not a hang", () => {
		const error = errorOf(() => new Ast2500Decoder().decode(testFrame(`0000${"1".repeat(40)}`)));
		expect(error.code).toBe("PROTOCOL");
		expect(error.stage).toBe("decode");
		expect(error.message).toContain("invalid Huffman code");
	});
});

describe("apply and snapshot", () => {
	test("apply() updates the picture without copying; snapshot() copies it; decode() is both", () => {
		const d = new Ast2500Decoder();
		expect(d.snapshot()).toBeUndefined();
		const info = d.apply(testFrame(`0101${vqEntry(0, 0xeb8080)}1001`));
		expect(info).toMatchObject({ blocks: 1, sawFrameEnd: true });
		expect(info.header.width).toBe(8);
		const shot = d.snapshot();
		expect(shot && pixelAt(shot, 3, 3)).toEqual([255, 255, 255, 255]);
		shot?.rgba.fill(0);
		expect(d.snapshot()?.rgba).not.toEqual(shot?.rgba);
	});
});
