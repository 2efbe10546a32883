/**
 * Glyph sets ready for matching: each glyph packed as a bit string (row-major, bit i = pixel
 * (i % width, i / width)) in 32-bit words, an exact-match hash, and glyphs ordered by ink so the
 * nearest-glyph search can stop early (the Hamming distance is at least the difference in ink).
 */
import type { FontTable } from "./fonts/types.ts";

export interface GlyphSet {
	readonly font: FontTable;
	/** Width and height of the packed bitmaps (the font's own size). */
	readonly width: number;
	readonly height: number;
	readonly words: number;
	readonly count: number;
	readonly bits: Uint32Array;
	readonly ink: Uint16Array;
	readonly chars: readonly string[];
	/** Glyph indices sorted by ink, and the ink of each position. */
	readonly byInk: Int32Array;
	readonly inkSorted: Uint16Array;
	readonly exact: Map<number, number>;
	/** Index of the blank glyph (space). */
	readonly space: number;
	/** One word per glyph row (bit x = pixel x), and the same rows widened by one pixel each side. */
	readonly rows: Uint32Array;
	readonly widened: Uint32Array;
	/**
	 * Added to a glyph's shape distance when nothing matches exactly: consoles mostly show ASCII, so
	 * between an "8" and a "Θ" blurred alike, the "8" is likelier (0 ASCII, 1 Latin-1, 2 the rest).
	 */
	readonly prior: Uint8Array;
}

export interface Match {
	glyph: number;
	distance: number;
	/** Distance of the runner-up (a different character); large when the match is unambiguous. */
	second: number;
}

export function popcount(x: number): number {
	let v = x - ((x >>> 1) & 0x55555555);
	v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
	v = (v + (v >>> 4)) & 0x0f0f0f0f;
	return Math.imul(v, 0x01010101) >>> 24;
}

export function hashBits(bits: Uint32Array, offset: number, words: number, seed = 0x811c9dc5): number {
	let h = seed;
	for (let i = 0; i < words; i++) {
		h = Math.imul(h ^ (bits[offset + i] as number), 0x01000193);
		h ^= h >>> 15;
	}
	return h >>> 0;
}

const cache = new Map<FontTable, GlyphSet>();

export function glyphSet(font: FontTable): GlyphSet {
	const cached = cache.get(font);
	if (cached) return cached;
	const { width, height } = font;
	const words = Math.ceil((width * height) / 32);
	const chars = [...font.chars];
	const count = chars.length;
	const raw = Buffer.from(font.glyphs, "base64");
	const bytesPerRow = Math.ceil(width / 8);
	const bits = new Uint32Array(count * words);
	const ink = new Uint16Array(count);
	for (let g = 0; g < count; g++) {
		let n = 0;
		for (let y = 0; y < height; y++) {
			for (let x = 0; x < width; x++) {
				const byte = raw[(g * height + y) * bytesPerRow + (x >> 3)] as number;
				if (byte & (0x80 >> (x & 7))) {
					const i = y * width + x;
					bits[g * words + (i >>> 5)] = ((bits[g * words + (i >>> 5)] as number) | (1 << (i & 31))) >>> 0;
					n++;
				}
			}
		}
		ink[g] = n;
	}
	const byInk = Int32Array.from({ length: count }, (_, i) => i).sort((a, b) => (ink[a] as number) - (ink[b] as number));
	const inkSorted = Uint16Array.from(byInk, (g) => ink[g] as number);
	const rows = new Uint32Array(count * height);
	for (let g = 0; g < count; g++) {
		for (let i = 0; i < width * height; i++) {
			if (((bits[g * words + (i >>> 5)] as number) >>> (i & 31)) & 1) {
				const r = g * height + Math.floor(i / width);
				rows[r] = ((rows[r] as number) | (1 << (i % width))) >>> 0;
			}
		}
	}
	const widened = widen(rows, width);
	const exact = new Map<number, number>();
	for (let g = count - 1; g >= 0; g--) exact.set(hashBits(bits, g * words, words), g);
	const set: GlyphSet = {
		font,
		width,
		height,
		words,
		count,
		bits,
		ink,
		chars,
		byInk,
		inkSorted,
		exact,
		space: Math.max(0, chars.indexOf(" ")),
		rows,
		widened,
		prior: Uint8Array.from(chars, (c) => {
			const cp = c.codePointAt(0) ?? 0;
			return cp < 0x7f ? 0 : cp <= 0xff ? 1 : 2;
		}),
	};
	cache.set(font, set);
	return set;
}

/** The glyph whose bitmap equals `cell` (`words` words at `offset`), or -1. */
export function exactMatch(set: GlyphSet, cell: Uint32Array, offset = 0): number {
	return exactMatchHashed(set, cell, hashBits(cell, offset, set.words), offset);
}

/** exactMatch with the cell's hash (hashBits over `set.words` words) already known. */
export function exactMatchHashed(set: GlyphSet, cell: Uint32Array, hash: number, offset = 0): number {
	const g = set.exact.get(hash);
	if (g === undefined) return -1;
	for (let i = 0; i < set.words; i++) if (set.bits[g * set.words + i] !== cell[offset + i]) return -1;
	return g;
}

