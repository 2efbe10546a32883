/**
 * Method 1: exact reading of text-mode and framebuffer consoles. Finds the cell grid and the font
 * that draw the screen, then names every cell: by its exact glyph when the binarised cell equals
 * one, else by the nearest glyphs (Hamming distance) re-ranked by a shape distance that forgives
 * one-pixel differences between fonts of one family, with the margin to the runner-up as the
 * cell's confidence.
 */
import type { Frame, Region } from "../frame.ts";
import {
	type CellRead,
	flatCells,
	invertBits,
	MIN_CONTRAST,
	MIN_CONTRAST_FLOOR,
	newCellRead,
	type Planes,
	preparePlanes,
	readCell,
} from "./cells.ts";
import { FONTS } from "./fonts/index.ts";
import type { FontTable } from "./fonts/types.ts";
import {
	exactMatch,
	exactMatchHashed,
	type GlyphSet,
	glyphSet,
	hashBits,
	type Match,
	nearestCandidates,
	nearestDistance,
	popcount,
	shapeDistance,
	widen,
} from "./glyphs.ts";
import { type Geometry, type Grid, geometries, gridsFor, inkedCells, type Profiles, strokeProfiles } from "./grid.ts";

export type { Grid } from "./grid.ts";

export interface BitmapText {
	/** One string per cell row (trailing blanks trimmed; trailing empty rows dropped). */
	lines: string[];
	/** 0–1: how unambiguously the cells matched glyphs. */
	confidence: number;
	/** Font id (e.g. "vga16"); absent on a blank screen. */
	font?: string;
	grid: Grid;
	/** Cells with content (not flat colour). */
	inkedCells: number;
}

export interface BitmapOptions {
	fonts?: readonly FontTable[];
	/** Only cells whose centre lies in this rectangle are returned (the grid is found on the whole frame). */
	region?: Region;
	/**
	 * When the best grid and font read the sampled cells worse than this (0–1), stop there: no lines,
	 * the sample's score as confidence. Saves reading a whole graphical screen that OCR will read.
	 */
	giveUpBelow?: number;
}

/** Cells sampled to choose the grid and font. */
const SAMPLE_CELLS = 96;
/** A grid whose sample reads this well is the right one (another font's shapes still read ~0.85). */
const LIKELY = 0.75;

interface CellMatch {
	glyph: number;
	score: number;
	/** Whether the glyph is drawn in the cell's brighter colour. */
	bright: boolean;
}

/** Reusable buffers for one recognition (cells up to 16x32). */
class Scratch {
	readonly bits = new Uint32Array(16);
	readonly inverse = new Uint32Array(16);
	readonly otherInverse = new Uint32Array(16);
	readonly mask = new Uint32Array(16);
	readonly rows = new Uint32Array(32);
	readonly shiftedRows = new Uint32Array(32);
	readonly shiftedBits = new Uint32Array(16);
	readonly widenedRows = new Uint32Array(32);
	readonly candidates = { glyph: new Int32Array(CANDIDATES), distance: new Int32Array(CANDIDATES) };
	readonly memo: Memo = new Map();
	/** The cell being read (one at a time). */
	readonly read: CellRead = newCellRead();
}

export function recognizeBitmap(frame: Frame, options: BitmapOptions = {}): BitmapText {
	const planes = preparePlanes(frame);
	const profiles = strokeProfiles(planes);
	// Faint text (a washed-out capture) has strokes of small steps: blanks are then what is flatter still.
	planes.minContrast = Math.max(MIN_CONTRAST_FLOOR, Math.min(MIN_CONTRAST, Math.round(profiles.stepMedian * 0.5)));
	const fonts = options.fonts ?? FONTS;
	const scratch = new Scratch();
	const choice = chooseGridAndFont(planes, profiles, geometries(fonts), scratch);
	if (options.giveUpBelow !== undefined && choice.samples > 0 && choice.score < options.giveUpBelow) {
		return { lines: [], confidence: choice.score, font: choice.font.id, grid: choice.grid, inkedCells: choice.samples };
	}
	return readScreen(planes, choice, options.region, scratch);
}

interface Choice {
	grid: Grid;
	geometry: Geometry;
	font: FontTable;
	score: number;
	samples: number;
	/** Median contrast of the sampled cells with content. */
	contrast: number;
}

