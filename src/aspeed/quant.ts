// biome-ignore-all lint/style/noNonNullAssertion: typed-array reads in codec loops are in bounds by construction; `!` keeps them branch-free under noUncheckedIndexedAccess.
/**
 * Dequantisation tables. The BMC never transmits tables:
 * the header selects one of eight fixed quality levels for normal blocks and
 * one for "advance" (pass-2 / low) blocks. Each base table is pre-multiplied
 * by the AAN scale factors so the IDCT needs no further scaling.
 */

/** √2·cos(kπ/16) for k > 0, 1 for k = 0: the AAN IDCT input scaling. */
export const AAN_SCALE = [
	1.0, 1.387039845, 1.306562965, 1.175875602, 1.0, 0.785694958, 0.5411961, 0.275899379,
] as const;

/** Luma base tables per selector (0 = coarsest, 7 = finest), natural row-major order. */
const LUMA_BASE: readonly (readonly number[])[] = [
	[
		20, 13, 12, 20, 30, 50, 63, 76, 15, 15, 17, 23, 32, 72, 75, 68, 17, 16, 20, 30, 50, 71, 86, 70, 17, 21, 27, 36, 63,
		108, 100, 77, 22, 27, 46, 70, 85, 136, 128, 96, 30, 43, 68, 80, 101, 130, 141, 115, 61, 80, 97, 108, 128, 151, 150,
		126, 90, 115, 118, 122, 140, 125, 128, 123,
	],
	[
		17, 12, 10, 17, 26, 43, 55, 66, 13, 13, 15, 20, 28, 63, 65, 60, 15, 14, 17, 26, 43, 62, 75, 61, 15, 18, 24, 31, 55,
		95, 87, 67, 19, 24, 40, 61, 74, 119, 112, 84, 26, 38, 60, 70, 88, 113, 123, 100, 53, 70, 85, 95, 112, 132, 131, 110,
		78, 100, 103, 107, 122, 109, 112, 108,
	],
	[
		14, 9, 9, 14, 21, 36, 46, 55, 10, 10, 12, 17, 23, 52, 54, 49, 12, 11, 14, 21, 36, 51, 62, 50, 12, 15, 19, 26, 46,
		78, 72, 56, 16, 19, 33, 50, 61, 98, 93, 69, 21, 31, 49, 58, 73, 94, 102, 83, 44, 58, 70, 78, 93, 109, 108, 91, 65,
		83, 86, 88, 101, 90, 93, 89,
	],
	[
		11, 7, 7, 11, 17, 28, 36, 43, 8, 8, 10, 13, 18, 41, 43, 39, 10, 9, 11, 17, 28, 40, 49, 40, 10, 12, 15, 20, 36, 62,
		57, 44, 12, 15, 26, 40, 48, 78, 74, 55, 17, 25, 39, 46, 58, 74, 81, 66, 35, 46, 56, 62, 74, 86, 86, 72, 51, 66, 68,
		70, 80, 71, 74, 71,
	],
	[
		9, 6, 5, 9, 13, 22, 28, 34, 6, 6, 7, 10, 14, 32, 33, 30, 7, 7, 9, 13, 22, 32, 38, 31, 7, 9, 12, 16, 28, 48, 45, 34,
		10, 12, 20, 31, 38, 61, 57, 43, 13, 19, 30, 36, 45, 58, 63, 51, 27, 36, 43, 48, 57, 68, 67, 56, 40, 51, 53, 55, 63,
		56, 57, 55,
	],
	[
		6, 4, 3, 6, 9, 15, 19, 22, 4, 4, 5, 7, 9, 21, 22, 20, 5, 4, 6, 9, 15, 21, 25, 21, 5, 6, 8, 10, 19, 32, 30, 23, 6, 8,
		13, 21, 25, 40, 38, 28, 9, 13, 20, 24, 30, 39, 42, 34, 18, 24, 29, 32, 38, 45, 45, 37, 27, 34, 35, 36, 42, 37, 38,
		37,
	],
	[
		3, 2, 1, 3, 4, 7, 9, 11, 2, 2, 2, 3, 4, 10, 11, 10, 2, 2, 3, 4, 7, 10, 12, 10, 2, 3, 4, 5, 9, 16, 15, 11, 3, 4, 6,
		10, 12, 20, 19, 14, 4, 6, 10, 12, 15, 19, 21, 17, 9, 12, 14, 16, 19, 22, 22, 18, 13, 17, 17, 18, 21, 18, 19, 18,
	],
	[
		2, 1, 1, 2, 3, 5, 6, 7, 1, 1, 1, 2, 3, 7, 7, 6, 1, 1, 2, 3, 5, 7, 8, 7, 1, 2, 2, 3, 6, 10, 10, 7, 2, 2, 4, 7, 8, 13,
		12, 9, 3, 4, 6, 8, 10, 13, 14, 11, 6, 8, 9, 10, 12, 15, 15, 12, 9, 11, 11, 12, 14, 12, 12, 12,
	],
	// Selectors 8..11 exist only on ATEN (Supermicro) BMCs; 8 repeats 7.
	[
		2, 1, 1, 2, 3, 5, 6, 7, 1, 1, 1, 2, 3, 7, 7, 6, 1, 1, 2, 3, 5, 7, 8, 7, 1, 2, 2, 3, 6, 10, 10, 7, 2, 2, 4, 7, 8, 13,
		12, 9, 3, 4, 6, 8, 10, 13, 14, 11, 6, 8, 9, 10, 12, 15, 15, 12, 9, 11, 11, 12, 14, 12, 12, 12,
	],
	[
		1, 1, 1, 1, 2, 3, 4, 5, 1, 1, 1, 1, 2, 5, 5, 5, 1, 1, 1, 2, 3, 5, 6, 5, 1, 1, 2, 2, 4, 8, 7, 5, 1, 2, 3, 5, 6, 10,
		9, 7, 2, 3, 5, 6, 7, 9, 10, 8, 4, 6, 7, 8, 9, 11, 11, 9, 6, 8, 8, 9, 10, 9, 9, 9,
	],
	[
		1, 1, 1, 1, 1, 2, 3, 3, 1, 1, 1, 1, 1, 3, 3, 3, 1, 1, 1, 1, 2, 3, 4, 3, 1, 1, 1, 1, 3, 5, 5, 3, 1, 1, 2, 3, 4, 6, 6,
		4, 1, 2, 3, 4, 5, 6, 7, 5, 3, 4, 4, 5, 6, 7, 7, 6, 4, 5, 5, 6, 7, 6, 6, 6,
	],
	// The last entry is 3 as in the BMC's own viewer (ASPEED's reference table has 4 there).
	[
		1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 2, 2, 1, 1, 1, 1, 1, 2, 3, 3,
		2, 1, 1, 1, 2, 2, 3, 3, 2, 1, 2, 2, 2, 3, 3, 3, 3, 2, 2, 2, 3, 3, 3, 3, 3,
	],
];

