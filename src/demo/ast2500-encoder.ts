/**
 * An AST2500 video encoder, written from the format description
 *, for the mock BMC of the embedded demo and the tests:
 * RGBA picture → frame file (86-byte video header + compressed data), the
 * same bytes a BMC sends inside IVTP video packets.
 *
 * Modes: YUV 4:4:4 DCT (8x8 blocks), YUV 4:2:0 DCT (16x16 macroblocks), VQ
 * blocks for 8x8 blocks of at most four colours (4:4:4 only), normal or
 * "low" (advance-table) DCT blocks, any table selectors, full frames or
 * partial frames that carry only the blocks that changed since a previous
 * picture (explicit-position codes jump over the unchanged ones).
 *
 * It shares only the *tables* with the decoder (Huffman specs of T.81 Annex K,
 * quantisation bases, header layout); colour conversion, the forward DCT,
 * entropy coding and block grammar are written here independently so a
 * round trip checks both sides.
 */

import { type ColorMatrix, DEFAULT_COLOR_MATRIX } from "../aspeed/color.ts";
import { writeVideoHeader } from "../aspeed/header.ts";
import { AC_CHROMA, AC_LUMA, DC_CHROMA, DC_LUMA } from "../aspeed/huffman.ts";
import { AAN_SCALE, ATEN_MAX_SELECTOR, baseTable, multiplierTable, multiplierTable16 } from "../aspeed/quant.ts";
import type { Picture } from "../frame.ts";

/** What the encoder takes. */
export type RgbaPicture = Picture;

export type EncoderColorMatrix = ColorMatrix;

export interface Ast2500EncodeOptions {
	/** "444" (default): 8x8 blocks; "420": 16x16 macroblocks with 2x2-averaged chroma. */
	mode?: "444" | "420";
	/** 4:4:4 only: send 8x8 blocks of at most four colours as VQ blocks (exact colours). Default true. */
	vq?: boolean;
	/** Quality of normal DCT blocks, 0 (coarsest) .. 7 (finest). Default 7. */
	jpegTableSelector?: number;
	/** Quality of low/pass-2 blocks, 0..7. Default 7. */
	advanceTableSelector?: number;
	/** 1 = chroma uses the luma tables. Default 0. */
	yuvTableMapping?: 0 | 1;
	/** Send DCT blocks as LOW blocks (advance tables) instead of normal JPEG blocks. */
	lowQuality?: boolean;
	/**
	 * LOW blocks at the next position: "explicit" (default) always uses code 0xC with a
	 * position, because AMI's viewer mis-parses 0x4; "next" uses the 4-bit code 0x4.
	 */
	lowCode?: "explicit" | "next";
	/** Give every block an explicit position (like a BMC with skip codes on every block). */
	explicitPositions?: boolean;
	/** Partial frame: only blocks whose pixels differ from this picture (same size) are sent. */
	previous?: RgbaPicture;
	/** Matrix the decoder will use; the encoder inverts it. Default: the decoder's default. */
	colorMatrix?: EncoderColorMatrix;
	frameNumber?: number;
}

export interface EncodedFrameStats {
	/** Blocks written (excluding FRAME_END). */
	blocks: number;
	dctBlocks: number;
	vqBlocks: number;
}

// ---------------------------------------------------------------------------------------------
// Colour: the decoder computes R = Yt + fx(kR, Cr-128), G = Yt + fx(kGb, Cb-128) + fx(kGr, Cr-128),
// B = Yt + fx(kB, Cb-128) with Yt = fx(kY, Y-16) and fx(K, d) = (K·d + 32768) >> 16.

const K_Y = 76284;
const K_R = 104704;
const K_B = 132096;
const K_GB = -25600;
const K_GR = { bt601: -53248, ami: -25600 } as const;

function fx(k: number, d: number): number {
	return (k * d + 32768) >> 16;
}

function clampByte(v: number): number {
	return Math.min(255, Math.max(0, v));
}

class ColorModel {
	private readonly kgr: number;
	private readonly exact = new Map<number, number>();

	constructor(readonly matrix: EncoderColorMatrix) {
		this.kgr = K_GR[matrix];
	}

