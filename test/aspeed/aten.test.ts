/**
 * The ATEN dialect of the ASPEED decoder, with hand-built bit streams: the
 * block-code set, 0x4 blocks with the selector-0 tables, the per-frame VQ
 * cache, the end-of-stream rule, the block budget and header validation.
 * Where the AMI dialect reads the same bits differently, both are checked.
 */
import { describe, expect, test } from "bun:test";
import { createAtenDecoder } from "../../src/aspeed/aten.ts";
import { Ast2500Decoder, yccToRgb } from "../../src/aspeed/index.ts";
import { b, packBits, testFrame, vqEntry } from "../support/ast2500-bits.ts";
import { errorOf } from "../support/ikvm-error.ts";
import { pixelAt } from "../support/pixels.ts";

const FRAME_END = "1001";
/** A DC-only 4:4:4 DCT block body: Y DC +10, Cb and Cr DC 0. */
const DC10_BODY = "101 1010 1010  00 00  00 00";

function payload(bits: string, header = [7, 7, 0x01, 0xbc], guardWords = 2): Uint8Array {
	const data = packBits(bits, guardWords);
	const out = new Uint8Array(4 + data.length);
	out.set(header);
	out.set(data, 4);
	return out;
}

function decode(p: Uint8Array, width = 8, height = 8) {
	const result = createAtenDecoder().decode(p, { width, height });
	if (result.kind !== "picture") throw new Error(result.kind);
	return result;
}