function chooseGridAndFont(planes: Planes, profiles: Profiles, candidates: Geometry[], scratch: Scratch): Choice {
	const all = candidates.flatMap((geometry, order) =>
		gridsFor(planes, profiles, geometry).map((candidate) => ({ ...candidate, order })),
	);
	// Screens whose size is a whole number of cells (80x25 of 9x16 = 720x400, 128x48 of 8x16 = 1024x768)
	// first, then the more common fonts.
	const fit = (g: Grid) =>
		(planes.width - g.offsetX - g.cols * g.cellWidth) / g.cellWidth +
		(planes.height - g.offsetY - g.rows * g.cellHeight) / g.cellHeight;
	const usable = all
		.filter(({ grid }) => grid.cols >= 2 && grid.rows >= 1)
		.sort((a, b) => a.rank - b.rank || fit(a.grid) - fit(b.grid) || a.order - b.order);

	// Quick pass: exact glyphs and Hamming distance on sampled cells with content. The profiles' best
	// offsets are tried first; the runner-up offsets only when nothing reads well.
	const scored: Array<Choice & { cells: Array<[number, number]> }> = [];
	let bestQuick = 0;
	const evaluate = (geometry: Geometry, grid: Grid): number => {
		const cells = inkedCells(grid, profiles.points, SAMPLE_CELLS);
		if (cells.length === 0) return 0;
		const sets = geometry.fonts.map(glyphSet);
		const totals = new Float64Array(sets.length);
		const contrasts: number[] = [];
		let samples = 0;
		for (const [col, row] of cells) {
			const read = readAt(planes, grid, geometry, col, row, scratch);
			if (!read.inked) continue;
			samples++;
			contrasts.push(read.contrast);
			// The cell, its inverse and their hashes serve every font of this cell size.
			const first = sets[0] as GlyphSet;
			const total = first.width * first.height;
			invertBits(scratch.bits, total, scratch.inverse);
			const hashes = {
				total,
				bits: hashBits(scratch.bits, 0, first.words),
				inverse: hashBits(scratch.inverse, 0, first.words),
			};
			let top = 0;
			for (let i = 0; i < sets.length; i++) {
				totals[i] = (totals[i] as number) + quickScore(sets[i] as GlyphSet, read, hashes, scratch);
				top = Math.max(top, totals[i] as number);
			}
			// A grid that reads as noise after a dozen cells will not win.
			if (samples === 12 && top / samples < Math.max(0.3, bestQuick * 0.6)) break;
		}
		if (samples === 0) return 0;
		contrasts.sort((a, b) => a - b);
		const contrast = contrasts[contrasts.length >> 1] ?? 0;
		let top = 0;
		for (let i = 0; i < sets.length; i++) {
			const score = (totals[i] as number) / samples;
			top = Math.max(top, score);
			scored.push({ grid, geometry, font: geometry.fonts[i] as FontTable, score, samples, contrast, cells });
		}
		bestQuick = Math.max(bestQuick, top);
		return top;
	};
	for (const { geometry, grid, rank } of usable) {
		// A right grid reads well even with another font's glyph shapes; a wrong offset reads as noise.
		if (rank > 0 && bestQuick >= 0.5) break;
		if (evaluate(geometry, grid) >= LIKELY) {
			// This grid is right. Its other fonts (whose profiles suggested other offsets) compete on it too.
			const tried = new Set(scored.filter((c) => c.grid === grid).map((c) => c.font));
			const rivals = candidates
				.filter((g) => g.cellWidth === geometry.cellWidth && g.cellHeight === geometry.cellHeight)
				.flatMap((g) => g.fonts)
				.filter((f) => !tried.has(f));
			if (rivals.length > 0) evaluate({ ...geometry, fonts: rivals }, grid);
			break;
		}
	}
	// Full pass on the front runners: the matcher's own confidence decides.
	scored.sort((a, b) => b.score - a.score);
	let best: Choice | undefined;
	for (const candidate of scored.slice(0, 3)) {
		// Only close contenders: a grid far behind on the quick score is not worth the full matcher.
		if (candidate.score < bestQuick - 0.15) break;
		const set = glyphSet(candidate.font);
		let total = 0;
		let samples = 0;
		for (const [col, row] of candidate.cells) {
			const read = readAt(planes, candidate.grid, candidate.geometry, col, row, scratch);
			if (!read.inked) continue;
			samples++;
			total += matchCell(set, read, scratch, scratch.memo).score;
			// Graphics, not text: a few dozen cells tell.
			if (samples === 24 && total / samples < 0.3) break;
		}
		const score = samples > 0 ? total / samples : 0;
		if (!best || score > best.score + 1e-9) best = { ...candidate, score };
	}
	if (best) return best;
	// Nothing fits (a frame smaller than a few cells): read it as VGA 8x16 at the origin.
	const fallback = geometries([FONTS[0] as FontTable])[0] as Geometry;
	return {
		grid: { cellWidth: 8, cellHeight: 16, offsetX: 0, offsetY: 0, cols: 0, rows: 0 },
		geometry: fallback,
		font: FONTS[0] as FontTable,
		score: 0,
		samples: 0,
		contrast: 0,
	};
}