	/** What the decoder will show for (Y, Cb, Cr). */
	forward(y: number, cb: number, cr: number): [number, number, number] {
		const yt = fx(K_Y, y - 16);
		return [
			clampByte(yt + fx(K_R, cr - 128)),
			clampByte(yt + fx(K_GB, cb - 128) + fx(this.kgr, cr - 128)),
			clampByte(yt + fx(K_B, cb - 128)),
		];
	}

	/** Real-valued inverse of the decoder's matrix (unclamped). */
	inverse(r: number, g: number, b: number, out: Float64Array, o: number): void {
		const ky = K_Y / 65536;
		const kr = K_R / 65536;
		const kb = K_B / 65536;
		const kgb = K_GB / 65536;
		const kgr = this.kgr / 65536;
		// R = y' + kr·cr', B = y' + kb·cb', G = y' + kgb·cb' + kgr·cr'  (y' = ky·(Y-16)).
		const yp = (g - (kgb / kb) * b - (kgr / kr) * r) / (1 - kgb / kb - kgr / kr);
		out[o] = yp / ky + 16;
		out[o + 1] = (b - yp) / kb + 128;
		out[o + 2] = (r - yp) / kr + 128;
	}

	/**
	 * The 8-bit (Y, Cb, Cr) whose decoded colour is closest to (r, g, b),
	 * found around the real inverse; exact whenever the colour is reachable.
	 */
	nearest(r: number, g: number, b: number): number {
		const key = (r << 16) | (g << 8) | b;
		const cached = this.exact.get(key);
		if (cached !== undefined) return cached;
		const f = new Float64Array(3);
		this.inverse(r, g, b, f, 0);
		const y0 = Math.round(f[0] ?? 0);
		const cb0 = Math.round(f[1] ?? 0);
		const cr0 = Math.round(f[2] ?? 0);
		let best = 0;
		let bestErr = Number.POSITIVE_INFINITY;
		for (let dy = -2; dy <= 2 && bestErr > 0; dy++) {
			for (let dcb = -2; dcb <= 2 && bestErr > 0; dcb++) {
				for (let dcr = -2; dcr <= 2 && bestErr > 0; dcr++) {
					const y = clampByte(y0 + dy);
					const cb = clampByte(cb0 + dcb);
					const cr = clampByte(cr0 + dcr);
					const [R, G, B] = this.forward(y, cb, cr);
					const err = (R - r) ** 2 + (G - g) ** 2 + (B - b) ** 2;
					if (err < bestErr) {
						bestErr = err;
						best = (y << 16) | (cb << 8) | cr;
					}
				}
			}
		}
		this.exact.set(key, best);
		return best;
	}
}

// ---------------------------------------------------------------------------------------------
// Bits: the stream is MSB-first; every 4 bytes are then stored as a little-endian word.

class BitWriter {
	private bytes = new Uint8Array(4096);
	private length = 0;
	private acc = 0;
	private accBits = 0;

	write(value: number, bits: number): void {
		for (let left = bits; left > 0; ) {
			const take = Math.min(left, 24 - this.accBits);
			const chunk = (value >>> (left - take)) & ((1 << take) - 1);
			this.acc = (this.acc << take) | chunk;
			this.accBits += take;
			left -= take;
			while (this.accBits >= 8) {
				this.pushByte((this.acc >>> (this.accBits - 8)) & 0xff);
				this.accBits -= 8;
				this.acc &= (1 << this.accBits) - 1;
			}
		}
	}

	private pushByte(b: number): void {
		if (this.length === this.bytes.length) {
			const grown = new Uint8Array(this.bytes.length * 2);
			grown.set(this.bytes);
			this.bytes = grown;
		}
		this.bytes[this.length++] = b;
	}

	/** Pads to a word, adds `guardWords` zero words, byte-swaps each word to little-endian. */
	finish(guardWords: number): Uint8Array {
		if (this.accBits > 0) this.write(0, 8 - this.accBits);
		while (this.length % 4 !== 0) this.pushByte(0);
		for (let i = 0; i < guardWords * 4; i++) this.pushByte(0);
		const out = this.bytes.slice(0, this.length);
		for (let i = 0; i < out.length; i += 4) {
			const b0 = out[i] ?? 0;
			const b1 = out[i + 1] ?? 0;
			out[i] = out[i + 3] ?? 0;
			out[i + 1] = out[i + 2] ?? 0;
			out[i + 2] = b1;
			out[i + 3] = b0;
		}
		return out;
	}
}