describe("ATEN dialect", () => {
	test("PASS2 (0x2/0xA) and the undefined codes 0x1/0x3/0xB are errors, not 3-bit skips", () => {
		for (const code of [0x1, 0x2, 0x3, 0xa, 0xb]) {
			const bits = `${b(code, 4)} ${code & 8 ? "00000000 00000000" : ""} ${DC10_BODY} ${FRAME_END}`;
			const error = errorOf(() => decode(payload(bits)));
			expect(error.code).toBe("PROTOCOL");
			expect(error.stage).toBe("decode");
			expect(error.message).toContain(`0x${code.toString(16)}`);
		}
		// The AMI dialect skips an undefined code's 3 bits and carries on: the code's last bit
		// starts the next block (here 1101 = VQ 1-colour at explicit (1,0)).
		const ami = new Ast2500Decoder().decode(
			testFrame(`000 1101 00000001 00000000 ${vqEntry(1)} ${FRAME_END}`, { width: 16 }),
		);
		expect(pixelAt(ami, 8, 0)).toEqual([255, 255, 255, 255]);
	});

	test("0x4 is a DCT block at the next position with the selector-0 (advance) tables", () => {
		const normal = decode(payload(`0000 ${DC10_BODY} ${FRAME_END}`));
		const low = decode(payload(`0100 ${DC10_BODY} ${FRAME_END}`));
		// Luma table 7 has 2 at DC: 10·2 = 20 → 20 >> 3 = 2 → Y 130. Table 0 has 20: 200 >> 3 = 25 → Y 153.
		expect(pixelAt(normal.picture, 0, 0)).toEqual([...yccToRgb(130, 128, 128, "bt601"), 255]);
		expect(pixelAt(low.picture, 3, 3)).toEqual([...yccToRgb(153, 128, 128, "bt601"), 255]);
		const lowAt = decode(payload(`1100 00000001 00000000 ${DC10_BODY} ${FRAME_END}`), 16, 8);
		expect(pixelAt(lowAt.picture, 8, 0)).toEqual([...yccToRgb(153, 128, 128, "bt601"), 255]);
		expect(pixelAt(lowAt.picture, 0, 0)).toEqual([0, 0, 0, 255]);
	});

	test("luma and chroma selectors are independent (byte 0 luma, byte 1 chroma)", () => {
		// Cb DC +10 (chroma category 4 = 1110): chroma table 7 has 3 at DC, table 0 has 31.
		const bits = `0000 00 1010  1110 1010 00  00 00 ${FRAME_END}`;
		const chroma7 = decode(payload(bits, [0, 7, 0x01, 0xbc]));
		const chroma0 = decode(payload(bits, [7, 0, 0x01, 0xbc]));
		expect(pixelAt(chroma7.picture, 0, 0)).toEqual([...yccToRgb(128, 128 + ((10 * 3) >> 3), 128, "bt601"), 255]);
		expect(pixelAt(chroma0.picture, 0, 0)).toEqual([...yccToRgb(128, 128 + ((10 * 31) >> 3), 128, "bt601"), 255]);
	});

	test("the VQ colour cache starts from the defaults every frame (AMI keeps it)", () => {
		const load = `0101 ${vqEntry(2, 0x51_5a_f0)} ${FRAME_END}`;
		const reuse = `0101 ${vqEntry(2)} ${FRAME_END}`;
		const aten = createAtenDecoder();
		aten.decode(payload(load), { width: 8, height: 8 });
		const second = aten.decode(payload(reuse), { width: 8, height: 8 });
		if (second.kind !== "picture") throw new Error(second.kind);
		expect(pixelAt(second.picture, 0, 0)).toEqual([...yccToRgb(0x80, 0x80, 0x80, "bt601"), 255]);
		const ami = new Ast2500Decoder();
		ami.decode(testFrame(load));
		expect(pixelAt(ami.decode(testFrame(reuse)), 0, 0)).toEqual([...yccToRgb(0x51, 0x5a, 0xf0, "ami"), 255]);
	});

	test("the frame runs to FRAME_END even in the last word; AMI's buffered-word rule stops early", () => {
		// Eight 7-bit VQ blocks referencing white (slot 1), then FRAME_END: 60 bits, no padding.
		const bits = `${`0101 ${vqEntry(1)} `.repeat(8)} ${FRAME_END}`;
		const aten = decode(payload(bits, [7, 7, 0x01, 0xbc], 0), 64, 8);
		expect(aten.info).toEqual({ blocks: 8, sawFrameEnd: true });
		expect(pixelAt(aten.picture, 63, 7)).toEqual([255, 255, 255, 255]);
		const ami = new Ast2500Decoder();
		ami.decode(testFrame(bits, { width: 64, guardWords: 0 }));
		expect(ami.lastFrame).toMatchObject({ blocks: 1, sawFrameEnd: false });
	});

	test("a frame that fails half way marks the picture incomplete until the next full frame", () => {
		const decoder = createAtenDecoder();
		const full = payload(`0101 ${vqEntry(1)} ${FRAME_END}`);
		expect(decoder.decode(full, { width: 8, height: 8 })).toMatchObject({ complete: true });
		expect(() => decoder.decode(payload(`0101 ${vqEntry(0)} 0010 ${FRAME_END}`), { width: 8, height: 8 })).toThrow();
		const partial = payload(`1101 00000000 00000000 ${vqEntry(1)} ${FRAME_END}`);
		// One explicit block covers the whole 1x1 grid: a full frame again.
		expect(decoder.decode(partial, { width: 8, height: 8 })).toMatchObject({ complete: true });
		expect(() => decoder.decode(payload(`0010 ${FRAME_END}`), { width: 16, height: 8 })).toThrow();
		const left = payload(`0101 ${vqEntry(1)} ${FRAME_END}`);
		expect(decoder.decode(left, { width: 16, height: 8 })).toMatchObject({ complete: false, resized: false });
	});

	test("a stream of endless tiny blocks hits the block budget instead of running on", () => {
		const bits = `0101 ${vqEntry(1)} `.repeat(4200);
		const error = errorOf(() => decode(payload(bits), 8, 8));
		expect(error.code).toBe("PROTOCOL");
		expect(error.message).toContain("blocks");
	});

	test("header and size validation", () => {
		const ok = `0101 ${vqEntry(1)} ${FRAME_END}`;
		expect(errorOf(() => decode(payload(ok, [12, 7, 0x01, 0xbc]))).message).toContain("selector");
		expect(errorOf(() => decode(payload(ok, [7, 12, 0x01, 0xbc]))).message).toContain("selector");
		expect(errorOf(() => decode(payload(ok, [7, 7, 0x01, 0xbd]))).message).toContain("445");
		expect(errorOf(() => decode(new Uint8Array([7, 7, 1, 0xbc, 0, 0, 0]))).message).toContain("too short");
		const limited = createAtenDecoder({ maxWidth: 640, maxHeight: 480 });
		expect(errorOf(() => limited.decode(payload(ok), { width: 641, height: 480 })).code).toBe("TOO_LARGE");
		expect(errorOf(() => limited.decode(payload(ok), { width: 0, height: 480 })).code).toBe("PROTOCOL");
		// 8-bit block positions: 4:4:4 cannot address a grid of 257 columns.
		expect(errorOf(() => createAtenDecoder().decode(payload(ok), { width: 2056, height: 8 })).message).toContain("255");
		expect(createAtenDecoder().decode(payload(ok), { width: 2048, height: 8 }).kind).toBe("picture");
		expect(createAtenDecoder().decode(payload(ok).subarray(0, 6), { width: 8, height: 8, dataLength: 20 })).toEqual({
			kind: "need-more",
			missing: 14,
		});
		expect(createAtenDecoder().decode(new Uint8Array(), { width: 8, height: 8 })).toEqual({ kind: "no-signal" });
	});

	test("4:2:0: one macroblock per grid position, clipped at odd sizes", () => {
		// Y0..Y3 DC 0 (`00` + EOB `1010` each), Cb/Cr `00 00`: a grey macroblock at (0,0), then (1,0).
		const mb = `0000 ${"00 1010 ".repeat(4)} 00 00 00 00`;
		const result = decode(payload(`${mb} ${mb} ${FRAME_END}`, [4, 7, 0x01, 0xa6]), 20, 10);
		expect(result.header.subsampling).toBe("420");
		expect(result.info.blocks).toBe(2);
		expect(result.complete).toBe(true);
		expect(pixelAt(result.picture, 19, 9)).toEqual([...yccToRgb(128, 128, 128, "bt601"), 255]);
	});
});