function readAt(planes: Planes, grid: Grid, geometry: Geometry, col: number, row: number, scratch: Scratch): CellRead {
	return readCell(
		planes,
		grid.offsetX + col * grid.cellWidth,
		grid.offsetY + row * grid.cellHeight,
		grid.cellWidth,
		grid.cellHeight,
		geometry.bitWidth,
		scratch.bits,
		scratch.read,
	);
}

function readScreen(planes: Planes, choice: Choice, region: Region | undefined, scratch: Scratch): BitmapText {
	const { grid, geometry, font } = choice;
	const set = glyphSet(font);
	// Compression rings into blank cells next to text. A cell much fainter than the screen's text is
	// read as text only when it clearly is a glyph.
	const faint = choice.contrast * 0.5;
	// Chroma noise (4:2:0 subsampling next to coloured text) makes a cell of flat luma vary in one colour
	// channel, without two clear colours: not a glyph unless it matches one well.
	const inRange = (start: number, size: number, from: number, length: number) => {
		const centre = start + size / 2;
		return centre >= from && centre < from + length;
	};
	const lines: string[] = [];
	let inked = 0;
	let scoreSum = 0;
	const block = set.chars.indexOf("█");
	const flatLumas = new Int16Array(grid.cols);
	for (let row = 0; row < grid.rows; row++) {
		if (region && !inRange(grid.offsetY + row * grid.cellHeight, grid.cellHeight, region.y, region.height)) continue;
		// Most cells of a console are blank: find them for the whole row of cells first.
		flatCells(
			planes,
			grid.offsetX,
			grid.offsetY + row * grid.cellHeight,
			grid.cellWidth,
			grid.cellHeight,
			grid.cols,
			flatLumas,
		);
		const chars: string[] = [];
		/** Luma of each flat cell (NaN for cells with content). */
		const flat: number[] = [];
		const glyphLuma: number[] = [];
		const backgroundLuma: number[] = [];
		for (let col = 0; col < grid.cols; col++) {
			if (region && !inRange(grid.offsetX + col * grid.cellWidth, grid.cellWidth, region.x, region.width)) continue;
			const flatLuma = flatLumas[col] as number;
			if (flatLuma >= 0) {
				chars.push(" ");
				flat.push(flatLuma);
				continue;
			}
			const read = readAt(planes, grid, geometry, col, row, scratch);
			if (!read.inked) {
				chars.push(" ");
				flat.push(read.flatLuma);
				continue;
			}
			const match = matchCell(set, read, scratch, scratch.memo);
			// Noise rather than a glyph: faint, or no two clear colours (chroma noise in a flat cell).
			const noise = (read.contrast < faint || (read.chromaOnly && read.mixed > 0.5)) && match.score < 0.9;
			if (noise || match.glyph === set.space) {
				chars.push(" ");
				flat.push(Number.NaN);
				continue;
			}
			inked++;
			scoreSum += match.score;
			chars.push(set.chars[match.glyph] ?? " ");
			flat.push(Number.NaN);
			glyphLuma.push(match.bright ? read.highLuma : read.lowLuma);
			backgroundLuma.push(match.bright ? read.lowLuma : read.highLuma);
		}
		if (block >= 0) fullBlocks(chars, flat, glyphLuma, backgroundLuma, planes.backgroundLuma);
		lines.push(chars.join("").trimEnd());
	}
	while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
	return {
		lines,
		confidence: inked === 0 ? 1 : scoreSum / inked,
		font: inked === 0 ? undefined : font.id,
		grid,
		inkedCells: inked,
	};
}

