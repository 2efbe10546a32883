import { describe, expect, test } from "bun:test";
import sharp from "sharp";
import { BitReader } from "../../src/aspeed/bit-reader.ts";
import {
	AC_CHROMA,
	AC_CHROMA_SPEC,
	AC_LUMA,
	AC_LUMA_SPEC,
	DC_CHROMA,
	DC_CHROMA_SPEC,
	DC_LUMA,
	DC_LUMA_SPEC,
	decodeSymbol,
	extend,
	type HuffmanSpec,
	type HuffmanTable,
} from "../../src/aspeed/huffman.ts";
import { IkvmError } from "../../src/errors.ts";
import { packBits } from "../support/ast2500-bits.ts";

/** The DHT tables of a baseline JPEG that libjpeg-turbo wrote with its standard (Annex K) tables. */
async function standardTablesFromLibjpeg(): Promise<Map<number, HuffmanSpec>> {
	const jpeg = await sharp({ create: { width: 16, height: 16, channels: 3, background: "#808080" } })
		.jpeg({ optimiseCoding: false, quality: 90 })
		.toBuffer();
	const tables = new Map<number, HuffmanSpec>();
	let i = 2;
	while (i + 4 <= jpeg.length && jpeg[i] === 0xff) {
		const marker = jpeg[i + 1] ?? 0;
		const length = jpeg.readUInt16BE(i + 2);
		if (marker === 0xc4) {
			let p = i + 4;
			while (p < i + 2 + length) {
				const id = jpeg[p] ?? 0; // class << 4 | index
				const bits = Array.from(jpeg.subarray(p + 1, p + 17));
				const total = bits.reduce((a, c) => a + c, 0);
				tables.set(id, { bits, values: Array.from(jpeg.subarray(p + 17, p + 17 + total)) });
				p += 17 + total;
			}
		}
		if (marker === 0xda) break;
		i += 2 + length;
	}
	return tables;
}

function readSymbol(table: HuffmanTable, bits: string): number {
	const reader = new BitReader();
	reader.load(packBits(bits));
	const symbol = decodeSymbol(reader, table);
	expect(reader.pos).toBe(bits.length);
	return symbol;
}

describe("Huffman tables (T.81 Annex K)", () => {
	test("equal the standard tables libjpeg writes into a baseline JPEG", async () => {
		const lib = await standardTablesFromLibjpeg();
		expect(lib.get(0x00)).toEqual({ bits: [...DC_LUMA_SPEC.bits], values: [...DC_LUMA_SPEC.values] });
		expect(lib.get(0x10)).toEqual({ bits: [...AC_LUMA_SPEC.bits], values: [...AC_LUMA_SPEC.values] });
		expect(lib.get(0x01)).toEqual({ bits: [...DC_CHROMA_SPEC.bits], values: [...DC_CHROMA_SPEC.values] });
		expect(lib.get(0x11)).toEqual({ bits: [...AC_CHROMA_SPEC.bits], values: [...AC_CHROMA_SPEC.values] });
	});

	test("canonical codes match the values the spec quotes", () => {
		const code = (t: HuffmanTable, s: number) => (t.codeOf[s] ?? 0).toString(2).padStart(t.lengthOf[s] ?? 0, "0");
		expect(code(DC_LUMA, 0)).toBe("00");
		expect(code(DC_LUMA, 4)).toBe("101");
		expect(code(DC_LUMA, 11)).toBe("111111110");
		expect(code(AC_LUMA, 0x00)).toBe("1010");
		expect(code(AC_LUMA, 0x01)).toBe("00");
		expect(code(AC_LUMA, 0xf0)).toBe("11111111001");
		expect(code(AC_LUMA, 0xfa)).toBe("1111111111111110");
		expect(code(DC_CHROMA, 0)).toBe("00");
		expect(code(AC_CHROMA, 0x00)).toBe("00");
		expect(code(AC_CHROMA, 0xf0)).toBe("1111111010");
	});

	test("every symbol decodes from its own code, through the fast table and the long-code path", () => {
		for (const table of [DC_LUMA, DC_CHROMA, AC_LUMA, AC_CHROMA]) {
			let checked = 0;
			for (let s = 0; s < 256; s++) {
				const length = table.lengthOf[s] ?? 0;
				if (length === 0) continue;
				const bits = (table.codeOf[s] ?? 0).toString(2).padStart(length, "0");
				// Trailing bits after the code must not matter.
				expect(readSymbol(table, bits)).toBe(s);
				const reader = new BitReader();
				reader.load(packBits(`${bits}1111111111111111`));
				expect(decodeSymbol(reader, table)).toBe(s);
				checked++;
			}
			expect(checked).toBe(table.values.length);
		}
	});

	test("a bit pattern that is no code is a PROTOCOL error, not a zero-length read", () => {
		const reader = new BitReader();
		reader.load(packBits("1111111111111111"));
		let error: unknown;
		try {
			decodeSymbol(reader, AC_LUMA);
		} catch (e) {
			error = e;
		}
		expect(error).toBeInstanceOf(IkvmError);
		expect((error as IkvmError).code).toBe("PROTOCOL");
		expect((error as IkvmError).stage).toBe("decode");
		expect((error as IkvmError).message).toContain("invalid Huffman code at bit 0");
		// DC luma has no 10-bit or longer codes at all.
		reader.load(packBits("1111111110"));
		expect(() => decodeSymbol(reader, DC_LUMA)).toThrow(IkvmError);
	});

	test("EXTEND maps a top-bit-0 magnitude to a negative value", () => {
		expect(extend(0b1010, 4)).toBe(10);
		expect(extend(0b0101, 4)).toBe(-10);
		expect(extend(0, 1)).toBe(-1);
		expect(extend(1, 1)).toBe(1);
		expect(extend(0, 11)).toBe(-2047);
		expect(extend(2047, 11)).toBe(2047);
	});
});
