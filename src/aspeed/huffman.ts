// biome-ignore-all lint/style/noNonNullAssertion: typed-array reads in codec loops are in bounds by construction; `!` keeps them branch-free under noUncheckedIndexedAccess.
/**
 * Huffman coding of DCT data units: the four standard
 * tables of ITU-T T.81 Annex K (no tables are transmitted), canonical codes
 * built from BITS/HUFFVAL as in JPEG, decoded with a 9-bit lookahead table
 * and a canonical slow path for longer codes.
 */
import { IkvmError } from "../errors.ts";
import type { BitReader } from "./bit-reader.ts";

/** A table as T.81 lists it: BITS[i] = number of codes of length i+1, then HUFFVAL in code order. */
export interface HuffmanSpec {
	bits: readonly number[];
	values: readonly number[];
}

/** Table K.3: DC luminance. */
export const DC_LUMA_SPEC: HuffmanSpec = {
	bits: [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0],
	values: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
};

/** Table K.4: DC chrominance. */
export const DC_CHROMA_SPEC: HuffmanSpec = {
	bits: [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0],
	values: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
};

/**
 * The AC tables list, after their short codes, every remaining (run, size)
 * pair in ascending order; `tail` generates that part so it cannot be mistyped.
 */
function withTail(head: readonly number[]): number[] {
	const seen = new Set(head);
	const out = [...head];
	for (let run = 0; run < 16; run++) {
		for (let size = 1; size <= 10; size++) {
			const symbol = (run << 4) | size;
			if (!seen.has(symbol)) out.push(symbol);
		}
	}
	return out;
}

/** Table K.5: AC luminance. */
export const AC_LUMA_SPEC: HuffmanSpec = {
	bits: [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d],
	values: withTail([
		0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07, 0x22, 0x71, 0x14,
		0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0, 0x24, 0x33, 0x62, 0x72, 0x82, 0x09,
		0x0a,
	]),
};

/** Table K.6: AC chrominance. */
export const AC_CHROMA_SPEC: HuffmanSpec = {
	bits: [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77],
	values: withTail([
		0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71, 0x13, 0x22, 0x32,
		0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0, 0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16,
		0x24, 0x34, 0xe1, 0x25, 0xf1,
	]),
};

/** Bits of lookahead resolved by one table access. */
export const FAST_BITS = 9;

export interface HuffmanTable {
	/** Indexed by the next FAST_BITS bits: (length << 8) | symbol, or 0 if the code is longer. */
	fast: Uint16Array;
	/** maxCode[l] = largest code of length l, or -1 if none (l = 1..16). */
	maxCode: Int32Array;
	/** valueOffset[l] = index into values of the first code of length l minus that code. */
	valueOffset: Int32Array;
	values: Uint8Array;
	/** Encoder side: code and length per symbol (length 0 = symbol not in the table). */
	codeOf: Uint16Array;
	lengthOf: Uint8Array;
}

/** Builds canonical codes from a spec (T.81 Annex C) plus the decoding structures. */
export function buildHuffmanTable(spec: HuffmanSpec): HuffmanTable {
	const total = spec.bits.reduce((a, b) => a + b, 0);
	if (spec.bits.length !== 16 || total !== spec.values.length) {
		throw new Error("Huffman spec: BITS and HUFFVAL disagree");
	}
	const fast = new Uint16Array(1 << FAST_BITS);
	const maxCode = new Int32Array(18).fill(-1);
	const valueOffset = new Int32Array(18);
	const values = Uint8Array.from(spec.values);
	const codeOf = new Uint16Array(256);
	const lengthOf = new Uint8Array(256);

	let code = 0;
	let k = 0;
	for (let length = 1; length <= 16; length++) {
		const count = spec.bits[length - 1] ?? 0;
		valueOffset[length] = k - code;
		for (let i = 0; i < count; i++) {
			const symbol = values[k] ?? 0;
			codeOf[symbol] = code;
			lengthOf[symbol] = length;
			if (length <= FAST_BITS) {
				const shift = FAST_BITS - length;
				const first = code << shift;
				for (let j = 0; j < 1 << shift; j++) fast[first + j] = (length << 8) | symbol;
			}
			code++;
			k++;
		}
		if (count > 0) maxCode[length] = code - 1;
		if (code > 1 << length) throw new Error("Huffman spec: over-subscribed code lengths");
		code <<= 1;
	}
	return { fast, maxCode, valueOffset, values, codeOf, lengthOf };
}

export const DC_LUMA = buildHuffmanTable(DC_LUMA_SPEC);
export const DC_CHROMA = buildHuffmanTable(DC_CHROMA_SPEC);
export const AC_LUMA = buildHuffmanTable(AC_LUMA_SPEC);
export const AC_CHROMA = buildHuffmanTable(AC_CHROMA_SPEC);

export function invalidCode(pos: number): IkvmError {
	return new IkvmError("PROTOCOL", `ASPEED video stream corrupt: invalid Huffman code at bit ${pos}.`, {
		stage: "decode",
	});
}

/**
 * Decodes one symbol from the top of `bits32` (the next 32 stream bits) and
 * returns (length << 8) | symbol, or 0 if no code matches.
 */
export function lookupSymbol(table: HuffmanTable, bits32: number): number {
	const entry = table.fast[bits32 >>> (32 - FAST_BITS)]!;
	if (entry !== 0) return entry;
	for (let length = FAST_BITS + 1; length <= 16; length++) {
		const code = bits32 >>> (32 - length);
		if (code <= table.maxCode[length]!) return (length << 8) | table.values[table.valueOffset[length]! + code]!;
	}
	return 0;
}

/** Reads one symbol; throws a PROTOCOL error on a bit pattern that is no code. */
export function decodeSymbol(reader: BitReader, table: HuffmanTable): number {
	const entry = lookupSymbol(table, reader.peek32());
	if (entry === 0) throw invalidCode(reader.pos);
	reader.pos += entry >>> 8;
	return entry & 0xff;
}

/** JPEG EXTEND: an s-bit magnitude whose top bit is 0 stands for a negative value. */
export function extend(value: number, size: number): number {
	return value < 1 << (size - 1) ? value - (1 << size) + 1 : value;
}
