/**
 * Hand-built AST2500 frames for unit tests: write the bit string as the spec
 * shows it (MSB first, spaces ignored), get the frame file bytes back.
 */
import { writeVideoHeader } from "../../src/aspeed/header.ts";
import { AC_CHROMA, AC_LUMA, DC_CHROMA, DC_LUMA, type HuffmanTable } from "../../src/aspeed/huffman.ts";

export interface TestFrameOptions {
	width?: number;
	height?: number;
	mode420?: boolean;
	jpegTableSelector?: number;
	advanceTableSelector?: number;
	yuvTableMapping?: number;
	/** Zero words appended after the data (the encoder rule asks for 2). */
	guardWords?: number;
	/** Override the header's CompressSize (default: the real data length). */
	compressSize?: number;
}

/** "0101 1 00 ..." → bytes of the compressed data (MSB-first bits, 4-byte groups stored little-endian). */
export function packBits(bitString: string, guardWords = 2): Uint8Array {
	const bits = bitString.replace(/[\s_|]/g, "");
	if (!/^[01]*$/.test(bits)) throw new Error(`not a bit string: ${bitString}`);
	const words = Math.ceil(bits.length / 32) + guardWords;
	const out = new Uint8Array(words * 4);
	const view = new DataView(out.buffer);
	for (let w = 0; w < Math.ceil(bits.length / 32); w++) {
		const chunk = bits.slice(w * 32, w * 32 + 32).padEnd(32, "0");
		view.setUint32(w * 4, Number.parseInt(chunk, 2), true);
	}
	return out;
}

export function testFrame(bitString: string, options: TestFrameOptions = {}): Uint8Array {
	const data = packBits(bitString, options.guardWords ?? 2);
	const header = writeVideoHeader({
		width: options.width ?? 8,
		height: options.height ?? 8,
		mode420: options.mode420 ?? false,
		jpegTableSelector: options.jpegTableSelector ?? 7,
		advanceTableSelector: options.advanceTableSelector ?? 7,
		yuvTableMapping: options.yuvTableMapping ?? 0,
		compressSize: options.compressSize ?? data.length,
	});
	const frame = new Uint8Array(header.length + data.length);
	frame.set(header);
	frame.set(data, header.length);
	return frame;
}

/** n-bit binary of v. */
export function b(v: number, n: number): string {
	return (v >>> 0).toString(2).padStart(n, "0").slice(-n);
}

/** A VQ palette entry: U=1 with a colour, or U=0 referencing a slot. */
export function vqEntry(slot: number, color?: number): string {
	return color === undefined ? `0${b(slot, 2)}` : `1${b(slot, 2)}${b(color, 24)}`;
}

/** Explicit-position block header. */
export function at(code: number, x: number, y: number): string {
	return `${b(code, 4)}${b(x, 8)}${b(y, 8)}`;
}

/** JPEG-style magnitude bits of v in its size category, with the category. */
export function magnitude(v: number): { size: number; bits: string } {
	let size = 0;
	while (Math.abs(v) >= 1 << size) size++;
	if (size === 0) return { size, bits: "" };
	return { size, bits: b(v < 0 ? v + (1 << size) - 1 : v, size) };
}

/** The Huffman code of `symbol` as a bit string. */
export function huffCode(table: HuffmanTable, symbol: number): string {
	const length = table.lengthOf[symbol] ?? 0;
	if (length === 0) throw new Error(`no code for ${symbol}`);
	return b(table.codeOf[symbol] ?? 0, length);
}

/**
 * One data unit: DC difference, then (run, value) AC pairs in zig-zag order, then EOB.
 * `chroma` picks the K.4/K.6 tables instead of K.3/K.5.
 */
export function dataUnit(dcDiff: number, chroma = false, ac: Array<[number, number]> = []): string {
	const dc = chroma ? DC_CHROMA : DC_LUMA;
	const act = chroma ? AC_CHROMA : AC_LUMA;
	const d = magnitude(dcDiff);
	let bits = huffCode(dc, d.size) + d.bits;
	for (const [run, value] of ac) {
		const m = magnitude(value);
		bits += huffCode(act, (run << 4) | m.size) + m.bits;
	}
	return bits + huffCode(act, 0x00);
}

/** A 4:4:4 DCT block body with DC-only Y, Cb, Cr units. */
export function flatBlock444(dy: number, dcb = 0, dcr = 0): string {
	return dataUnit(dy) + dataUnit(dcb, true) + dataUnit(dcr, true);
}
