/**
 * Reading one character cell: pick the channel that separates its two colours, split the pixels
 * at the threshold between the two colour clusters (so every cell is judged against its own
 * background and foreground, whatever its attribute), and pack the "bright" pixels as bits.
 */
import type { Frame } from "../frame.ts";
import { popcount } from "./glyphs.ts";

/**
 * Below this spread (0–255) in every channel a cell is one flat colour: a blank. This is the
 * ceiling; a screen whose text is fainter (a washed-out BMC capture) lowers it, see recognizeBitmap.
 */
export const MIN_CONTRAST = 40;
/** Never below this: noise of a few levels must not turn blanks into text. */
export const MIN_CONTRAST_FLOOR = 16;

/** A frame prepared once for many cell reads. */
export interface Planes {
	readonly width: number;
	readonly height: number;
	readonly rgba: Uint8Array;
	/** Rec. 601 luma, one byte per pixel. */
	readonly luma: Uint8Array;
	/** Most frequent luma: the screen's background, used to break polarity ties. */
	readonly backgroundLuma: number;
	/** Spread below which a cell is flat on this screen (MIN_CONTRAST unless the text is fainter). */
	minContrast: number;
	/**
	 * Per pixel: the x just past the run of equal luma it belongs to, in its row. One value per run, so a
	 * run is stored with fill(); a cell row is flat when its first pixel's run reaches the cell's end.
	 * Capped at 65535 (no console is that wide; past it, runs just look shorter).
	 */
	readonly runEnd: Uint16Array;
}

/** Runs at least this long are stored with fill() (a native call) rather than a loop. */
const FILL_RUN = 16;

export function preparePlanes(frame: Frame): Planes {
	const { width, height, rgba } = frame;
	const n = width * height;
	const luma = new Uint8Array(n);
	const histogram = new Uint32Array(256);
	// Identical pixels share one luma computation: compare whole pixels, as 32-bit words.
	const pixels = new Int32Array(rgba.buffer, rgba.byteOffset, n);
	// Runs of equal luma make a flat cell (most of a console) a check per row instead of per pixel, and
	// let the stroke profile jump from edge to edge. A cell of one luma in two colours reads as blank
	// either way (see readSplit), so luma runs lose nothing to pixel runs.
	const runEnd = new Uint16Array(n);
	for (let y = 0; y < height; y++) {
		const row = y * width;
		let runStart = 0;
		let runLuma = -1;
		for (let x = 0; x < width; ) {
			const c = pixels[row + x] as number;
			let end = x + 1;
			while (end < width && pixels[row + end] === c) end++;
			const v = lumaAt(rgba, row + x);
			if (v !== runLuma) {
				if (x > 0) storeRun(runEnd, row, runStart, x);
				runStart = x;
				runLuma = v;
			}
			if (end - x >= FILL_RUN) luma.fill(v, row + x, row + end);
			else for (let k = row + x; k < row + end; k++) luma[k] = v;
			histogram[v] = (histogram[v] as number) + (end - x);
			x = end;
		}
		storeRun(runEnd, row, runStart, width);
	}
	let backgroundLuma = 0;
	for (let v = 1; v < 256; v++)
		if ((histogram[v] as number) > (histogram[backgroundLuma] as number)) backgroundLuma = v;
	return { width, height, rgba, luma, backgroundLuma, runEnd, minContrast: MIN_CONTRAST };
}

function storeRun(runEnd: Uint16Array, row: number, start: number, end: number): void {
	const value = Math.min(end, 65535);
	if (end - start >= FILL_RUN) runEnd.fill(value, row + start, row + end);
	else for (let k = row + start; k < row + end; k++) runEnd[k] = value;
}

/** Rec. 601 luma of pixel `i`, in integer arithmetic. */
function lumaAt(rgba: Uint8Array, i: number): number {
	const p = i * 4;
	return ((rgba[p] as number) * 77 + (rgba[p + 1] as number) * 150 + (rgba[p + 2] as number) * 29) >> 8;
}

export interface CellRead {
	/** False for a flat cell (no second colour). */
	inked: boolean;
	/** Number of bright pixels packed. */
	brightInk: number;
	/** Pixels packed (bit width × height). */
	total: number;
	/** Fraction of pixels far from both colour clusters: high for anti-aliased or photographic content. */
	mixed: number;
	/** Whether the bright cluster is the screen background (then the dark pixels are the glyph). */
	brightIsBackground: boolean;
	/** Spread (0–255) of the channel the cell was split on. */
	contrast: number;
	/** Whether the cell was split on one RGB channel because its luma is flat (colour-only contrast). */
	chromaOnly: boolean;
	/** Mean luma of the darker and the brighter pixels (cells with content). */
	lowLuma: number;
	highLuma: number;
	/** Luma of a flat cell (NaN for cells with content). */
	flatLuma: number;
}