function distance(set: GlyphSet, g: number, cell: Uint32Array, offset: number, limit: number): number {
	const { words, bits } = set;
	const base = g * words;
	let d = 0;
	for (let i = 0; i < words && d < limit; i++)
		d += popcount(((bits[base + i] as number) ^ (cell[offset + i] as number)) >>> 0);
	return d;
}

/**
 * Hamming distance to the nearest glyph, or `cap` when none is nearer. Glyphs are visited in order of
 * ink from the cell's outwards; the walk stops once the ink difference alone (a lower bound of the
 * distance) reaches the best distance so far.
 */
export function nearestDistance(set: GlyphSet, cell: Uint32Array, cellInk: number, cap: number): number {
	const { inkSorted, byInk, count } = set;
	let best = cap;
	let hi = lowerBound(inkSorted, cellInk);
	let lo = hi - 1;
	while (lo >= 0 || hi < count) {
		const dLo = lo >= 0 ? cellInk - (inkSorted[lo] as number) : Number.MAX_SAFE_INTEGER;
		const dHi = hi < count ? (inkSorted[hi] as number) - cellInk : Number.MAX_SAFE_INTEGER;
		if (Math.min(dLo, dHi) >= best) break;
		const g = dLo <= dHi ? (byInk[lo--] as number) : (byInk[hi++] as number);
		const d = distance(set, g, cell, 0, best);
		if (d < best) best = d;
	}
	return best;
}

/** Each row OR its neighbours one pixel left and right (within `width`). */
export function widen(rows: Uint32Array, width: number, out = new Uint32Array(rows.length)): Uint32Array {
	const mask = width >= 32 ? 0xffffffff : (1 << width) - 1;
	for (let i = 0; i < rows.length; i++) {
		const r = rows[i] as number;
		out[i] = ((r | (r << 1) | (r >>> 1)) & mask) >>> 0;
	}
	return out;
}

/**
 * Candidates for a cell no glyph matches exactly: the `limit` nearest by Hamming distance, found
 * in order of ink so the walk stops once the ink difference alone exceeds the worst kept distance.
 */
export function nearestCandidates(
	set: GlyphSet,
	cell: Uint32Array,
	cellInk: number,
	limit: number,
	out: { glyph: Int32Array; distance: Int32Array },
): number {
	const { inkSorted, byInk, count } = set;
	let kept = 0;
	let worst = Number.MAX_SAFE_INTEGER;
	let hi = lowerBound(inkSorted, cellInk);
	let lo = hi - 1;
	while (lo >= 0 || hi < count) {
		const dLo = lo >= 0 ? cellInk - (inkSorted[lo] as number) : Number.MAX_SAFE_INTEGER;
		const dHi = hi < count ? (inkSorted[hi] as number) - cellInk : Number.MAX_SAFE_INTEGER;
		if (kept === limit && Math.min(dLo, dHi) >= worst) break;
		const g = dLo <= dHi ? (byInk[lo--] as number) : (byInk[hi++] as number);
		const d = distance(set, g, cell, 0, kept === limit ? worst : Number.MAX_SAFE_INTEGER);
		if (kept === limit && d >= worst) continue;
		// Insertion into the small sorted list.
		let i = kept < limit ? kept++ : limit - 1;
		while (i > 0 && (out.distance[i - 1] as number) > d) {
			out.distance[i] = out.distance[i - 1] as number;
			out.glyph[i] = out.glyph[i - 1] as number;
			i--;
		}
		out.distance[i] = d;
		out.glyph[i] = g;
		if (kept === limit) worst = out.distance[limit - 1] as number;
	}
	return kept;
}

/**
 * Shape distance that forgives one-pixel displacements: a differing pixel with a same-valued pixel
 * next to it in the other bitmap counts 1, any other differing pixel 4. Fonts of one family differ
 * like this (a glyph one column wider, a serif moved), and so do edges blurred by compression.
 */
export function shapeDistance(set: GlyphSet, g: number, cellRows: Uint32Array, cellWidened: Uint32Array): number {
	const { height, rows, widened } = set;
	const base = g * height;
	let near = 0;
	let far = 0;
	for (let y = 0; y < height; y++) {
		const a = cellRows[y] as number;
		const b = rows[base + y] as number;
		const diff = (a ^ b) >>> 0;
		if (diff === 0) continue;
		const farBits = ((a & ~(widened[base + y] as number)) | (b & ~(cellWidened[y] as number))) >>> 0;
		const f = popcount(farBits);
		far += f;
		near += popcount(diff) - f;
	}
	return far * 4 + near;
}

function lowerBound(sorted: Uint16Array, value: number): number {
	let lo = 0;
	let hi = sorted.length;
	while (lo < hi) {
		const mid = (lo + hi) >>> 1;
		if ((sorted[mid] as number) < value) lo = mid + 1;
		else hi = mid;
	}
	return lo;
}
