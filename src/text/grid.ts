/**
 * Where the character cells are. Every console font gives a cell size (8-wide fonts also a 9-dot
 * VGA text-mode variant); the grid's offset comes from folding the screen's stroke profile by the
 * cell size and lining it up with the font's own profile. Which size and font actually draw the
 * screen is then decided by how well sample cells match (see bitmap.ts).
 */
import type { Planes } from "./cells.ts";
import type { FontTable } from "./fonts/types.ts";
import { type GlyphSet, glyphSet } from "./glyphs.ts";

export interface Grid {
	cols: number;
	rows: number;
	cellWidth: number;
	cellHeight: number;
	offsetX: number;
	offsetY: number;
}

/** A cell size and the fonts that draw cells of that size. */
export interface Geometry {
	cellWidth: number;
	cellHeight: number;
	/** Width of the glyph bitmaps (8 in a 9-dot cell: the 9th column carries no information). */
	bitWidth: number;
	fonts: FontTable[];
}

/** VGA text mode stretches 8-wide fonts of these heights to 9-dot cells. */
const NINE_DOT_HEIGHTS = new Set([8, 14, 16]);

export function geometries(fonts: readonly FontTable[]): Geometry[] {
	const byKey = new Map<string, Geometry>();
	const add = (cellWidth: number, font: FontTable) => {
		const key = `${cellWidth}x${font.height}`;
		let g = byKey.get(key);
		if (!g) {
			g = { cellWidth, cellHeight: font.height, bitWidth: font.width, fonts: [] };
			byKey.set(key, g);
		}
		g.fonts.push(font);
	};
	for (const font of fonts) {
		add(font.width, font);
		if (font.width === 8 && NINE_DOT_HEIGHTS.has(font.height)) add(9, font);
	}
	return [...byKey.values()];
}

/** Strokes per pixel row and per pixel column: horizontal luma steps, the signature of glyphs. */
export interface Profiles {
	rows: Float64Array;
	cols: Float64Array;
}

const STEP = 40;

export function strokeProfiles(planes: Planes): Profiles {
	const { width, height, luma } = planes;
	const rows = new Float64Array(height);
	const cols = new Float64Array(width);
	for (let y = 0; y < height; y++) {
		const row = y * width;
		let count = 0;
		let prev = luma[row] as number;
		for (let x = 1; x < width; x++) {
			const v = luma[row + x] as number;
			const d = v - prev;
			if (d > STEP || d < -STEP) {
				count++;
				cols[x] = (cols[x] as number) + 1;
			}
			prev = v;
		}
		rows[y] = count;
	}
	return { rows, cols };
}

const fontProfiles = new Map<string, { rows: Float64Array; cols: Float64Array }>();

/** The same profile for a font: strokes per glyph row and column over the printable ASCII glyphs. */
function fontProfile(set: GlyphSet, cellWidth: number): { rows: Float64Array; cols: Float64Array } {
	const key = `${set.font.id}/${cellWidth}`;
	const cached = fontProfiles.get(key);
	if (cached) return cached;
	const { width, height, words, bits } = set;
	const rows = new Float64Array(height);
	const cols = new Float64Array(cellWidth);
	const bit = (g: number, x: number, y: number) => {
		if (x < 0 || x >= width) return 0;
		const i = y * width + x;
		return ((bits[g * words + (i >>> 5)] as number) >>> (i & 31)) & 1;
	};
	for (let g = 0; g < set.count; g++) {
		const cp = set.chars[g]?.codePointAt(0) ?? 0;
		if (cp <= 0x20 || cp > 0x7e) continue;
		for (let y = 0; y < height; y++) {
			for (let x = 0; x < cellWidth; x++) {
				if (bit(g, x, y) !== bit(g, x - 1, y)) {
					rows[y] = (rows[y] as number) + 1;
					cols[x] = (cols[x] as number) + 1;
				}
			}
		}
	}
	const profile = { rows, cols };
	fontProfiles.set(key, profile);
	return profile;
}

function bestShift(screen: Float64Array, period: number, reference: Float64Array): number {
	const folded = new Float64Array(period);
	for (let i = 0; i < screen.length; i++) folded[i % period] = (folded[i % period] as number) + (screen[i] as number);
	let best = 0;
	let bestScore = Number.NEGATIVE_INFINITY;
	for (let s = 0; s < period; s++) {
		let score = 0;
		for (let r = 0; r < period; r++) score += (folded[(r + s) % period] as number) * (reference[r] as number);
		if (score > bestScore + 1e-9) {
			bestScore = score;
			best = s;
		}
	}
	return best;
}

/** The grid offset for a cell size, from the first font of that size. */
export function gridFor(planes: Planes, profiles: Profiles, geometry: Geometry): Grid {
	const { cellWidth, cellHeight } = geometry;
	const reference = fontProfile(glyphSet(geometry.fonts[0] as FontTable), cellWidth);
	const offsetY = bestShift(profiles.rows, cellHeight, reference.rows);
	const offsetX = bestShift(profiles.cols, cellWidth, reference.cols);
	return {
		cellWidth,
		cellHeight,
		offsetX,
		offsetY,
		cols: Math.max(0, Math.floor((planes.width - offsetX) / cellWidth)),
		rows: Math.max(0, Math.floor((planes.height - offsetY) / cellHeight)),
	};
}