// ---------------------------------------------------------------------------------------------
// Forward DCT (orthonormal JPEG definition, separable, floating point).

const COS = (() => {
	const t = new Float64Array(64);
	for (let u = 0; u < 8; u++) {
		const c = u === 0 ? Math.SQRT1_2 : 1;
		for (let x = 0; x < 8; x++) t[u * 8 + x] = (c / 2) * Math.cos(((2 * x + 1) * u * Math.PI) / 16);
	}
	return t;
})();

/** `block` = 64 level-shifted samples (row-major) → 64 DCT coefficients (row-major, [v][u]). */
function fdct(block: Float64Array, out: Float64Array, tmp: Float64Array): void {
	for (let y = 0; y < 8; y++) {
		for (let u = 0; u < 8; u++) {
			let s = 0;
			for (let x = 0; x < 8; x++) s += (COS[u * 8 + x] ?? 0) * (block[y * 8 + x] ?? 0);
			tmp[y * 8 + u] = s;
		}
	}
	for (let u = 0; u < 8; u++) {
		for (let v = 0; v < 8; v++) {
			let s = 0;
			for (let y = 0; y < 8; y++) s += (COS[v * 8 + y] ?? 0) * (tmp[y * 8 + u] ?? 0);
			out[v * 8 + u] = s;
		}
	}
}

const ZIGZAG = [
	0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47,
	55, 62, 63,
];

/**
 * The effective quantiser step per position. AMI's decoder multiplies by
 * M = floor(Q·a[v]·a[u]); ATEN's by F / 65536 with F = trunc(Q·a[v]·a[u]·65536).
 */
export function quantSteps(selector: number, chroma: boolean, rule: "integer" | "fixed16" = "integer"): Float64Array {
	const base = baseTable(selector, chroma, ATEN_MAX_SELECTOR);
	const m = rule === "integer" ? multiplierTable(base) : multiplierTable16(base);
	const unit = rule === "integer" ? 1 : 65536;
	const s = new Float64Array(64);
	for (let v = 0; v < 8; v++) {
		for (let u = 0; u < 8; u++) {
			s[v * 8 + u] = (m[v * 8 + u] ?? 1) / unit / ((AAN_SCALE[v] ?? 1) * (AAN_SCALE[u] ?? 1));
		}
	}
	return s;
}

/** Number of bits of |v| (JPEG size category). */
function category(v: number): number {
	let a = v < 0 ? -v : v;
	let n = 0;
	while (a > 0) {
		n++;
		a >>= 1;
	}
	return n;
}

interface Huff {
	codeOf: Uint16Array;
	lengthOf: Uint8Array;
}

function putSymbol(w: BitWriter, table: Huff, symbol: number): void {
	const length = table.lengthOf[symbol] ?? 0;
	if (length === 0) throw new Error(`symbol ${symbol} has no Huffman code`);
	w.write(table.codeOf[symbol] ?? 0, length);
}

/** Magnitude bits of v in `size` bits (negative values as v − 1, JPEG style). */
function putValue(w: BitWriter, v: number, size: number): void {
	if (size > 0) w.write(v < 0 ? v + (1 << size) - 1 : v, size);
}

// ---------------------------------------------------------------------------------------------

interface Component {
	dc: Huff;
	ac: Huff;
}

const LUMA: Component = { dc: DC_LUMA, ac: AC_LUMA };
const CHROMA: Component = { dc: DC_CHROMA, ac: AC_CHROMA };

class FrameWriter {
	readonly bits = new BitWriter();
	readonly stats: EncodedFrameStats = { blocks: 0, dctBlocks: 0, vqBlocks: 0 };
	private predY = 0;
	private predCb = 0;
	private predCr = 0;
	private readonly coefs = new Int32Array(64);
	private readonly freq = new Float64Array(64);
	private readonly level = new Float64Array(64);
	private readonly scratch = new Float64Array(64);

