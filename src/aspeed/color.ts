// biome-ignore-all lint/style/noNonNullAssertion: typed-array reads in codec loops are in bounds by construction; `!` keeps them branch-free under noUncheckedIndexedAccess.
/**
 * YCbCr → RGB: limited-range BT.601 in 16.16 fixed
 * point, `fx(K, d) = (K·d + 32768) >> 16`, via per-component lookup tables.
 *
 * Two matrices:
 * - "ami" (our default): the BMC's own HTML5 viewer uses the Cb coefficient
 *   (−0.390625) for Cr→G as well. The shared vectors were graded against that
 *   viewer (V4 must match it within 45 dB; we match it bit for bit), and it is
 *   what the owner sees in the BMC's browser console, so we reproduce it.
 * - "bt601": the standard Cr→G term −0.8125, as OpenBMC's and the Avocent/iDRAC
 *   decoders use. Pick it if captures from real hardware show a green/magenta
 *   tint on saturated colours. Grey (Cb = Cr = 128), i.e. almost every console
 *   screen, is identical in both.
 */

export type ColorMatrix = "bt601" | "ami";

export const DEFAULT_COLOR_MATRIX: ColorMatrix = "ami";

export interface ColorTables {
	/** Luma term per Y. */
	y: Int32Array;
	/** Red term per Cr. */
	crR: Int32Array;
	/** Blue term per Cb. */
	cbB: Int32Array;
	/** Green terms per Cb and per Cr. */
	cbG: Int32Array;
	crG: Int32Array;
	/** Clamp to 0..255 of (v + CLAMP_OFFSET), for every sum of the terms above. */
	clamp: Uint8Array;
}

export const CLAMP_OFFSET = 512;

/** The fixed-point constants (value · 65536). */
export const COLOR_CONSTANTS = {
	y: 76284,
	crR: 104704,
	cbB: 132096,
	cbG: -25600,
	crG: { bt601: -53248, ami: -25600 },
} as const;

function fx(k: number, d: number): number {
	return (k * d + 32768) >> 16;
}

function table(k: number, offset: number): Int32Array {
	const t = new Int32Array(256);
	for (let i = 0; i < 256; i++) t[i] = fx(k, i - offset);
	return t;
}

export function buildColorTables(matrix: ColorMatrix): ColorTables {
	return {
		y: table(COLOR_CONSTANTS.y, 16),
		crR: table(COLOR_CONSTANTS.crR, 128),
		cbB: table(COLOR_CONSTANTS.cbB, 128),
		cbG: table(COLOR_CONSTANTS.cbG, 128),
		crG: table(COLOR_CONSTANTS.crG[matrix], 128),
		clamp: Uint8Array.from({ length: 1536 }, (_, i) => Math.min(255, Math.max(0, i - CLAMP_OFFSET))),
	};
}

const TABLES: Record<ColorMatrix, ColorTables> = { bt601: buildColorTables("bt601"), ami: buildColorTables("ami") };

export function colorTables(matrix: ColorMatrix = DEFAULT_COLOR_MATRIX): ColorTables {
	return TABLES[matrix];
}

function clamp8(v: number): number {
	return Math.min(255, Math.max(0, v));
}

/** A pixel as one little-endian 32-bit RGBA word (alpha 255). */
export function packedRgba(t: ColorTables, y: number, cb: number, cr: number): number {
	const yt = t.y[y]! + CLAMP_OFFSET;
	const c = t.clamp;
	return (
		(c[yt + t.crR[cr]!]! | (c[yt + t.cbG[cb]! + t.crG[cr]!]! << 8) | (c[yt + t.cbB[cb]!]! << 16) | 0xff000000) >>> 0
	);
}

/** One pixel, for tests and the encoder's colour search: [R, G, B]. */
export function yccToRgb(
	y: number,
	cb: number,
	cr: number,
	matrix: ColorMatrix = DEFAULT_COLOR_MATRIX,
): [number, number, number] {
	const t = TABLES[matrix];
	const yt = t.y[y & 255]!;
	return [
		clamp8(yt + t.crR[cr & 255]!),
		clamp8(yt + t.cbG[cb & 255]! + t.crG[cr & 255]!),
		clamp8(yt + t.cbB[cb & 255]!),
	];
}
