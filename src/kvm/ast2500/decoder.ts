// biome-ignore-all lint/style/noNonNullAssertion: typed-array reads in codec loops are in bounds by construction; `!` keeps them branch-free under noUncheckedIndexedAccess.
/**
 * The AST2500 frame decoder (docs/ast2500.md §4–§11): walks the block stream
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
 * out of bounds.
 */
import { IkvmError } from "../../errors.ts";
import { BitReader } from "./bit-reader.ts";
import { type ColorMatrix, type ColorTables, colorTables } from "./color.ts";
import { parseVideoHeader, type VideoHeader } from "./header.ts";
import {
	AC_CHROMA,
	AC_LUMA,
	DC_CHROMA,
	DC_LUMA,
	extend,
	type HuffmanTable,
	invalidCode,
	lookupSymbol,
} from "./huffman.ts";
import { idct8x8, idctDcSample } from "./idct.ts";
import { QuantCache } from "./quant.ts";
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

export interface Ast2500DecoderOptions {
	/** Largest picture accepted (refused before allocating). Default 4096x4096. */
	maxWidth?: number;
	maxHeight?: number;
	/** "bt601" (default, correct colours) or "ami" (the BMC viewer's Cr→G bug, for pixel-exact comparisons). */
	colorMatrix?: ColorMatrix;
}

export interface DecodedPicture {
	width: number;
	height: number;
	/** width·height·4 bytes, a copy the caller owns. */
	rgba: Uint8Array;
}

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

export class Ast2500Decoder {
	private readonly maxWidth: number;
	private readonly maxHeight: number;
	private readonly color: ColorTables;

	private width = 0;
	private height = 0;
	private picture = new Uint8Array(0);
	/** Same memory as `picture`: stores clamp to 0..255 for free. */
	private clamped = new Uint8ClampedArray(0);
	/** Y, Cb, Cr per pixel as the last JPEG/LOW/VQ block left it (PASS2 refines it). */
	private prevYuv = new Uint8Array(0);

	private readonly vq = new VqCache();
	private readonly quantCache = new QuantCache();
	private readonly reader = new BitReader();
	private readonly coef = new Int16Array(64);
	private readonly nonZero = new Uint8Array(64);
	private readonly ws = new Int32Array(64);
	/** Y0..Y3 at 0/64/128/192 (4:2:0; 4:4:4 uses Y0 only), Cb at 256, Cr at 320. */
	private readonly tile = new Uint8Array(384);
	private readonly tileY = this.tile.subarray(0, 64);
	private readonly tileCb = this.tile.subarray(TILE_CB, TILE_CB + 64);
	private readonly tileCr = this.tile.subarray(TILE_CR, TILE_CR + 64);

	private info: FrameInfo | undefined;

	constructor(options: Ast2500DecoderOptions = {}) {
		this.maxWidth = options.maxWidth ?? 4096;
		this.maxHeight = options.maxHeight ?? 4096;
		this.color = colorTables(options.colorMatrix ?? "bt601");
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
		this.clamped = new Uint8ClampedArray(0);
		this.prevYuv = new Uint8Array(0);
		this.vq.reset();
		this.info = undefined;
	}

	/**
	 * Decodes one frame (video header + compressed data) over the previous
	 * picture and returns a copy of the result.
	 */
	decode(frame: Uint8Array): DecodedPicture {
		const header = parseVideoHeader(frame, { maxWidth: this.maxWidth, maxHeight: this.maxHeight });
		const available = frame.length - header.headerLength;
		if (available < header.compressSize) {
			throw new IkvmError(
				"PROTOCOL",
				`AST2500 frame truncated: header says ${header.compressSize} compressed bytes, ${Math.max(0, available)} present.`,
				{ stage: "decode" },
			);
		}
		this.ensurePicture(header.width, header.height);
		const data = frame.subarray(header.headerLength, header.headerLength + header.compressSize);
		try {
			this.decodeBlocks(header, data);
		} catch (error) {
			if (error instanceof IkvmError) throw error;
			throw new IkvmError("INTERNAL", `AST2500 decoder failed: ${(error as Error).message}`, {
				stage: "decode",
				cause: error,
			});
		}
		return { width: this.width, height: this.height, rgba: this.picture.slice() };
	}

	private ensurePicture(width: number, height: number): void {
		if (width === this.width && height === this.height) return;
		// A new resolution starts from black; the BMC follows a mode change with a full frame.
		this.width = width;
		this.height = height;
		this.picture = new Uint8Array(width * height * 4);
		for (let i = 3; i < this.picture.length; i += 4) this.picture[i] = 255;
		this.clamped = new Uint8ClampedArray(this.picture.buffer);
		this.prevYuv = new Uint8Array(width * height * 3);
		for (let i = 0; i < this.prevYuv.length; i += 3) {
			this.prevYuv[i] = 16;
			this.prevYuv[i + 1] = 128;
			this.prevYuv[i + 2] = 128;
		}
	}