	constructor(
		private readonly stepsY: Float64Array,
		private readonly stepsC: Float64Array,
	) {}

	/** Block header: 4-bit code, plus X:8 Y:8 when the position is explicit. */
	header(code: number, explicit: boolean, bx: number, by: number): void {
		if (explicit) {
			this.bits.write(code | 8, 4);
			this.bits.write(bx, 8);
			this.bits.write(by, 8);
		} else {
			this.bits.write(code, 4);
		}
		this.stats.blocks++;
	}

	/** Forward-DCTs, quantises and Huffman-codes one data unit of 64 samples (0..255 floats). */
	dataUnit(samples: Float64Array, component: Component, which: "y" | "cb" | "cr"): void {
		const level = this.level;
		// +0.5 offsets the decoder's truncating final shift.
		for (let i = 0; i < 64; i++) level[i] = (samples[i] ?? 0) - 128 + 0.5;
		const freq = this.freq;
		fdct(level, freq, this.scratch);
		const step = which === "y" ? this.stepsY : this.stepsC;
		const q = this.coefs;
		for (let i = 0; i < 64; i++) {
			// A zero step is a multiplier the decoder truncated to 0: the coefficient cannot be sent.
			const st = step[i] ?? 0;
			const v = st === 0 ? 0 : Math.round((freq[i] ?? 0) / st);
			q[i] = Math.max(-1023, Math.min(1023, v));
		}
		const pred = which === "y" ? this.predY : which === "cb" ? this.predCb : this.predCr;
		const dc = q[0] ?? 0;
		const diff = dc - pred;
		const dcSize = category(diff);
		putSymbol(this.bits, component.dc, dcSize);
		putValue(this.bits, diff, dcSize);
		if (which === "y") this.predY = dc;
		else if (which === "cb") this.predCb = dc;
		else this.predCr = dc;

		let run = 0;
		let last = 63;
		while (last > 0 && q[ZIGZAG[last] ?? 0] === 0) last--;
		for (let k = 1; k <= last; k++) {
			const v = q[ZIGZAG[k] ?? 0] ?? 0;
			if (v === 0) {
				run++;
				continue;
			}
			while (run >= 16) {
				putSymbol(this.bits, component.ac, 0xf0);
				run -= 16;
			}
			const size = category(v);
			putSymbol(this.bits, component.ac, (run << 4) | size);
			putValue(this.bits, v, size);
			run = 0;
		}
		if (last < 63) putSymbol(this.bits, component.ac, 0x00);
	}

	end(): Uint8Array {
		this.bits.write(0x9, 4);
		// Two zero words after FRAME_END so the viewer's end-of-data rule cannot stop before it.
		return this.bits.finish(2);
	}
}

/** Levels neutral black/white targets are pushed into the clipped range (measured best for text). */
const HEADROOM = 8;

/**
 * Black and white saturate in the decoder (Y <= 16 and Y >= 235 with neutral
 * chroma all give 0 / 255), so aiming neutral black a little below 16 and
 * white a little above 235 lets ringing from the quantised DCT fall into the
 * clipped range instead of showing as grey fringes around text strokes.
 */
function clipAwareTargets(ycc: Float64Array, headroom: number): void {
	for (let i = 0; i < ycc.length; i += 3) {
		let y = ycc[i] ?? 0;
		const cb = ycc[i + 1] ?? 128;
		const cr = ycc[i + 2] ?? 128;
		if (Math.abs(cb - 128) < 1 && Math.abs(cr - 128) < 1) {
			if (y <= 16.5) y -= headroom;
			else if (y >= 234.5) y += headroom;
		}
		ycc[i] = Math.max(0, Math.min(255, y));
		ycc[i + 1] = Math.max(0, Math.min(255, cb));
		ycc[i + 2] = Math.max(0, Math.min(255, cr));
	}
}

/** Slot contents the decoder's colour cache holds (must mirror the decoder receiving every frame). */
export const VQ_DEFAULT_SLOTS = [0x008080, 0xff8080, 0x808080, 0xc08080] as const;

export interface VqState {
	slots: number[];
	/** Reuse cached colours (U=0) when the decoder is known to hold them; else always load (U=1). */
	reuse: boolean;
	next: number;
}