/**
 * A flat cell is a blank in its background colour, or a full block (█) in its glyph colour. It is a
 * block when its colour is not the screen's background, is the glyph colour of most text cells of
 * its row, and is no cell's background there (progress bars, "█" in a charset); otherwise a blank
 * (window backgrounds, highlight bars).
 */
function fullBlocks(
	chars: string[],
	flat: number[],
	glyphLuma: number[],
	backgroundLuma: number[],
	screenBackground: number,
): void {
	if (glyphLuma.length === 0) return;
	const near = (a: number, b: number) => Math.abs(a - b) <= 12;
	for (let i = 0; i < chars.length; i++) {
		const f = flat[i] as number;
		if (Number.isNaN(f) || near(f, screenBackground)) continue;
		if (i > 0 && chars[i - 1] === "█" && flat[i - 1] === f) {
			chars[i] = "█";
			continue;
		}
		let glyphs = 0;
		for (const g of glyphLuma) if (near(g, f)) glyphs++;
		if (glyphs * 2 < glyphLuma.length) continue;
		if (!backgroundLuma.some((b) => near(b, f))) chars[i] = "█";
	}
}

/**
 * A cheap score for choosing the grid and font: 1 for an exact glyph, falling with the Hamming
 * distance to the nearest glyph, 0 from a tenth of the cell on. `scratch.inverse` holds the inverse
 * of the cell's first `hashes.total` bits, `hashes` the hashes of both.
 */
function quickScore(
	set: GlyphSet,
	read: CellRead,
	hashes: { total: number; bits: number; inverse: number },
	scratch: Scratch,
): number {
	const { bits } = scratch;
	const total = set.width * set.height;
	let inverse = scratch.inverse;
	if (total === hashes.total) {
		if (exactMatchHashed(set, bits, hashes.bits) >= 0) return 1;
		if (exactMatchHashed(set, inverse, hashes.inverse) >= 0) return 1;
	} else {
		// A font of another size than the first of its cell size (none ships): on its own inverse.
		inverse = scratch.otherInverse;
		if (exactMatch(set, bits) >= 0) return 1;
		invertBits(bits, total, inverse);
		if (exactMatch(set, inverse) >= 0) return 1;
	}
	const cap = total / 10;
	const cell = read.brightIsBackground ? inverse : bits;
	const ink = read.brightIsBackground ? total - read.brightInk : read.brightInk;
	return Math.max(0, 1 - nearestDistance(set, cell, ink, cap) / cap);
}

/** Matches memoised per font and per distinct cell bitmap: screens repeat characters. */
type Memo = Map<GlyphSet, Map<number, CellMatch>>;

/**
 * Names one read cell. Either colour may be the glyph's (inverse video, highlighted menu items), so
 * both polarities are tried; the background's polarity wins ties (▀ vs ▄).
 */
function matchCell(set: GlyphSet, read: CellRead, scratch: Scratch, memo: Memo): CellMatch {
	if (!read.inked) return { glyph: set.space, score: 1, bright: true };
	const words = set.words;
	const h1 = hashBits(scratch.bits, 0, words);
	const h2 = hashBits(scratch.bits, 0, words, 0x3b9aca07);
	const key = ((h1 * 0x100000 + (h2 & 0xfffff)) * 2 + (read.brightIsBackground ? 1 : 0)) as number;
	let cache = memo.get(set);
	if (!cache) {
		cache = new Map();
		memo.set(set, cache);
	}
	const known = cache.get(key);
	if (known) return known;
	const match = matchUncached(set, read, scratch);
	cache.set(key, match);
	return match;
}