/** Chroma tables: a constant everywhere except the top-left 4x4 corner. */
const CHROMA_SHAPE: readonly { k: number; corner: readonly number[] }[] = [
	{ k: 185, corner: [31, 33, 45, 88, 33, 39, 48, 123, 45, 48, 105, 185, 88, 123, 185, 185] },
	{ k: 160, corner: [27, 29, 39, 76, 29, 34, 42, 107, 39, 42, 91, 160, 76, 107, 160, 160] },
	{ k: 133, corner: [22, 24, 32, 63, 24, 28, 34, 88, 32, 34, 75, 133, 63, 88, 133, 133] },
	{ k: 108, corner: [18, 19, 26, 51, 19, 22, 28, 72, 26, 28, 61, 108, 51, 72, 108, 108] },
	{ k: 80, corner: [13, 14, 19, 38, 14, 17, 21, 53, 19, 21, 45, 80, 38, 53, 80, 80] },
	{ k: 55, corner: [9, 10, 13, 26, 10, 11, 14, 37, 13, 14, 31, 55, 26, 37, 55, 55] },
	{ k: 27, corner: [4, 5, 6, 13, 5, 5, 7, 18, 6, 7, 15, 27, 13, 18, 27, 27] },
	{ k: 18, corner: [3, 3, 4, 8, 3, 3, 4, 12, 4, 4, 10, 18, 8, 12, 18, 18] },
	{ k: 15, corner: [2, 2, 3, 7, 2, 3, 4, 10, 3, 4, 8, 15, 7, 10, 15, 15] },
	{ k: 12, corner: [2, 2, 3, 5, 2, 2, 3, 8, 3, 3, 7, 12, 5, 8, 12, 12] },
	{ k: 9, corner: [1, 1, 2, 4, 1, 1, 2, 6, 2, 2, 5, 9, 4, 6, 9, 9] },
	{ k: 6, corner: [1, 1, 1, 2, 1, 1, 1, 4, 1, 1, 3, 6, 2, 4, 6, 6] },
];

/** Highest selector of the AST2500 (AMI) header; ATEN headers go up to ATEN_MAX_SELECTOR. */
export const AST2500_MAX_SELECTOR = 7;
export const ATEN_MAX_SELECTOR = 11;

function chromaBase(selector: number): number[] {
	const shape = CHROMA_SHAPE[selector];
	if (!shape) throw new RangeError(`table selector ${selector} out of range`);
	const table = new Array<number>(64).fill(shape.k);
	for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) table[r * 8 + c] = shape.corner[r * 4 + c] ?? shape.k;
	return table;
}

/** The base (un-scaled) table, natural order, values clamped to 1..255 as the scale step would. */
export function baseTable(selector: number, chroma: boolean, maxSelector = AST2500_MAX_SELECTOR): number[] {
	if (!Number.isInteger(selector) || selector < 0 || selector > maxSelector) {
		throw new RangeError(`table selector ${selector} out of range`);
	}
	const base = chroma ? chromaBase(selector) : LUMA_BASE[selector];
	if (!base) throw new RangeError(`table selector ${selector} out of range`);
	return base.map((v) => Math.min(255, Math.max(1, v)));
}