/**
 * Reads the cell at (x0, y0) of `cellWidth`×`cellHeight` pixels; packs its first `bitWidth` columns
 * into `out` (bright = 1). Pixels outside the frame count as the cell's background.
 */
export function readCell(
	planes: Planes,
	x0: number,
	y0: number,
	cellWidth: number,
	cellHeight: number,
	bitWidth: number,
	out: Uint32Array,
	into: CellRead = newCellRead(),
): CellRead {
	const { width, height, luma } = planes;
	const words = Math.ceil((bitWidth * cellHeight) / 32);
	// A loop, not fill(): a native call costs more than clearing the few words of one cell.
	for (let i = 0; i < words; i++) out[i] = 0;
	const x1 = Math.min(x0 + cellWidth, width);
	const y1 = Math.min(y0 + cellHeight, height);
	const total = bitWidth * cellHeight;
	if (x0 < 0 || y0 < 0 || x1 <= x0 || y1 <= y0) return blank(into, total, 0);

	const { runEnd } = planes;
	const first = luma[y0 * width + x0] as number;
	let flat = true;
	for (let y = y0; y < y1 && flat; y++) {
		const i = y * width + x0;
		flat = luma[i] === first && (runEnd[i] as number) >= x1;
	}
	if (flat) return blank(into, total, luma[y0 * width + x0] as number);
	// Clean captures (the common case) are done in one pass; the general split handles the rest.
	if (
		x1 - x0 === cellWidth &&
		y1 - y0 === cellHeight &&
		readTwoValued(planes, x0, y0, cellWidth, cellHeight, bitWidth, out, into)
	) {
		return into;
	}
	for (let i = 0; i < words; i++) out[i] = 0;
	return readSplit(planes, x0, y0, x1, y1, bitWidth, total, out, into);
}

/**
 * The luma of each flat cell (one luma throughout) in a row of `count` cells from (x0, y0), or -1 for a
 * cell with content (or not wholly inside the frame: readCell judges those). Same verdict as readCell's,
 * but the band's pixel rows are walked in memory order for all its cells at once: cell by cell, each
 * cell's rows are a stride apart and most of a blank screen's time went to waiting for them.
 */
export function flatCells(
	planes: Planes,
	x0: number,
	y0: number,
	cellWidth: number,
	cellHeight: number,
	count: number,
	out: Int16Array,
): void {
	const { width, height, luma, runEnd } = planes;
	const inside = x0 >= 0 && y0 >= 0 && y0 + cellHeight <= height;
	for (let c = 0; c < count; c++) {
		const x = x0 + c * cellWidth;
		out[c] = inside && x + cellWidth <= width ? (luma[y0 * width + x] as number) : -1;
	}
	for (let y = y0; y < y0 + cellHeight && inside; y++) {
		const row = y * width + x0;
		for (let c = 0; c < count; c++) {
			const v = out[c] as number;
			if (v < 0) continue;
			const i = row + c * cellWidth;
			if (luma[i] !== v || (runEnd[i] as number) < x0 + (c + 1) * cellWidth) out[c] = -1;
		}
	}
}

/**
 * A cell inside the frame that holds exactly two luma values, far enough apart: the pixels unlike the
 * first one are the ink of one colour. Gives what readSplit would (the threshold falls midway, no
 * pixel is near it, each cluster's mean is its one value) in one pass. False, with `out` dirty, for
 * any other cell.
 */