/** Writes a VQ block for 1..4 colours (YCbCr) and the per-pixel palette indices. */
function writeVq(w: FrameWriter, colors: number[], indices: Uint8Array, state: VqState): void {
	const entries = colors.length === 1 ? 1 : colors.length === 2 ? 2 : 4;
	const used = new Set<number>();
	for (let i = 0; i < entries; i++) {
		const color = colors[i];
		if (color === undefined) {
			// Padding entry of a 3-colour block: never referenced by the bitmap.
			w.bits.write(0b000, 3);
			continue;
		}
		let slot = state.reuse ? state.slots.findIndex((s, k) => s === color && !used.has(k)) : -1;
		if (slot >= 0) {
			w.bits.write(slot, 3);
		} else {
			if (state.reuse) {
				do slot = state.next++ & 3;
				while (used.has(slot));
			} else {
				slot = i;
			}
			w.bits.write(0b100 | slot, 3);
			w.bits.write(color, 24);
			state.slots[slot] = color;
		}
		used.add(slot);
	}
	if (entries === 1) return;
	const bits = entries === 2 ? 1 : 2;
	for (let p = 0; p < 64; p++) w.bits.write(indices[p] ?? 0, bits);
}

/** Refuses pictures the block grammar cannot carry (positions are 8-bit block numbers). */
export function validatePicture(image: RgbaPicture, mode420: boolean): void {
	const { width, height, rgba } = image;
	if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width > 65535) {
		throw new RangeError(`cannot encode a ${width}x${height} picture`);
	}
	if (rgba.length !== width * height * 4) throw new RangeError("rgba length does not match the picture size");
	const bs = mode420 ? 16 : 8;
	if (Math.ceil(width / bs) > 256 || Math.ceil(height / bs) > 256) {
		throw new RangeError(`${width}x${height} needs block positions beyond 255 in this mode`);
	}
}

function validate(image: RgbaPicture, options: Ast2500EncodeOptions): void {
	validatePicture(image, options.mode === "420");
	for (const s of [options.jpegTableSelector, options.advanceTableSelector]) {
		if (s !== undefined && (!Number.isInteger(s) || s < 0 || s > 7))
			throw new RangeError("table selector must be 0..7");
	}
}

function blockChanged(a: RgbaPicture, b: RgbaPicture, px: number, py: number, size: number): boolean {
	const w = Math.min(size, a.width - px);
	const h = Math.min(size, a.height - py);
	for (let j = 0; j < h; j++) {
		const o = ((py + j) * a.width + px) * 4;
		for (let i = 0; i < w * 4; i++) if (a.rgba[o + i] !== b.rgba[o + i]) return true;
	}
	return false;
}

/** What the block writer needs, whichever header (AMI or ATEN) goes in front of the bit stream. */
export interface BitstreamEncodeParams {
	mode420: boolean;
	/** Send 8x8 blocks of at most four colours as VQ blocks (4:4:4 only). */
	vq: boolean;
	/** Quantiser steps of the tables the DCT blocks use (see quantSteps). */
	stepsY: Float64Array;
	stepsC: Float64Array;
	/** Send DCT blocks as LOW blocks (code 0x4/0xC). */
	low: boolean;
	/** LOW blocks always with a position (0xC). */
	lowExplicit: boolean;
	explicitPositions: boolean;
	previous?: RgbaPicture;
	colorMatrix: EncoderColorMatrix;
}

/**
 * Encodes the blocks of one frame (no header): the compressed bytes, ending
 * with FRAME_END and two zero words. `vqState` mirrors the decoder's colour
 * cache (carried across frames by the AMI stream encoder, fresh per frame for ATEN).
 */
