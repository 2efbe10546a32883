import { describe, expect, test } from "bun:test";
import { parseVideoHeader, VIDEO_HEADER_LENGTH, writeVideoHeader } from "../../src/aspeed/header.ts";
import { Ast2500Decoder } from "../../src/aspeed/index.ts";
import { errorOf } from "../support/ikvm-error.ts";

const limits = { maxWidth: 4096, maxHeight: 4096 };

function header(patch: (view: DataView) => void = () => {}): Uint8Array {
	const bytes = writeVideoHeader({
		width: 1024,
		height: 768,
		mode420: true,
		jpegTableSelector: 4,
		advanceTableSelector: 6,
		yuvTableMapping: 1,
		compressSize: 1234,
		numberOfBlocks: 3072,
		frameNumber: 77,
	});
	patch(new DataView(bytes.buffer));
	return bytes;
}

describe("AST2500 video header", () => {
	test("parses the fields the decoder uses at their documented offsets", () => {
		const h = parseVideoHeader(header(), limits);
		expect(h).toMatchObject({
			headerLength: 86,
			width: 1024,
			height: 768,
			gridWidth: 1024,
			gridHeight: 768,
			frameNumber: 77,
			jpegTableSelector: 4,
			yuvTableMapping: 1,
			advanceTableSelector: 6,
			numberOfBlocks: 3072,
			rc4Enable: 0,
			mode420: true,
			compressSize: 1234,
		});
		expect(VIDEO_HEADER_LENGTH).toBe(86);
	});

	test("the spec's offsets: Source.X @4, Destination.X @13, selectors @44/45/47, Mode420 @55, CompressSize @69", () => {
		const raw = new Uint8Array(86);
		const v = new DataView(raw.buffer);
		v.setUint16(2, 86, true);
		v.setUint16(4, 800, true);
		v.setUint16(6, 600, true);
		v.setUint16(13, 816, true);
		v.setUint16(15, 608, true);
		raw[44] = 3;
		raw[45] = 1;
		raw[47] = 5;
		raw[55] = 1;
		v.setUint32(69, 0x01020304, true);
		expect(parseVideoHeader(raw, limits)).toMatchObject({
			width: 800,
			height: 600,
			gridWidth: 816,
			gridHeight: 608,
			jpegTableSelector: 3,
			yuvTableMapping: 1,
			advanceTableSelector: 5,
			mode420: true,
			compressSize: 0x01020304,
		});
	});

	test("an unset Destination size and header length fall back to the picture size and 86", () => {
		const h = parseVideoHeader(
			header((v) => {
				v.setUint16(2, 0, true);
				v.setUint16(13, 0, true);
				v.setUint16(15, 0, true);
			}),
			limits,
		);
		expect([h.headerLength, h.gridWidth, h.gridHeight]).toEqual([86, 1024, 768]);
	});

	test("refuses short input, bad lengths, empty pictures, bad selectors and modes with PROTOCOL errors", () => {
		for (const [bytes, text] of [
			[new Uint8Array(85), "too short"],
			[header((v) => v.setUint16(2, 40, true)), "header length 40"],
			[header((v) => v.setUint16(4, 0, true)), "empty picture size"],
			[header((v) => v.setUint8(44, 8)), "table selector"],
			[header((v) => v.setUint8(47, 200)), "table selector"],
			[header((v) => v.setUint8(55, 2)), "sampling mode 2"],
		] as const) {
			const error = errorOf(() => parseVideoHeader(bytes, limits));
			expect(error.code).toBe("PROTOCOL");
			expect(error.stage).toBe("decode");
			expect(error.message).toContain(text);
		}
	});

	test("refuses a picture beyond the limits with TOO_LARGE before allocating anything", () => {
		const huge = header((v) => {
			v.setUint16(4, 65535, true);
			v.setUint16(6, 65535, true);
		});
		const error = errorOf(() => new Ast2500Decoder({ maxWidth: 1920, maxHeight: 1200 }).decode(huge));
		expect(error.code).toBe("TOO_LARGE");
		expect(error.message).toContain("65535x65535 exceeds the limit 1920x1200");
		expect(error.hint).toContain("MAX_FRAMEBUFFER");
		const grid = header((v) => v.setUint16(13, 9000, true));
		expect(errorOf(() => parseVideoHeader(grid, limits)).message).toContain("block grid");
	});

	test("refuses RC4-encrypted frames with a clear NOT_SUPPORTED error", () => {
		const error = errorOf(() => new Ast2500Decoder().decode(header((v) => v.setUint8(53, 1))));
		expect(error.code).toBe("NOT_SUPPORTED");
		expect(error.stage).toBe("decode");
		expect(error.message).toContain("RC4");
		expect(error.hint).toContain("encryption");
	});

	test("refuses an absurd CompressSize as TOO_LARGE", () => {
		const error = errorOf(() => new Ast2500Decoder().decode(header((v) => v.setUint32(69, 0xffffffff, true))));
		expect(error.code).toBe("TOO_LARGE");
		expect(error.message).toContain("4294967295 compressed bytes");
	});

	test("refuses a frame with fewer compressed bytes than CompressSize", () => {
		const error = errorOf(() => new Ast2500Decoder().decode(header()));
		expect(error.code).toBe("PROTOCOL");
		expect(error.message).toContain("truncated: header says 1234 compressed bytes, 0 present");
	});
});