function readTwoValued(
	planes: Planes,
	x0: number,
	y0: number,
	cellWidth: number,
	cellHeight: number,
	bitWidth: number,
	out: Uint32Array,
	into: CellRead,
): boolean {
	const { width, luma } = planes;
	const a = luma[y0 * width + x0] as number;
	let b = -1;
	const rowMask = bitWidth >= 32 ? -1 : (1 << bitWidth) - 1;
	let unlikeA = 0;
	for (let dy = 0; dy < cellHeight; dy++) {
		const row = (y0 + dy) * width + x0;
		let rowBits = 0;
		for (let dx = 0; dx < cellWidth; dx++) {
			const v = luma[row + dx] as number;
			if (v !== a) {
				if (v !== b) {
					if (b >= 0) return false;
					b = v;
				}
				rowBits |= 1 << dx;
			}
		}
		rowBits &= rowMask;
		unlikeA += popcount(rowBits);
		orBits(out, dy * bitWidth, rowBits);
	}
	const min = Math.min(a, b);
	const max = Math.max(a, b);
	if (b < 0 || max - min < planes.minContrast) return false;
	const total = bitWidth * cellHeight;
	const aIsBright = a > b;
	if (aIsBright) invertBits(out, total, out);
	const brightInk = aIsBright ? total - unlikeA : unlikeA;
	inked(into, total, brightInk, 0, min, max, max - min, false, planes.backgroundLuma);
	return true;
}

/**
 * Splits a cell's pixels at the threshold between its two colour clusters, on luma or, for colour
 * pairs of equal brightness, on the RGB channel that separates them.
 */
function readSplit(
	planes: Planes,
	x0: number,
	y0: number,
	x1: number,
	y1: number,
	bitWidth: number,
	/** Bits of the whole cell (it may extend past the frame). */
	total: number,
	out: Uint32Array,
	into: CellRead,
): CellRead {
	const { width, luma, rgba } = planes;
	let min = 255;
	let max = 0;
	for (let y = y0; y < y1; y++) {
		const row = y * width;
		for (let x = x0; x < x1; x++) {
			const v = luma[row + x] as number;
			if (v < min) min = v;
			if (v > max) max = v;
		}
	}
	// Luma separates almost every console colour pair; fall back to the widest RGB channel
	// for pairs of equal brightness (dark blue on black, red on green).
	let src: Uint8Array = luma;
	let stride = 1;
	let channel = 0;
	// A cell of one luma is flat in every channel but for equal-luma colour pairs, which no console draws.
	if (max === min) return blank(into, total, min);
	const minContrast = planes.minContrast;
	if (max - min < minContrast) {
		const lumaMid = (min + max) / 2;
		let bestRange = 0;
		for (let c = 0; c < 3; c++) {
			let cMin = 255;
			let cMax = 0;
			for (let y = y0; y < y1; y++) {
				for (let x = x0; x < x1; x++) {
					const v = rgba[(y * width + x) * 4 + c] as number;
					if (v < cMin) cMin = v;
					if (v > cMax) cMax = v;
				}
			}
			if (cMax - cMin > bestRange) {
				bestRange = cMax - cMin;
				channel = c;
				min = cMin;
				max = cMax;
			}
		}
		if (bestRange < minContrast) return blank(into, total, lumaMid);
		src = rgba;
		stride = 4;
	}

	// Split at the midpoint. A clean two-colour cell has no pixel near it and is done in one pass;
	// a noisy one (JPEG, chroma subsampling) is split again at the midpoint of the two cluster means.
	const range = max - min;
	let t = min + range / 2;
	const ambiguous = range * 0.2;
	const pass = packPass(planes, src, stride, channel, x0, y0, x1, y1, bitWidth, t, ambiguous, out);
	const mixedBand = range * 0.3;
	let mixed = pass.near;
	if (pass.near > 0) {
		const lowMean = pass.n0 > 0 ? pass.s0 / pass.n0 : min;
		const highMean = pass.n1 > 0 ? pass.s1 / pass.n1 : max;
		t = (lowMean + highMean) / 2;
		for (let i = 0; i < total; i += 32) out[i >>> 5] = 0;
		packPass(planes, src, stride, channel, x0, y0, x1, y1, bitWidth, t, mixedBand, out);
		mixed = pass.near;
	}
	const lowLuma = pass.n0 > 0 ? pass.l0 / pass.n0 : min;
	const highLuma = pass.n1 > 0 ? pass.l1 / pass.n1 : max;
	const mixedFraction = mixed / ((x1 - x0) * (y1 - y0));
	return inked(into, total, pass.bright, mixedFraction, lowLuma, highLuma, range, src !== luma, planes.backgroundLuma);
}

function inked(
	into: CellRead,
	total: number,
	brightInk: number,
	mixed: number,
	lowLuma: number,
	highLuma: number,
	contrast: number,
	chromaOnly: boolean,
	backgroundLuma: number,
): CellRead {
	into.inked = true;
	into.brightInk = brightInk;
	into.total = total;
	into.mixed = mixed;
	into.brightIsBackground = Math.abs(highLuma - backgroundLuma) < Math.abs(lowLuma - backgroundLuma);
	into.contrast = contrast;
	into.chromaOnly = chromaOnly;
	into.lowLuma = lowLuma;
	into.highLuma = highLuma;
	into.flatLuma = Number.NaN;
	return into;
}