export function encodeBitstream(
	image: RgbaPicture,
	params: BitstreamEncodeParams,
	vqState: VqState,
): { data: Uint8Array; stats: EncodedFrameStats } {
	const mode420 = params.mode420;
	const bs = mode420 ? 16 : 8;
	const low = params.low;
	const useVq = !mode420 && params.vq;
	const writer = new FrameWriter(params.stepsY, params.stepsC);
	const color = new ColorModel(params.colorMatrix);
	const previous =
		params.previous && params.previous.width === image.width && params.previous.height === image.height
			? params.previous
			: undefined;

	const { width, height, rgba } = image;
	const cols = Math.ceil(width / bs);
	const rows = Math.ceil(height / bs);
	const ycc = new Float64Array(bs * bs * 3);
	const y8 = new Float64Array(64);
	const cb8 = new Float64Array(64);
	const cr8 = new Float64Array(64);
	const indices = new Uint8Array(64);
	const dctCode = low ? 0x4 : 0x0;

	// Where the decoder's position will be after the last block written.
	let nextX = 0;
	let nextY = 0;
	const advance = (bx: number, by: number): void => {
		nextX = bx + 1;
		nextY = by;
		if (nextX >= cols) {
			nextX = 0;
			nextY = by + 1 >= rows ? 0 : by + 1;
		}
	};
	for (let by = 0; by < rows; by++) {
		for (let bx = 0; bx < cols; bx++) {
			const px = bx * bs;
			const py = by * bs;
			if (previous && !blockChanged(image, previous, px, py, bs)) continue;
			const explicit = params.explicitPositions || bx !== nextX || by !== nextY;

			// VQ: an 8x8 block of at most four distinct colours, sent exactly.
			if (useVq) {
				const colors: number[] = [];
				let fits = true;
				for (let j = 0; j < 8 && fits; j++) {
					for (let i = 0; i < 8; i++) {
						const sx = Math.min(px + i, width - 1);
						const sy = Math.min(py + j, height - 1);
						const o = (sy * width + sx) * 4;
						const c = color.nearest(rgba[o] ?? 0, rgba[o + 1] ?? 0, rgba[o + 2] ?? 0);
						let k = colors.indexOf(c);
						if (k < 0) {
							if (colors.length === 4) {
								fits = false;
								break;
							}
							k = colors.push(c) - 1;
						}
						indices[j * 8 + i] = k;
					}
				}
				if (fits) {
					const code = colors.length === 1 ? 0x5 : colors.length === 2 ? 0x6 : 0x7;
					writer.header(code, explicit, bx, by);
					writeVq(writer, colors, indices, vqState);
					writer.stats.vqBlocks++;
					advance(bx, by);
					continue;
				}
			}

			// DCT block: YCbCr of every pixel (edges replicated), then data units.
			for (let j = 0; j < bs; j++) {
				for (let i = 0; i < bs; i++) {
					const sx = Math.min(px + i, width - 1);
					const sy = Math.min(py + j, height - 1);
					const o = (sy * width + sx) * 4;
					color.inverse(rgba[o] ?? 0, rgba[o + 1] ?? 0, rgba[o + 2] ?? 0, ycc, (j * bs + i) * 3);
				}
			}
			clipAwareTargets(ycc, HEADROOM);
			// LOW without a position uses code 0x4, which only our decoder reads correctly.
			writer.header(dctCode, explicit || (low && params.lowExplicit), bx, by);
			if (mode420) {
				for (let q = 0; q < 4; q++) {
					const ox = (q & 1) * 8;
					const oy = (q >> 1) * 8;
					for (let j = 0; j < 8; j++)
						for (let i = 0; i < 8; i++) y8[j * 8 + i] = ycc[((oy + j) * 16 + ox + i) * 3] ?? 0;
					writer.dataUnit(y8, LUMA, "y");
				}
				for (let j = 0; j < 8; j++) {
					for (let i = 0; i < 8; i++) {
						// 2x2 box average of the chroma.
						const t = (2 * j * 16 + 2 * i) * 3;
						const d = 16 * 3;
						cb8[j * 8 + i] =
							((ycc[t + 1] ?? 0) + (ycc[t + 4] ?? 0) + (ycc[t + d + 1] ?? 0) + (ycc[t + d + 4] ?? 0)) / 4;
						cr8[j * 8 + i] =
							((ycc[t + 2] ?? 0) + (ycc[t + 5] ?? 0) + (ycc[t + d + 2] ?? 0) + (ycc[t + d + 5] ?? 0)) / 4;
					}
				}
			} else {
				for (let p = 0; p < 64; p++) {
					y8[p] = ycc[p * 3] ?? 0;
					cb8[p] = ycc[p * 3 + 1] ?? 0;
					cr8[p] = ycc[p * 3 + 2] ?? 0;
				}
				writer.dataUnit(y8, LUMA, "y");
			}
			writer.dataUnit(cb8, CHROMA, "cb");
			writer.dataUnit(cr8, CHROMA, "cr");
			writer.stats.dctBlocks++;
			advance(bx, by);
		}
	}

	return { data: writer.end(), stats: writer.stats };
}