function matchUncached(set: GlyphSet, read: CellRead, scratch: Scratch): CellMatch {
	const { bits, inverse } = scratch;
	const total = set.width * set.height;
	invertBits(bits, total, inverse);
	const darkGlyph = read.brightIsBackground;
	const preferred = darkGlyph ? inverse : bits;
	const other = darkGlyph ? bits : inverse;
	const preferredInk = darkGlyph ? total - read.brightInk : read.brightInk;

	const exactPreferred = exactMatch(set, preferred);
	if (exactPreferred >= 0) return { glyph: exactPreferred, score: 1, bright: !darkGlyph };
	const exactOther = exactMatch(set, other);
	if (exactOther >= 0) return { glyph: exactOther, score: 1, bright: darkGlyph };

	const cursor = underCursor(set, preferred, scratch);
	if (cursor !== undefined) return { glyph: cursor, score: 1, bright: !darkGlyph };

	// Without an exact match, the glyph is the colour with less ink (a text cell is mostly background);
	// the other reading wins only when it is far better (a noisy ▓ or █).
	const minorityIsPreferred = preferredInk <= total - preferredInk;
	const minority = minorityIsPreferred ? preferred : other;
	const majority = minorityIsPreferred ? other : preferred;
	const minorityInk = Math.min(preferredInk, total - preferredInk);
	const a = bestByShape(set, minority, minorityInk, scratch);
	const b = bestByShape(set, majority, total - minorityInk, scratch);
	const useMajority = b.distance * 4 < a.distance;
	const m = useMajority ? b : a;
	// The bits read as "bright" are `bits`; the minority reading is those bits unless it is the inverse.
	const minorityIsBits = minority === bits;
	const bright = useMajority ? !minorityIsBits : minorityIsBits;
	const limit = total / 4;
	if (m.distance > limit) return { glyph: m.glyph, score: 0, bright };
	return { glyph: m.glyph, score: Math.max(0, (m.second - m.distance) / (m.second + m.distance)), bright };
}

const CANDIDATES = 10;

/** Cost of reading a glyph one pixel off its place (fonts of one family place some glyphs differently). */
const SHIFT_COST = 3;
/** A best shape distance this small needs no shifted tries. */
const CLOSE_ENOUGH = 4;
const SHIFTS: ReadonlyArray<readonly [number, number]> = [
	[-1, 0],
	[1, 0],
	[0, -1],
	[0, 1],
];

/**
 * The nearest glyphs by Hamming distance, re-ranked by shape distance (see shapeDistance); when
 * nothing is close, the cell shifted by one pixel each way is tried too.
 */
function bestByShape(set: GlyphSet, cell: Uint32Array, ink: number, scratch: Scratch): Match {
	const { width, height } = set;
	const found = new Map<number, number>();
	const rows = scratch.rows.subarray(0, height);
	bitsToRows(cell, width, height, rows);
	considerVariant(set, cell, rows, ink, 0, found, scratch);
	const first = bestOf(found).distance;
	// Shifted tries only for cells close to some glyph: they fix a misplaced glyph, not graphics.
	if (first > CLOSE_ENOUGH && first <= (width * height) / 4) {
		const shifted = scratch.shiftedRows.subarray(0, height);
		for (const [dx, dy] of SHIFTS) {
			if (!shiftRows(rows, width, dx, dy, shifted)) continue;
			rowsToBits(shifted, width, scratch.shiftedBits);
			considerVariant(set, scratch.shiftedBits, shifted, ink, SHIFT_COST, found, scratch);
		}
	}
	return bestOf(found);
}

function considerVariant(
	set: GlyphSet,
	bits: Uint32Array,
	rows: Uint32Array,
	ink: number,
	cost: number,
	found: Map<number, number>,
	scratch: Scratch,
): void {
	const keep = (g: number, d: number) => {
		const prev = found.get(g);
		if (prev === undefined || d < prev) found.set(g, d);
	};
	const exact = exactMatch(set, bits);
	if (exact >= 0) {
		keep(exact, cost);
		return;
	}
	const count = nearestCandidates(set, bits, ink, CANDIDATES, scratch.candidates);
	const widened = widen(rows, set.width, scratch.widenedRows);
	for (let i = 0; i < count; i++) {
		const g = scratch.candidates.glyph[i] as number;
		keep(g, shapeDistance(set, g, rows, widened) + cost + (set.prior[g] as number));
	}
}

function bestOf(found: Map<number, number>): Match {
	let best = -1;
	let bestD = Number.MAX_SAFE_INTEGER;
	let secondD = Number.MAX_SAFE_INTEGER;
	for (const [g, d] of found) {
		if (d < bestD) {
			secondD = bestD;
			bestD = d;
			best = g;
		} else if (d < secondD) secondD = d;
	}
	return { glyph: best, distance: bestD, second: secondD };
}