/** ORs one row of a cell (bit x = pixel x) into the packed bits at bit `offset` (a row may straddle two words). */
function orBits(out: Uint32Array, offset: number, rowBits: number): void {
	if (rowBits === 0) return;
	const w = offset >>> 5;
	const shift = offset & 31;
	out[w] = ((out[w] as number) | (rowBits << shift)) >>> 0;
	if (shift > 0 && rowBits >>> (32 - shift) !== 0)
		out[w + 1] = ((out[w + 1] as number) | (rowBits >>> (32 - shift))) >>> 0;
}

interface Pass {
	/** Sum and count of values (and of luma) below and above the threshold. */
	s0: number;
	n0: number;
	s1: number;
	n1: number;
	l0: number;
	l1: number;
	/** Bright pixels packed. */
	bright: number;
	/** Pixels within `band` of the threshold. */
	near: number;
}

function packPass(
	planes: Planes,
	src: Uint8Array,
	stride: number,
	channel: number,
	x0: number,
	y0: number,
	x1: number,
	y1: number,
	bitWidth: number,
	t: number,
	band: number,
	out: Uint32Array,
): Pass {
	const { width, luma } = planes;
	let s0 = 0;
	let n0 = 0;
	let s1 = 0;
	let n1 = 0;
	let l0 = 0;
	let l1 = 0;
	let bright = 0;
	let near = 0;
	const onLuma = src === luma;
	const rowMask = bitWidth >= 32 ? -1 : (1 << bitWidth) - 1;
	for (let y = y0; y < y1; y++) {
		const row = y * width;
		// The row's bright pixels gather in one word; columns past the bitmap (the 9th dot) are masked off.
		let rowBits = 0;
		for (let x = x0; x < x1; x++) {
			const p = row + x;
			const v = onLuma ? (luma[p] as number) : (src[p * stride + channel] as number);
			const d = v - t;
			if (d < band && d > -band) near++;
			if (d > 0) {
				s1 += v;
				n1++;
				if (!onLuma) l1 += luma[p] as number;
				rowBits |= 1 << (x - x0);
			} else {
				s0 += v;
				n0++;
				if (!onLuma) l0 += luma[p] as number;
			}
		}
		rowBits &= rowMask;
		bright += popcount(rowBits);
		orBits(out, (y - y0) * bitWidth, rowBits);
	}
	if (onLuma) {
		l0 = s0;
		l1 = s1;
	}
	PASS.s0 = s0;
	PASS.n0 = n0;
	PASS.s1 = s1;
	PASS.n1 = n1;
	PASS.l0 = l0;
	PASS.l1 = l1;
	PASS.bright = bright;
	PASS.near = near;
	return PASS;
}

/** One pass's sums, reused (cells are read one at a time): no allocation per cell. */
const PASS: Pass = { s0: 0, n0: 0, s1: 0, n1: 0, l0: 0, l1: 0, bright: 0, near: 0 };

/** A CellRead to fill; a caller reading many cells reuses one (readCell overwrites every field). */
export function newCellRead(): CellRead {
	return {
		inked: false,
		brightInk: 0,
		total: 0,
		mixed: 0,
		brightIsBackground: false,
		contrast: 0,
		chromaOnly: false,
		lowLuma: 0,
		highLuma: 0,
		flatLuma: 0,
	};
}

function blank(into: CellRead, total: number, flatLuma: number): CellRead {
	into.inked = false;
	into.brightInk = 0;
	into.total = total;
	into.mixed = 0;
	into.brightIsBackground = false;
	into.contrast = 0;
	into.chromaOnly = false;
	into.lowLuma = flatLuma;
	into.highLuma = flatLuma;
	into.flatLuma = flatLuma;
	return into;
}

/** Writes the complement of `bits` (within `total` bits) into `out`. */
export function invertBits(bits: Uint32Array, total: number, out: Uint32Array): void {
	const words = Math.ceil(total / 32);
	for (let i = 0; i < words; i++) out[i] = ~(bits[i] as number) >>> 0;
	const rest = total & 31;
	if (rest) out[words - 1] = ((out[words - 1] as number) & ((1 << rest) - 1)) >>> 0;
}
