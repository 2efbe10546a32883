// biome-ignore-all lint/style/noNonNullAssertion: typed-array reads in codec loops are in bounds by construction; `!` keeps them branch-free under noUncheckedIndexedAccess.
/**
 * The AST2500 frame decoder: walks the block stream
 * of one frame and paints each block into a picture that persists across
 * frames, so partial updates (explicit-position blocks) apply over it.
 *
 * State kept between frames: the picture, the VQ colour cache, the YCbCr of
 * the last JPEG/LOW/VQ block at each pixel ("prevYUV", for PASS2), and the
 * quantisation tables. Reset per frame: position, DC predictors, bit reader.
 *
 * Safety: sizes are checked before allocating, every block consumes at least
 * three bits so the loop ends at the data's end (AMI's rule), an invalid
 * Huffman code is an error (AMI's viewer hangs on it), and drawing clips to
 * the picture, so hostile input gives an IkvmError, never a hang or a write
 * out of bounds. Blocks decoded before an error stay in the picture; the
 * next full frame repairs it.
 */

import { IkvmError } from "../errors.ts";
import type { Picture } from "../frame.ts";
import { BitReader } from "./bit-reader.ts";
import {
	CLAMP_OFFSET,
	type ColorMatrix,
	type ColorTables,
	colorTables,
	DEFAULT_COLOR_MATRIX,
	packedRgba,
} from "./color.ts";
import { parseVideoHeader, type VideoHeader } from "./header.ts";
import {
	AC_CHROMA,
	AC_LUMA,
	DC_CHROMA,
	DC_LUMA,
	FAST_BITS,
	type HuffmanTable,
	invalidCode,
	lookupSymbol,
} from "./huffman.ts";
import { idct8x8Dequantized, RANGE_LIMIT } from "./idct.ts";
import { type Dequantisation, dequantShift, QuantCache, type QuantTables, type TableChoice } from "./quant.ts";
import { decodeVqBlock, VqCache } from "./vq.ts";

/** Natural (row-major) index of zig-zag position k. */
export const ZIGZAG = Uint8Array.from([
	0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47,
	55, 62, 63,
]);

/** Block header codes (top 4 bits of a block). Bit 3 = explicit position. */
export const BlockCode = {
	JPEG: 0x0,
	JPEG_AT: 0x8,
	PASS2: 0x2,
	PASS2_AT: 0xa,
	LOW: 0x4,
	LOW_AT: 0xc,
	VQ1: 0x5,
	VQ1_AT: 0xd,
	VQ2: 0x6,
	VQ2_AT: 0xe,
	VQ4: 0x7,
	VQ4_AT: 0xf,
	FRAME_END: 0x9,
} as const;

/**
 * Which firmware's reading of the bit stream (ATEN notes §8 lists the
 * differences): "ami" (default) is AMI MegaRAC's viewer; "aten" is the
 * Supermicro (ATEN 0x57 "AST2100") viewer: 16.16 dequantisation, only the
 * block codes ATEN sends (PASS2 and the undefined codes are errors, not
 * 3-bit skips), a fresh VQ colour cache every frame, the frame ends at
 * FRAME_END or the end of the data, a block budget, BT.601 colours.
 */
export type CodecDialect = "ami" | "aten";

export interface Ast2500DecoderOptions {
	/** Largest picture accepted (refused before allocating). Default 4096x4096. */
	maxWidth?: number;
	maxHeight?: number;
	/** "ami" (default for the ami dialect: the BMC viewer's colours, bit for bit) or "bt601" (default for aten); see color.ts. */
	colorMatrix?: ColorMatrix;
	/** Default "ami". */
	dialect?: CodecDialect;
}

/**
 * One frame of the bit stream as the front end (AMI's 86-byte header or
 * ATEN's 4-byte header) describes it.
 */
export interface BitstreamFormat {
	/** Picture size. */
	width: number;
	height: number;
	/** Size the block grid is laid over (normally the picture size). */
	gridWidth: number;
	gridHeight: number;
	mode420: boolean;
	/** Table selectors for QT0..QT3 (0..11; the front end validates its own range). */
	tables: Omit<TableChoice, "dequantisation">;
}

/** What decoding one bit stream did. */
export interface BitstreamInfo {
	/** Blocks parsed, including undefined codes, excluding FRAME_END. */
	blocks: number;
	/** Whether the frame ended with a FRAME_END code (else by running out of data). */
	sawFrameEnd: boolean;
}