/** Moves the rows by (dx, dy); false when that would push ink out of the cell. */
function shiftRows(rows: Uint32Array, width: number, dx: number, dy: number, out: Uint32Array): boolean {
	const height = rows.length;
	const full = (1 << width) - 1;
	if (dy > 0 && rows[height - 1] !== 0) return false;
	if (dy < 0 && rows[0] !== 0) return false;
	for (let y = 0; y < height; y++) {
		const r = rows[y] as number;
		if (dx > 0 && r & (1 << (width - 1))) return false;
		if (dx < 0 && r & 1) return false;
		const moved = dx > 0 ? (r << 1) & full : dx < 0 ? r >>> 1 : r;
		const ty = y + dy;
		if (ty >= 0 && ty < height) out[ty] = moved >>> 0;
	}
	if (dy > 0) out[0] = 0;
	if (dy < 0) out[height - 1] = 0;
	return true;
}

function rowsToBits(rows: Uint32Array, width: number, out: Uint32Array): void {
	out.fill(0);
	for (let y = 0; y < rows.length; y++) {
		const r = rows[y] as number;
		if (r === 0) continue;
		for (let x = 0; x < width; x++) {
			if ((r >>> x) & 1) {
				const i = y * width + x;
				out[i >>> 5] = ((out[i >>> 5] as number) | (1 << (i & 31))) >>> 0;
			}
		}
	}
}

function bitsToRows(bits: Uint32Array, width: number, height: number, out: Uint32Array): void {
	out.fill(0, 0, height);
	for (let i = 0; i < width * height; i++) {
		if (((bits[i >>> 5] as number) >>> (i & 31)) & 1) {
			const y = Math.floor(i / width);
			out[y] = ((out[y] as number) | (1 << (i % width))) >>> 0;
		}
	}
}

/**
 * A text cursor is a bar of one or two full rows at the bottom of its cell (VGA text mode: scan lines
 * 13–14 or 14–15; fbcon: the last 1–2 rows). When the bottom of a cell has full rows, each bar
 * position among them is tried with the bar's rows ignored; of the glyphs that then match, the one
 * with least ink under the bar wins (a blank rather than "_"). Returns the glyph, or undefined.
 */
function underCursor(set: GlyphSet, cell: Uint32Array, scratch: Scratch): number | undefined {
	const { width, height, words } = set;
	const fullRow = (y: number) => {
		for (let x = 0; x < width; x++) {
			const i = y * width + x;
			if ((((cell[i >>> 5] as number) >>> (i & 31)) & 1) === 0) return false;
		}
		return true;
	};
	const from = height - Math.max(2, Math.ceil(height / 4));
	const full: number[] = [];
	for (let y = from; y < height; y++) if (fullRow(y)) full.push(y);
	if (full.length === 0) return undefined;
	const { mask } = scratch;
	const totalBits = width * height;
	let best = -1;
	let bestHidden = Number.MAX_SAFE_INTEGER;
	for (const bar of [2, 1]) {
		for (const top of full) {
			const rows = Array.from({ length: bar }, (_, k) => top + k);
			if (!rows.every((y) => full.includes(y))) continue;
			mask.fill(0xffffffff, 0, words);
			if (totalBits & 31) mask[words - 1] = (1 << (totalBits & 31)) - 1;
			for (const y of rows) {
				for (let x = 0; x < width; x++) {
					const i = y * width + x;
					mask[i >>> 5] = ((mask[i >>> 5] as number) & ~(1 << (i & 31))) >>> 0;
				}
			}
			for (let g = 0; g < set.count; g++) {
				let differs = false;
				let hidden = 0;
				for (let i = 0; i < words; i++) {
					const glyphWord = set.bits[g * words + i] as number;
					if (((glyphWord ^ (cell[i] as number)) & (mask[i] as number)) >>> 0) {
						differs = true;
						break;
					}
					hidden += popcount((glyphWord & ~(mask[i] as number)) >>> 0);
				}
				if (!differs && hidden < bestHidden) {
					best = g;
					bestHidden = hidden;
				}
			}
		}
	}
	return best < 0 ? undefined : best;
}
