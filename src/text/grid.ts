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
	/** Positions (x, y interleaved) of strokes, evenly thinned: where the cells with content are. */
	points: Int32Array;
	/** Median size of the strokes' luma steps: how strongly this screen's text stands out. */
	stepMedian: number;
}

/** A luma step this large is a stroke edge (dark blue on black is a step of about 19). */
const STEP = 16;
const MAX_POINTS = 16384;

export function strokeProfiles(planes: Planes): Profiles {
	const { width, height, luma, runEnd } = planes;
	const rows = new Float64Array(height);
	const cols = new Float64Array(width);
	let points = new Int32Array(MAX_POINTS * 2);
	let kept = 0;
	let stride = 1;
	let seen = 0;
	const steps = new Uint32Array(256);
	for (let y = 0; y < height; y++) {
		const row = y * width;
		let count = 0;
		// Only the ends of runs of identical pixels can be steps: jump from one to the next.
		for (let x = 0; ; ) {
			// (A run end capped below x, on a frame wider than 65535, steps one pixel.)
			const end = runEnd[row + x] as number;
			const next = end > x ? end : x + 1;
			if (next >= width) break;
			const d = (luma[row + next] as number) - (luma[row + x] as number);
			x = next;
			if (d <= STEP && d >= -STEP) continue;
			steps[d < 0 ? -d : d] = (steps[d < 0 ? -d : d] as number) + 1;
			count++;
			cols[x] = (cols[x] as number) + 1;
			if (seen++ % stride !== 0) continue;
			if (kept === MAX_POINTS) {
				// Full: keep every other point and halve the rate from now on.
				for (let i = 0; i < MAX_POINTS / 2; i++) {
					points[i * 2] = points[i * 4] as number;
					points[i * 2 + 1] = points[i * 4 + 1] as number;
				}
				kept = MAX_POINTS / 2;
				stride *= 2;
			}
			points[kept * 2] = x;
			points[kept * 2 + 1] = y;
			kept++;
		}
		rows[y] = count;
	}
	points = points.slice(0, kept * 2);
	return { rows: clipSpikes(rows), cols: clipSpikes(cols), points, stepMedian: median(steps) };
}

function median(histogram: Uint32Array): number {
	let total = 0;
	for (const n of histogram) total += n;
	let seen = 0;
	for (let v = 0; v < histogram.length; v++) {
		seen += histogram[v] as number;
		if (seen * 2 >= total && total > 0) return v;
	}
	return 0;
}

/**
 * Long straight edges (a window border, the edge of a centred console) put a step in every pixel
 * row at one column; clipping the profile at its 90th percentile keeps them from outvoting the text.
 */
function clipSpikes(profile: Float64Array): Float64Array {
	// The values are counts: a counting sort finds the percentile without sorting the profile.
	let max = 0;
	let nonzero = 0;
	for (const v of profile) {
		if (v <= 0) continue;
		nonzero++;
		if (v > max) max = v;
	}
	if (nonzero === 0) return profile;
	const counts = new Uint32Array(max + 1);
	for (const v of profile) if (v > 0) counts[v] = (counts[v] as number) + 1;
	const rank = Math.floor(nonzero * 0.9);
	let cap = max;
	for (let v = 1, seen = 0; v <= max; v++) {
		seen += counts[v] as number;
		if (seen > rank) {
			cap = v;
			break;
		}
	}
	for (let i = 0; i < profile.length; i++) if ((profile[i] as number) > cap) profile[i] = cap;
	return profile;
}

/** Cells of `grid` that hold stroke points, spread over the screen, at most `limit`. */
export function inkedCells(grid: Grid, points: Int32Array, limit: number): Array<[number, number]> {
	const seen = new Set<number>();
	const cells: Array<[number, number]> = [];
	const n = points.length / 2;
	// Visit the points in a scattered order so the sample covers the whole screen.
	const step = n > 0 ? largestCoprimeStep(n) : 1;
	for (let k = 0, i = 0; k < n && cells.length < limit; k++, i = (i + step) % n) {
		const col = Math.floor(((points[i * 2] as number) - grid.offsetX) / grid.cellWidth);
		const row = Math.floor(((points[i * 2 + 1] as number) - grid.offsetY) / grid.cellHeight);
		if (col < 0 || row < 0 || col >= grid.cols || row >= grid.rows) continue;
		const key = row * grid.cols + col;
		if (seen.has(key)) continue;
		seen.add(key);
		cells.push([col, row]);
	}
	return cells;
}

function largestCoprimeStep(n: number): number {
	const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
	let step = Math.max(1, Math.floor(n * 0.618));
	while (gcd(step, n) !== 1) step++;
	return step;
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

/** The screen profile folded by the cell size: strokes per position within a cell. */
function fold(screen: Float64Array, period: number): Float64Array {
	const folded = new Float64Array(period);
	for (let i = 0; i < screen.length; i++) folded[i % period] = (folded[i % period] as number) + (screen[i] as number);
	return folded;
}

/** Shifts of the folded screen profile ranked by agreement with the font's profile, best first. */
function rankShifts(folded: Float64Array, reference: Float64Array): number[] {
	const period = folded.length;
	const scores: Array<[number, number]> = [];
	for (let s = 0; s < period; s++) {
		let score = 0;
		for (let r = 0; r < period; r++) score += (folded[(r + s) % period] as number) * (reference[r] as number);
		scores.push([s, score]);
	}
	// Ties go to the smaller shift (0 first): grids usually start at the screen's corner.
	return scores.sort((a, b) => b[1] - a[1] + (a[0] - b[0]) * 1e-9).map(([s]) => s);
}

export interface GridCandidate {
	grid: Grid;
	geometry: Geometry;
	/** 0 for the offsets the profiles agree on best; higher for the runner-up offsets. */
	rank: number;
}

/**
 * Candidate grids for a cell size. Each font's stroke profile ranks the offsets; the best offsets
 * (rank 0) come first, fonts that agree share a grid, and the runner-up offsets are kept for screens
 * with too little text for the profile to be sure (a login prompt, one line of colour).
 */
export function gridsFor(planes: Planes, profiles: Profiles, geometry: Geometry): GridCandidate[] {
	const { cellWidth, cellHeight } = geometry;
	const byOffset = new Map<string, GridCandidate>();
	// Folded once for all the fonts of this cell size.
	const rows = fold(profiles.rows, cellHeight);
	const cols = fold(profiles.cols, cellWidth);
	for (const font of geometry.fonts) {
		const reference = fontProfile(glyphSet(font), cellWidth);
		const ys = rankShifts(rows, reference.rows).slice(0, 2);
		const xs = rankShifts(cols, reference.cols).slice(0, 3);
		const combos: Array<[number, number, number]> = [];
		xs.forEach((x, i) => {
			ys.forEach((y, j) => {
				combos.push([x, y, i + j]);
			});
		});
		for (const [offsetX, offsetY, rank] of combos) {
			const key = `${offsetX},${offsetY}`;
			const found = byOffset.get(key);
			if (found) {
				if (!found.geometry.fonts.includes(font)) found.geometry.fonts.push(font);
				found.rank = Math.min(found.rank, rank);
				continue;
			}
			byOffset.set(key, {
				grid: {
					cellWidth,
					cellHeight,
					offsetX,
					offsetY,
					cols: Math.max(0, Math.floor((planes.width - offsetX) / cellWidth)),
					rows: Math.max(0, Math.floor((planes.height - offsetY) / cellHeight)),
				},
				geometry: { ...geometry, fonts: [font] },
				rank,
			});
		}
	}
	return [...byOffset.values()];
}