/** What a decoder returns: the whole current picture, in a buffer the caller owns (later decodes never write into it). */
export type DecodedPicture = Picture;

/** What the last decode did, for logs and tests. */
export interface FrameInfo {
	header: VideoHeader;
	/** Blocks parsed, including undefined codes, excluding FRAME_END. */
	blocks: number;
	/** Whether the frame ended with a FRAME_END code (else by running out of data). */
	sawFrameEnd: boolean;
}

const TILE_CB = 256;
const TILE_CR = 320;
/** Data-unit slots in the tile: Y0..Y3, Cb, Cr (each at slot·64). */
const DU_CB = 4;
const DU_CR = 5;

/** Far above any real frame (a 4096x4096 picture of maximal DCT codes is ~170 MB); keeps bit positions well below 2^32 for the reader. */
const MAX_COMPRESSED_BYTES = 256 * 1024 * 1024;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export class Ast2500Decoder {
	private readonly maxWidth: number;
	private readonly maxHeight: number;
	private readonly color: ColorTables;
	private readonly aten: boolean;
	private readonly dequantisation: Dequantisation;
	/** See quant.ts `dequantShift`. */
	private readonly shift: number;

	private width = 0;
	private height = 0;
	private picture = new Uint8Array(0);
	/** Same memory as `picture`, one little-endian RGBA word per pixel. */
	private picture32 = new Uint32Array(0);
	/** `Y | Cb<<8 | Cr<<16` per pixel as the last JPEG/LOW/VQ block left it (PASS2 refines it). */
	private prevYuv = new Uint32Array(0);
	/** Whether prevYuv is kept: ATEN has no PASS2, so it saves the plane (4 bytes a pixel) and its writes. */
	private readonly keepPrev: boolean;

	private readonly vq = new VqCache();
	private readonly quantCache = new QuantCache();
	private readonly reader = new BitReader();
	/** Dequantised coefficients of the current data unit (zero except where `nonZero` says). */
	private readonly deq = new Int32Array(64);
	private readonly nonZero = new Uint8Array(64);
	private readonly ws = new Int32Array(64);
	/** Samples of Y0..Y3 at 0/64/128/192 (4:2:0; 4:4:4 uses Y0 only), Cb at 256, Cr at 320. */
	private readonly tile = new Uint8Array(384);
	/** Per data unit: its single sample value when the unit is flat (DC only), else -1 (samples in `tile`). */
	private readonly flat = new Int16Array(6);
	private readonly vqPalette = new Uint32Array(4);
	private readonly vqIndices = new Uint8Array(64);
	private readonly paletteRgba = new Uint32Array(4);
	private readonly paletteYuv = new Uint32Array(4);

	/** Y → RGBA tables for a few flat (Cb, Cr) pairs: console blocks are mostly grey or one colour. */
	private readonly lutKeys = new Int32Array(8).fill(-1);
	private readonly luts = Array.from({ length: 8 }, () => new Uint32Array(256));
	private lutNext = 0;

	private info: FrameInfo | undefined;

	constructor(options: Ast2500DecoderOptions = {}) {
		// Pixels are stored as 32-bit words; every platform Bun runs on is little-endian.
		if (!LITTLE_ENDIAN) throw new Error("Ast2500Decoder needs a little-endian platform");
		this.maxWidth = options.maxWidth ?? 4096;
		this.maxHeight = options.maxHeight ?? 4096;
		this.aten = options.dialect === "aten";
		this.color = colorTables(options.colorMatrix ?? (this.aten ? "bt601" : DEFAULT_COLOR_MATRIX));
		this.dequantisation = this.aten ? "fixed16" : "integer";
		this.shift = dequantShift(this.dequantisation);
		this.keepPrev = !this.aten;
	}

	/** How errors name the stream. */
	private get label(): string {
		return this.aten ? "ATEN 0x57" : "AST2500";
	}

	/** Largest picture this decoder accepts. */
	get limits(): { maxWidth: number; maxHeight: number } {
		return { maxWidth: this.maxWidth, maxHeight: this.maxHeight };
	}

	/** Details of the last successfully decoded frame. */
	get lastFrame(): FrameInfo | undefined {
		return this.info;
	}

	/** Forgets the picture and the colour cache, as a new KVM session would. */
	reset(): void {
		this.width = 0;
		this.height = 0;
		this.picture = new Uint8Array(0);
		this.picture32 = new Uint32Array(0);
		this.prevYuv = new Uint32Array(0);
		this.vq.reset();
		this.info = undefined;
	}

	/**
	 * Decodes one frame (video header + compressed data) over the previous
	 * picture and returns a copy of the result.
	 */
	decode(frame: Uint8Array): DecodedPicture {
		this.apply(frame);
		return this.snapshot() as DecodedPicture;
	}

	/**
	 * Decodes one frame into the persistent picture without copying it out:
	 * for a stream where most frames are only needed to keep the picture
	 * current (take a `snapshot()` when one is wanted).
	 */
	apply(frame: Uint8Array): FrameInfo {
		const header = parseVideoHeader(frame, { maxWidth: this.maxWidth, maxHeight: this.maxHeight });
		if (header.compressSize > MAX_COMPRESSED_BYTES) {
			throw new IkvmError(
				"TOO_LARGE",
				`AST2500 frame claims ${header.compressSize} compressed bytes; the limit is ${MAX_COMPRESSED_BYTES}.`,
				{ stage: "decode" },
			);
		}
		const available = frame.length - header.headerLength;
		if (available < header.compressSize) {
			throw new IkvmError(
				"PROTOCOL",
				`AST2500 frame truncated: header says ${header.compressSize} compressed bytes, ${Math.max(0, available)} present.`,
				{ stage: "decode" },
			);
		}
		const data = frame.subarray(header.headerLength, header.headerLength + header.compressSize);
		const result = this.applyBitstream(
			{
				width: header.width,
				height: header.height,
				gridWidth: header.gridWidth,
				gridHeight: header.gridHeight,
				mode420: header.mode420,
				tables: {
					luma: header.jpegTableSelector,
					chroma: header.jpegTableSelector,
					advanceLuma: header.advanceTableSelector,
					advanceChroma: header.advanceTableSelector,
					chromaFromLuma: header.yuvTableMapping === 1,
				},
			},
			data,
		);
		this.info = { header, ...result };
		return this.info;
	}

	/**
	 * Decodes one bit stream (the bytes after the front end's header) over the
	 * persistent picture, whose size follows `format`. The front end has
	 * validated the sizes against the limits and the selectors' range.
	 */
	applyBitstream(format: BitstreamFormat, data: Uint8Array): BitstreamInfo {
		if (format.width > this.maxWidth || format.height > this.maxHeight || format.width < 1 || format.height < 1) {
			throw new IkvmError(
				"TOO_LARGE",
				`Video frame size ${format.width}x${format.height} is outside 1x1..${this.maxWidth}x${this.maxHeight}.`,
				{ stage: "decode", hint: "Raise MAX_FRAMEBUFFER if this resolution is genuine." },
			);
		}
		if (data.length > MAX_COMPRESSED_BYTES) {
			throw new IkvmError(
				"TOO_LARGE",
				`Video frame has ${data.length} compressed bytes; the limit is ${MAX_COMPRESSED_BYTES}.`,
				{ stage: "decode" },
			);
		}
		this.ensurePicture(format.width, format.height);
		try {
			return this.decodeBlocks(format, data);
		} catch (error) {
			if (error instanceof IkvmError) throw error;
			throw new IkvmError("INTERNAL", `${this.label} decoder failed: ${(error as Error).message}`, {
				stage: "decode",
				cause: error,
			});
		}
	}

	/** The picture as it stands, without copying: valid until the next frame. */
	view(): DecodedPicture | undefined {
		if (this.width === 0) return undefined;
		return { width: this.width, height: this.height, rgba: this.picture };
	}

	/** A copy of the current picture, or undefined before the first frame. */
	snapshot(): DecodedPicture | undefined {
		if (this.width === 0) return undefined;
		// allocUnsafe skips zero-filling memory that `set` overwrites at once: about half the
		// cost of slice() for a 1080p picture. The caller gets a plain Uint8Array over it.
		const copy = Buffer.allocUnsafe(this.picture.length);
		copy.set(this.picture);
		return { width: this.width, height: this.height, rgba: new Uint8Array(copy.buffer, copy.byteOffset, copy.length) };
	}

	private ensurePicture(width: number, height: number): void {
		if (width === this.width && height === this.height) return;
		// A new resolution starts from black; the BMC follows a mode change with a full frame.
		this.width = width;
		this.height = height;
		this.picture = new Uint8Array(width * height * 4);
		this.picture32 = new Uint32Array(this.picture.buffer);
		this.picture32.fill(0xff000000);
		this.prevYuv = this.keepPrev
			? new Uint32Array(width * height).fill(16 | (128 << 8) | (128 << 16))
			: new Uint32Array(0);
	}

	private decodeBlocks(format: BitstreamFormat, data: Uint8Array): BitstreamInfo {
		const reader = this.reader;
		reader.load(data);
		const q: QuantTables = this.quantCache.choose({ ...format.tables, dequantisation: this.dequantisation });
		const mode420 = format.mode420;
		const bs = mode420 ? 16 : 8;
		const cols = Math.ceil(format.gridWidth / bs);
		const rows = Math.ceil(format.gridHeight / bs);
		const aten = this.aten;
		// ATEN: the BMC's viewer starts every frame from the default colour cache.
		if (aten) this.vq.reset();
		const dataBits = data.length * 8;
		// Each block is drawn once in a real frame; a few times the grid leaves room for
		// odd encoders while bounding the work a hostile stream of tiny VQ blocks can cause.
		const blockBudget = aten ? 4 * cols * rows + 4096 : Number.POSITIVE_INFINITY;

		let x = 0;
		let y = 0;
		let predY = 0;
		let predCb = 0;
		let predCr = 0;
		let blocks = 0;
		let sawFrameEnd = false;

		do {
			if (reader.overran()) {
				throw new IkvmError("PROTOCOL", `${this.label} stream corrupt: a block ran past the end of the data.`, {
					stage: "decode",
				});
			}
			const head = reader.peek32();
			let code = head >>> 28;
			if (code === BlockCode.FRAME_END) {
				reader.pos += 4;
				sawFrameEnd = true;
				break;
			}
			if (aten && (code === 0x1 || code === 0x2 || code === 0x3 || code === 0xa || code === 0xb)) {
				// ATEN viewers know no PASS2 or undefined codes: the stream is corrupt (skipping would desynchronise it).
				throw new IkvmError(
					"PROTOCOL",
					`ATEN video stream corrupt: block code 0x${code.toString(16)} at bit ${reader.pos} is not used by ATEN BMCs.`,
					{ stage: "decode" },
				);
			}
			if (code === 0x1 || code === 0x3 || code === 0xb) {
				// Undefined: AMI skips 3 bits (not 4) and moves on; nothing is drawn.
				reader.pos += 3;
			} else {
				if (code & 8) {
					x = (head >>> 20) & 0xff;
					y = (head >>> 12) & 0xff;
					reader.pos += 20;
					code &= 7;
				} else {
					reader.pos += 4;
				}
				switch (code) {
					case BlockCode.JPEG:
					case BlockCode.LOW: {
						const qy = code === BlockCode.JPEG ? q[0] : q[2];
						const qc = code === BlockCode.JPEG ? q[1] : q[3];
						predY = this.dataUnit(DC_LUMA, AC_LUMA, predY, qy, 0);
						if (mode420) {
							predY = this.dataUnit(DC_LUMA, AC_LUMA, predY, qy, 1);
							predY = this.dataUnit(DC_LUMA, AC_LUMA, predY, qy, 2);
							predY = this.dataUnit(DC_LUMA, AC_LUMA, predY, qy, 3);
						}
						predCb = this.dataUnit(DC_CHROMA, AC_CHROMA, predCb, qc, DU_CB);
						predCr = this.dataUnit(DC_CHROMA, AC_CHROMA, predCr, qc, DU_CR);
						if (mode420) this.draw420(x, y);
						else this.draw444(x, y);
						break;
					}
					case BlockCode.PASS2: {
						predY = this.dataUnit(DC_LUMA, AC_LUMA, predY, q[2], 0);
						predCb = this.dataUnit(DC_CHROMA, AC_CHROMA, predCb, q[3], DU_CB);
						predCr = this.dataUnit(DC_CHROMA, AC_CHROMA, predCr, q[3], DU_CR);
						// Refinement exists for 4:4:4 only; in 4:2:0 it is parsed and dropped (as the viewer does).
						if (!mode420) this.drawPass2(x, y);
						break;
					}
					case BlockCode.VQ1:
					case BlockCode.VQ2:
					case BlockCode.VQ4: {
						const entries = code === BlockCode.VQ1 ? 1 : code === BlockCode.VQ2 ? 2 : 4;
						decodeVqBlock(reader, this.vq, entries, this.vqPalette, this.vqIndices);
						this.drawVq(x, y, entries, mode420);
						break;
					}
				}
			}
			blocks++;
			x++;
			if (x >= cols) {
				x = 0;
				y++;
				if (y >= rows) y = 0;
			}
			if (blocks > blockBudget) {
				throw new IkvmError(
					"PROTOCOL",
					`ATEN video stream corrupt: more than ${blockBudget} blocks for a ${cols}x${rows} block grid.`,
					{ stage: "decode" },
				);
			}
			// AMI stops once its reader has loaded the last word (rule b); ATEN only at FRAME_END
			// or when every bit of the data has been consumed.
		} while (aten ? reader.pos < dataBits : !reader.pastEnd());

		return { blocks, sawFrameEnd };
	}

	/**
	 * Huffman-decodes one 8x8 data unit into tile slot `du` (or, when it has
	 * no AC coefficients, just records its one sample in `flat[du]`) and
	 * returns the updated DC predictor. Bit reads are inlined: this is the
	 * innermost loop of the decoder.
	 */
	private dataUnit(dc: HuffmanTable, ac: HuffmanTable, pred: number, q: Int32Array, du: number): number {
		const reader = this.reader;
		const words = reader.words;
		let pos = reader.pos;
		const deq = this.deq;
		const shift = this.shift;
		const nonZero = this.nonZero;

		let w = pos >>> 5;
		let o = pos & 31;
		let bits = (words[w]! << o) | ((words[w + 1]! >>> 1) >>> (31 - o));
		let entry = dc.fast[bits >>> (32 - FAST_BITS)]!;
		if (entry === 0) entry = lookupSymbol(dc, bits >>> 0);
		if (entry === 0) throw invalidCode(pos);
		let length = entry >>> 8;
		let size = entry & 0xff;
		let value = pred;
		if (size !== 0) {
			// Code and magnitude together are at most 9 + 11 bits: still inside this 32-bit window.
			const v = (bits << length) >>> (32 - size);
			value = (pred + (v < 1 << (size - 1) ? v - (1 << size) + 1 : v)) & 0xffff;
			length += size;
		}
		pos += length;
		value = (value << 16) >> 16;

		let count = 0;
		for (let k = 1; k < 64; ) {
			w = pos >>> 5;
			o = pos & 31;
			bits = (words[w]! << o) | ((words[w + 1]! >>> 1) >>> (31 - o));
			entry = ac.fast[bits >>> (32 - FAST_BITS)]!;
			if (entry === 0) entry = lookupSymbol(ac, bits >>> 0);
			if (entry === 0) throw invalidCode(pos);
			length = entry >>> 8;
			size = entry & 15;
			const run = (entry >>> 4) & 15;
			if (size === 0) {
				pos += length;
				if (run === 15) {
					k += 16;
					continue;
				}
				break;
			}
			// Code (<= 16 bits) + magnitude (<= 10 bits) fit in the window.
			const v = (bits << length) >>> (32 - size);
			pos += length + size;
			k += run;
			if (k > 63) k = 63;
			const z = ZIGZAG[k]!;
			deq[z] = (Math.imul(v < 1 << (size - 1) ? v - (1 << size) + 1 : v, q[z]!) << shift) >> 16;
			nonZero[count++] = z;
			k++;
		}
		reader.pos = pos;

		const dcDeq = (Math.imul(value, q[0]!) << shift) >> 16;
		if (count === 0) {
			this.flat[du] = RANGE_LIMIT[(dcDeq >> 3) & 1023]!;
		} else {
			this.flat[du] = -1;
			deq[0] = dcDeq;
			idct8x8Dequantized(deq, this.tile, du * 64, this.ws);
			for (let i = 0; i < count; i++) deq[nonZero[i]!] = 0;
		}
		return value;
	}

	/** Writes flat data units out as samples, for the per-pixel drawing paths. */
	private materialize(first: number, last: number): void {
		const tile = this.tile;
		for (let du = first; du <= last; du++) {
			const v = this.flat[du]!;
			// A plain loop: TypedArray.fill costs a native call, too much for 64 bytes.
			if (v >= 0) for (let i = du * 64, end = i + 64; i < end; i++) tile[i] = v;
		}
	}

	/** RGBA per Y for a fixed (Cb, Cr), cached. */
	private lumaTable(cb: number, cr: number): Uint32Array {
		const key = (cb << 8) | cr;
		const keys = this.lutKeys;
		for (let i = 0; i < 8; i++) if (keys[i] === key) return this.luts[i]!;
		const slot = this.lutNext;
		this.lutNext = (slot + 1) & 7;
		const lut = this.luts[slot]!;
		for (let y = 0; y < 256; y++) lut[y] = packedRgba(this.color, y, cb, cr);
		keys[slot] = key;
		return lut;
	}

	/** Fills the visible part of a size×size block at pixel (px, py) with one RGBA word (and YCbCr). */
	private fillBlock(px: number, py: number, size: number, rgba: number, yuv: number, keepYuv: boolean): void {
		const width = this.width;
		const w = Math.min(size, width - px);
		const h = Math.min(size, this.height - py);
		const out = this.picture32;
		const prev = this.prevYuv;
		for (let j = 0; j < h; j++) {
			const start = (py + j) * width + px;
			const end = start + w;
			for (let o = start; o < end; o++) out[o] = rgba;
			if (keepYuv && this.keepPrev) for (let o = start; o < end; o++) prev[o] = yuv;
		}
	}

	/** Converts the 4:4:4 tile to RGB at block (bx, by), clipped, and records its YCbCr. */
	private draw444(bx: number, by: number): void {
		const px = bx * 8;
		const py = by * 8;
		const width = this.width;
		if (px >= width || py >= this.height) return;
		const flat = this.flat;
		const fy = flat[0]!;
		const fcb = flat[DU_CB]!;
		const fcr = flat[DU_CR]!;
		if (fy >= 0 && fcb >= 0 && fcr >= 0) {
			this.fillBlock(px, py, 8, packedRgba(this.color, fy, fcb, fcr), fy | (fcb << 8) | (fcr << 16), true);
			return;
		}
		this.materialize(0, 0);
		const w = Math.min(8, width - px);
		const h = Math.min(8, this.height - py);
		const tile = this.tile;
		const out = this.picture32;
		const prev = this.prevYuv;
		const keep = this.keepPrev;
		if (fcb >= 0 && fcr >= 0) {
			// Flat chroma (grey or single-colour text): one table lookup per pixel.
			const lut = this.lumaTable(fcb, fcr);
			const chroma = (fcb << 8) | (fcr << 16);
			for (let j = 0; j < h; j++) {
				let o = (py + j) * width + px;
				let t = j * 8;
				for (let i = 0; i < w; i++, t++, o++) {
					const Y = tile[t]!;
					out[o] = lut[Y]!;
					if (keep) prev[o] = Y | chroma;
				}
			}
			return;
		}
		this.materialize(DU_CB, DU_CR);
		const { y: yT, crR, cbB, cbG, crG, clamp } = this.color;
		for (let j = 0; j < h; j++) {
			let o = (py + j) * width + px;
			let t = j * 8;
			for (let i = 0; i < w; i++, t++, o++) {
				const Y = tile[t]!;
				const cb = tile[TILE_CB + t]!;
				const cr = tile[TILE_CR + t]!;
				const yt = yT[Y]! + CLAMP_OFFSET;
				out[o] =
					clamp[yt + crR[cr]!]! | (clamp[yt + cbG[cb]! + crG[cr]!]! << 8) | (clamp[yt + cbB[cb]!]! << 16) | 0xff000000;
				if (keep) prev[o] = Y | (cb << 8) | (cr << 16);
			}
		}
	}

	/** Converts the 4:2:0 tile (four Y units, nearest-neighbour chroma) at macroblock (bx, by), clipped. */
	private draw420(bx: number, by: number): void {
		const px = bx * 16;
		const py = by * 16;
		const width = this.width;
		if (px >= width || py >= this.height) return;
		const flat = this.flat;
		const fy = flat[0]!;
		const fcb = flat[DU_CB]!;
		const fcr = flat[DU_CR]!;
		if (fy >= 0 && fcb >= 0 && fcr >= 0 && flat[1] === fy && flat[2] === fy && flat[3] === fy) {
			this.fillBlock(px, py, 16, packedRgba(this.color, fy, fcb, fcr), 0, false);
			return;
		}
		this.materialize(0, 3);
		const w = Math.min(16, width - px);
		const h = Math.min(16, this.height - py);
		const tile = this.tile;
		const out = this.picture32;
		if (fcb >= 0 && fcr >= 0) {
			const lut = this.lumaTable(fcb, fcr);
			for (let j = 0; j < h; j++) {
				let o = (py + j) * width + px;
				const yRow = ((j >> 3) << 7) + ((j & 7) << 3);
				for (let i = 0; i < w; i++, o++) out[o] = lut[tile[yRow + ((i >> 3) << 6) + (i & 7)]!]!;
			}
			return;
		}
		this.materialize(DU_CB, DU_CR);
		const { y: yT, crR, cbB, cbG, crG, clamp } = this.color;
		for (let j = 0; j < h; j++) {
			let o = (py + j) * width + px;
			const yRow = ((j >> 3) << 7) + ((j & 7) << 3);
			const cRow = (j >> 1) << 3;
			for (let i = 0; i < w; i++, o++) {
				const Y = tile[yRow + ((i >> 3) << 6) + (i & 7)]!;
				const c = cRow + (i >> 1);
				const cb = tile[TILE_CB + c]!;
				const cr = tile[TILE_CR + c]!;
				const yt = yT[Y]! + CLAMP_OFFSET;
				out[o] =
					clamp[yt + crR[cr]!]! | (clamp[yt + cbG[cb]! + crG[cr]!]! << 8) | (clamp[yt + cbB[cb]!]! << 16) | 0xff000000;
			}
		}
	}

	/**
	 * VQ block: palette colours converted once, pixels by index. In 4:2:0 the
	 * viewer mixes stale tile data into VQ blocks (no sensible output); we
	 * draw the 8x8 pattern scaled 2x over the 16x16 macroblock.
	 */
	private drawVq(bx: number, by: number, entries: number, mode420: boolean): void {
		const size = mode420 ? 16 : 8;
		const px = bx * size;
		const py = by * size;
		const width = this.width;
		if (px >= width || py >= this.height) return;
		const rgbaOf = this.paletteRgba;
		const yuvOf = this.paletteYuv;
		for (let k = 0; k < entries; k++) {
			const c = this.vqPalette[k]!;
			const Y = c >>> 16;
			const cb = (c >>> 8) & 255;
			const cr = c & 255;
			rgbaOf[k] = packedRgba(this.color, Y, cb, cr);
			yuvOf[k] = Y | (cb << 8) | (cr << 16);
		}
		if (entries === 1) {
			this.fillBlock(px, py, size, rgbaOf[0]!, yuvOf[0]!, !mode420);
			return;
		}
		const w = Math.min(size, width - px);
		const h = Math.min(size, this.height - py);
		const indices = this.vqIndices;
		const out = this.picture32;
		const prev = this.prevYuv;
		const keep = this.keepPrev;
		if (mode420) {
			for (let j = 0; j < h; j++) {
				let o = (py + j) * width + px;
				const row = (j >> 1) << 3;
				for (let i = 0; i < w; i++, o++) out[o] = rgbaOf[indices[row + (i >> 1)]!]!;
			}
			return;
		}
		for (let j = 0; j < h; j++) {
			let o = (py + j) * width + px;
			let t = j << 3;
			for (let i = 0; i < w; i++, o++, t++) {
				const k = indices[t]!;
				out[o] = rgbaOf[k]!;
				if (keep) prev[o] = yuvOf[k]!;
			}
		}
	}

	/** PASS2: the tile is a delta (sample − 128) over prevYUV; prevYUV itself is not updated. */
	private drawPass2(bx: number, by: number): void {
		const px = bx * 8;
		const py = by * 8;
		const width = this.width;
		if (px >= width || py >= this.height) return;
		this.materialize(0, 0);
		this.materialize(DU_CB, DU_CR);
		const w = Math.min(8, width - px);
		const h = Math.min(8, this.height - py);
		const t8 = this.color;
		const tile = this.tile;
		const out = this.picture32;
		const prev = this.prevYuv;
		for (let j = 0; j < h; j++) {
			let o = (py + j) * width + px;
			let t = j * 8;
			for (let i = 0; i < w; i++, t++, o++) {
				const p = prev[o]!;
				const Y = clamp255((p & 255) + tile[t]! - 128);
				const cb = clamp255(((p >>> 8) & 255) + tile[TILE_CB + t]! - 128);
				const cr = clamp255(((p >>> 16) & 255) + tile[TILE_CR + t]! - 128);
				out[o] = packedRgba(t8, Y, cb, cr);
			}
		}
	}
}

function clamp255(v: number): number {
	return Math.min(255, Math.max(0, v));
}