/**
 * Encodes one frame. Returns the frame file bytes and what was written.
 * `vqState` carries the decoder's colour cache across frames (stream encoder).
 */
function encodeInternal(
	image: RgbaPicture,
	options: Ast2500EncodeOptions,
	vqState: VqState,
): { frame: Uint8Array; stats: EncodedFrameStats } {
	validate(image, options);
	const mode420 = options.mode === "420";
	const jpegSel = options.jpegTableSelector ?? 7;
	const advSel = options.advanceTableSelector ?? 7;
	const mapping = options.yuvTableMapping ?? 0;
	const low = options.lowQuality ?? false;
	const sel = low ? advSel : jpegSel;
	const { width, height } = image;
	const { data, stats } = encodeBitstream(
		image,
		{
			mode420,
			vq: options.vq ?? true,
			stepsY: quantSteps(sel, false),
			stepsC: quantSteps(sel, mapping !== 1),
			low,
			lowExplicit: options.lowCode !== "next",
			explicitPositions: options.explicitPositions === true,
			previous: options.previous,
			colorMatrix: options.colorMatrix ?? DEFAULT_COLOR_MATRIX,
		},
		vqState,
	);
	const header = writeVideoHeader({
		width,
		height,
		mode420,
		jpegTableSelector: jpegSel,
		advanceTableSelector: advSel,
		yuvTableMapping: mapping,
		compressSize: data.length,
		numberOfBlocks: stats.blocks,
		frameNumber: options.frameNumber,
	});
	const frame = new Uint8Array(header.length + data.length);
	frame.set(header);
	frame.set(data, header.length);
	return { frame, stats };
}

/**
 * Encodes `image` as one frame file. VQ colours are always loaded into the
 * cache (U=1), so the frame decodes the same on a fresh or a used decoder.
 */
export function encodeAst2500Frame(image: RgbaPicture, options: Ast2500EncodeOptions = {}): Uint8Array {
	return encodeAst2500FrameWithStats(image, options).frame;
}

export function encodeAst2500FrameWithStats(
	image: RgbaPicture,
	options: Ast2500EncodeOptions = {},
): { frame: Uint8Array; stats: EncodedFrameStats } {
	return encodeInternal(image, options, { slots: [...VQ_DEFAULT_SLOTS], reuse: false, next: 0 });
}

export interface Ast2500StreamEncoderOptions extends Omit<Ast2500EncodeOptions, "previous" | "frameNumber"> {
	/**
	 * Reference colours the decoder already holds in its cache instead of resending them.
	 * Only valid when one decoder sees every frame of this encoder, in order. Default false.
	 */
	reuseVqCache?: boolean;
}

/**
 * A BMC-like stream: the first frame (and any frame after a resolution
 * change or `full: true`) is complete; later frames carry only the blocks
 * that changed. Meant for one decoder that receives every frame in order.
 */
export class Ast2500StreamEncoder {
	private previous: RgbaPicture | undefined;
	private frameNumber = 0;
	private readonly vqState: VqState;

	constructor(private readonly options: Ast2500StreamEncoderOptions = {}) {
		this.vqState = { slots: [...VQ_DEFAULT_SLOTS], reuse: options.reuseVqCache ?? false, next: 0 };
	}

	encode(image: RgbaPicture, request: { full?: boolean } = {}): Uint8Array {
		const previous = request.full ? undefined : this.previous;
		const { frame } = encodeInternal(
			image,
			{ ...this.options, previous, frameNumber: this.frameNumber++ },
			this.vqState,
		);
		this.previous = { width: image.width, height: image.height, rgba: image.rgba.slice() };
		return frame;
	}
}