/** AAN multipliers M[r][c] = floor(Base·a[r]·a[c]) that the IDCT multiplies coefficients by. */
export function multiplierTable(base: readonly number[]): Int32Array {
	const m = new Int32Array(64);
	for (let r = 0; r < 8; r++) {
		for (let c = 0; c < 8; c++) {
			m[r * 8 + c] = Math.floor((base[r * 8 + c] ?? 1) * AAN_SCALE[r]! * AAN_SCALE[c]!);
		}
	}
	return m;
}

/**
 * ATEN's multipliers: F[r][c] = trunc(Base·a[r]·a[c]·65536), i.e. 16
 * fractional bits, used as `(coef·F) >> 16` (what ASPEED's reference decoder
 * and the BMC's HTML5 viewer compute; the integer rule above differs by up
 * to 20 levels on real ATEN frames).
 */
export function multiplierTable16(base: readonly number[]): Int32Array {
	const m = new Int32Array(64);
	for (let r = 0; r < 8; r++) {
		for (let c = 0; c < 8; c++) {
			m[r * 8 + c] = Math.trunc((base[r * 8 + c] ?? 1) * AAN_SCALE[r]! * AAN_SCALE[c]! * 65536);
		}
	}
	return m;
}

/** How coefficients are multiplied: see `dequantShift`. */
export type Dequantisation = "integer" | "fixed16";

/**
 * The dequantised coefficient is `(coef·M << shift) >> 16`: shift 16 wraps
 * the integer product to signed 16 bits (AMI), shift 0 drops the 16
 * fractional bits of a 16.16 multiplier (ATEN). One formula, no branch.
 */
export function dequantShift(kind: Dequantisation): number {
	return kind === "integer" ? 16 : 0;
}

/** Tables picked independently, as the ATEN header does (and as AMI's selector + mapping resolve to). */
export interface TableChoice {
	luma: number;
	chroma: number;
	advanceLuma: number;
	advanceChroma: number;
	/** Whether QT1 / QT3 come from the luma base set (AMI mapping flag). */
	chromaFromLuma: boolean;
	dequantisation: Dequantisation;
}

export function buildTables(choice: TableChoice): QuantTables {
	const mult = choice.dequantisation === "integer" ? multiplierTable : multiplierTable16;
	const chromaSet = !choice.chromaFromLuma;
	return [
		mult(baseTable(choice.luma, false, ATEN_MAX_SELECTOR)),
		mult(baseTable(choice.chroma, chromaSet, ATEN_MAX_SELECTOR)),
		mult(baseTable(choice.advanceLuma, false, ATEN_MAX_SELECTOR)),
		mult(baseTable(choice.advanceChroma, chromaSet, ATEN_MAX_SELECTOR)),
	];
}

export interface QuantSelection {
	jpegTableSelector: number;
	advanceTableSelector: number;
	yuvTableMapping: number;
}

/** QT0..QT3: luma normal, chroma normal, luma advance, chroma advance. */
export type QuantTables = readonly [Int32Array, Int32Array, Int32Array, Int32Array];

/**
 * The four tables for a header. Mapping = 1 makes chroma use the luma base
 * (AMI's polarity; bmcweb tests the flag the other way round, see §13 P10).
 */
export function buildQuantTables(sel: QuantSelection): QuantTables {
	const chromaIsLuma = sel.yuvTableMapping === 1;
	return [
		multiplierTable(baseTable(sel.jpegTableSelector, false)),
		multiplierTable(baseTable(sel.jpegTableSelector, !chromaIsLuma)),
		multiplierTable(baseTable(sel.advanceTableSelector, false)),
		multiplierTable(baseTable(sel.advanceTableSelector, !chromaIsLuma)),
	];
}

/** Caches the last choice: headers rarely change between frames. */
export class QuantCache {
	private key = -1;
	private tables: QuantTables | undefined;

	get(sel: QuantSelection): QuantTables {
		const mapping = sel.yuvTableMapping === 1;
		return this.choose({
			luma: sel.jpegTableSelector,
			chroma: sel.jpegTableSelector,
			advanceLuma: sel.advanceTableSelector,
			advanceChroma: sel.advanceTableSelector,
			chromaFromLuma: mapping,
			dequantisation: "integer",
		});
	}

	choose(choice: TableChoice): QuantTables {
		const key =
			(choice.luma << 20) |
			(choice.chroma << 16) |
			(choice.advanceLuma << 12) |
			(choice.advanceChroma << 8) |
			(choice.chromaFromLuma ? 2 : 0) |
			(choice.dequantisation === "fixed16" ? 1 : 0);
		if (key !== this.key || !this.tables) {
			this.tables = buildTables(choice);
			this.key = key;
		}
		return this.tables;
	}
}