	private decodeBlocks(header: VideoHeader, data: Uint8Array): void {
		const reader = this.reader;
		reader.load(data);
		const q = this.quantCache.get(header);
		const mode420 = header.mode420;
		const bs = mode420 ? 16 : 8;
		const cols = Math.ceil(header.gridWidth / bs);
		const rows = Math.ceil(header.gridHeight / bs);

		let x = 0;
		let y = 0;
		let predY = 0;
		let predCb = 0;
		let predCr = 0;
		let blocks = 0;
		let sawFrameEnd = false;

		do {
			if (reader.overran()) {
				throw new IkvmError("PROTOCOL", "AST2500 stream corrupt: a block ran past the end of the data.", {
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
						if (mode420) {
							predY = this.dataUnit(DC_LUMA, AC_LUMA, predY, qy, 0);
							predY = this.dataUnit(DC_LUMA, AC_LUMA, predY, qy, 64);
							predY = this.dataUnit(DC_LUMA, AC_LUMA, predY, qy, 128);
							predY = this.dataUnit(DC_LUMA, AC_LUMA, predY, qy, 192);
							predCb = this.dataUnit(DC_CHROMA, AC_CHROMA, predCb, qc, TILE_CB);
							predCr = this.dataUnit(DC_CHROMA, AC_CHROMA, predCr, qc, TILE_CR);
							this.draw420(x, y);
						} else {
							predY = this.dataUnit(DC_LUMA, AC_LUMA, predY, qy, 0);
							predCb = this.dataUnit(DC_CHROMA, AC_CHROMA, predCb, qc, TILE_CB);
							predCr = this.dataUnit(DC_CHROMA, AC_CHROMA, predCr, qc, TILE_CR);
							this.draw444(x, y);
						}
						break;
					}
					case BlockCode.PASS2: {
						predY = this.dataUnit(DC_LUMA, AC_LUMA, predY, q[2], 0);
						predCb = this.dataUnit(DC_CHROMA, AC_CHROMA, predCb, q[3], TILE_CB);
						predCr = this.dataUnit(DC_CHROMA, AC_CHROMA, predCr, q[3], TILE_CR);
						// Refinement exists for 4:4:4 only; in 4:2:0 it is parsed and dropped (as the viewer does).
						if (!mode420) this.drawPass2(x, y);
						break;
					}
					case BlockCode.VQ1:
					case BlockCode.VQ2:
					case BlockCode.VQ4: {
						const entries = code === BlockCode.VQ1 ? 1 : code === BlockCode.VQ2 ? 2 : 4;
						decodeVqBlock(reader, this.vq, entries, this.tileY, this.tileCb, this.tileCr);
						if (mode420) this.drawVq420(x, y);
						else this.draw444(x, y);
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
		} while (!reader.pastEnd());

		this.info = { header, blocks, sawFrameEnd };
	}

	/**
	 * Huffman-decodes one 8x8 data unit, inverse-transforms it into
	 * `tile[out..out+63]` and returns the updated DC predictor.
	 */
	private dataUnit(dc: HuffmanTable, ac: HuffmanTable, pred: number, q: Int32Array, out: number): number {
		const reader = this.reader;
		const coef = this.coef;
		const nonZero = this.nonZero;

		let entry = lookupSymbol(dc, reader.peek32());
		if (entry === 0) throw invalidCode(reader.pos);
		reader.pos += entry >>> 8;
		let size = entry & 0xff;
		let value = pred;
		if (size !== 0) value = (pred + extend(reader.read(size), size)) & 0xffff;
		value = (value << 16) >> 16;
		coef[0] = value;

		let count = 0;
		for (let k = 1; k < 64; ) {
			entry = lookupSymbol(ac, reader.peek32());
			if (entry === 0) throw invalidCode(reader.pos);
			reader.pos += entry >>> 8;
			size = entry & 15;
			const run = (entry >>> 4) & 15;
			if (size === 0) {
				if (run === 15) {
					k += 16;
					continue;
				}
				break;
			}
			k += run;
			if (k > 63) k = 63;
			const z = ZIGZAG[k]!;
			coef[z] = extend(reader.read(size), size);
			nonZero[count++] = z;
			k++;
		}

		if (count === 0) {
			this.tile.fill(idctDcSample(value, q[0]!), out, out + 64);
		} else {
			idct8x8(coef, 0, q, this.tile, out, this.ws);
			for (let i = 0; i < count; i++) coef[nonZero[i]!] = 0;
		}
		return value;
	}

	/** Converts the 4:4:4 tile to RGB at block (bx, by), clipped, and records its YCbCr. */
	private draw444(bx: number, by: number): void {
		const px = bx * 8;
		const py = by * 8;
		const width = this.width;
		if (px >= width || py >= this.height) return;
		const w = Math.min(8, width - px);
		const h = Math.min(8, this.height - py);
		const { y: yT, crR, cbB, cbG, crG } = this.color;
		const tile = this.tile;
		const out = this.clamped;
		const prev = this.prevYuv;
		for (let j = 0; j < h; j++) {
			let o = ((py + j) * width + px) * 4;
			let p3 = ((py + j) * width + px) * 3;
			let t = j * 8;
			for (let i = 0; i < w; i++, t++, o += 4, p3 += 3) {
				const Y = tile[t]!;
				const cb = tile[TILE_CB + t]!;
				const cr = tile[TILE_CR + t]!;
				const yt = yT[Y]!;
				out[o] = yt + crR[cr]!;
				out[o + 1] = yt + cbG[cb]! + crG[cr]!;
				out[o + 2] = yt + cbB[cb]!;
				prev[p3] = Y;
				prev[p3 + 1] = cb;
				prev[p3 + 2] = cr;
			}
		}
	}

	/** Converts the 4:2:0 tile (four Y units, nearest-neighbour chroma) at macroblock (bx, by), clipped. */
	private draw420(bx: number, by: number): void {
		const px = bx * 16;
		const py = by * 16;
		const width = this.width;
		if (px >= width || py >= this.height) return;
		const w = Math.min(16, width - px);
		const h = Math.min(16, this.height - py);
		const { y: yT, crR, cbB, cbG, crG } = this.color;
		const tile = this.tile;
		const out = this.clamped;
		for (let j = 0; j < h; j++) {
			let o = ((py + j) * width + px) * 4;
			const yRow = ((j >> 3) << 7) + ((j & 7) << 3);
			const cRow = (j >> 1) << 3;
			for (let i = 0; i < w; i++, o += 4) {
				const Y = tile[yRow + ((i >> 3) << 6) + (i & 7)]!;
				const c = cRow + (i >> 1);
				const cb = tile[TILE_CB + c]!;
				const cr = tile[TILE_CR + c]!;
				const yt = yT[Y]!;
				out[o] = yt + crR[cr]!;
				out[o + 1] = yt + cbG[cb]! + crG[cr]!;
				out[o + 2] = yt + cbB[cb]!;
			}
		}
	}

	/**
	 * VQ in 4:2:0 is not something the viewer decodes sensibly (it mixes stale
	 * tile data); we draw the 8x8 pattern scaled 2x over the 16x16 macroblock.
	 */
	private drawVq420(bx: number, by: number): void {
		const px = bx * 16;
		const py = by * 16;
		const width = this.width;
		if (px >= width || py >= this.height) return;
		const w = Math.min(16, width - px);
		const h = Math.min(16, this.height - py);
		const { y: yT, crR, cbB, cbG, crG } = this.color;
		const tile = this.tile;
		const out = this.clamped;
		for (let j = 0; j < h; j++) {
			let o = ((py + j) * width + px) * 4;
			for (let i = 0; i < w; i++, o += 4) {
				const t = ((j >> 1) << 3) + (i >> 1);
				const cb = tile[TILE_CB + t]!;
				const cr = tile[TILE_CR + t]!;
				const yt = yT[tile[t]!]!;
				out[o] = yt + crR[cr]!;
				out[o + 1] = yt + cbG[cb]! + crG[cr]!;
				out[o + 2] = yt + cbB[cb]!;
			}
		}
	}

	/** PASS2: the tile is a delta (sample − 128) over prevYUV; prevYUV itself is not updated. */
	private drawPass2(bx: number, by: number): void {
		const px = bx * 8;
		const py = by * 8;
		const width = this.width;
		if (px >= width || py >= this.height) return;
		const w = Math.min(8, width - px);
		const h = Math.min(8, this.height - py);
		const { y: yT, crR, cbB, cbG, crG } = this.color;
		const tile = this.tile;
		const out = this.clamped;
		const prev = this.prevYuv;
		for (let j = 0; j < h; j++) {
			let o = ((py + j) * width + px) * 4;
			let p3 = ((py + j) * width + px) * 3;
			let t = j * 8;
			for (let i = 0; i < w; i++, t++, o += 4, p3 += 3) {
				const Y = clamp255(prev[p3]! + tile[t]! - 128);
				const cb = clamp255(prev[p3 + 1]! + tile[TILE_CB + t]! - 128);
				const cr = clamp255(prev[p3 + 2]! + tile[TILE_CR + t]! - 128);
				const yt = yT[Y]!;
				out[o] = yt + crR[cr]!;
				out[o + 1] = yt + cbG[cb]! + crG[cr]!;
				out[o + 2] = yt + cbB[cb]!;
			}
		}
	}
}

function clamp255(v: number): number {
	return Math.min(255, Math.max(0, v));
}
