// biome-ignore-all lint/style/noNonNullAssertion: typed-array reads in codec loops are in bounds by construction; `!` keeps them branch-free under noUncheckedIndexedAccess.
/**
 * Inverse DCT exactly as the BMC's viewer computes it:
 * the AAN fast IDCT with 8-bit fixed-point constants (libjpeg's "ifast"
 * algorithm with no extra precision bits between the passes).
 *
 * Bit-exact details that matter: dequantised inputs wrap to signed 16 bits,
 * MUL(x, c) = (x·c) >> 8 truncates, outputs are `x >> 3` with no rounding
 * term, and the final range limit indexes with `& 1023`, so values outside
 * -512..511 wrap around before clamping.
 */

const C_1_082392200 = 277;
const C_1_414213562 = 362;
const C_1_847759065 = 473;
const C_2_613125930 = 669;

/** Sample for an IDCT output v (already >> 3), indexed by v & 1023. */
export const RANGE_LIMIT = (() => {
	const t = new Uint8Array(1024);
	for (let i = 0; i < 1024; i++) {
		const v = i < 512 ? i : i - 1024;
		t[i] = Math.min(255, Math.max(0, v + 128));
	}
	return t;
})();

/** Dequantises one coefficient the way the viewer's 32-bit JS does: wrap to signed 16 bits. */
export function dequantize(coef: number, mult: number): number {
	return (Math.imul(coef, mult) << 16) >> 16;
}

/**
 * 8x8 IDCT of `coef[co..co+63]` (natural order) with AAN multipliers `q`
 * (AMI's integer rule, products wrapped to 16 bits), writing 64 samples
 * row-major to `out[oo..oo+63]`. `ws` is a 64-entry scratch.
 */
export function idct8x8(
	coef: Int16Array,
	co: number,
	q: Int32Array,
	out: Uint8Array,
	oo: number,
	ws: Int32Array,
): void {
	const deq = new Int32Array(64);
	for (let i = 0; i < 64; i++) deq[i] = dequantize(coef[co + i]!, q[i]!);
	idct8x8Dequantized(deq, out, oo, ws);
}

/**
 * 8x8 IDCT of already dequantised coefficients `deq[0..63]` (natural order),
 * writing 64 samples row-major to `out[oo..oo+63]`. `ws` is a 64-entry
 * scratch. The decoder dequantises only the non-zero coefficients it reads
 * (AMI's 16-bit wrap or ATEN's 16.16 product), so this pass never multiplies
 * by the table.
 */
export function idct8x8Dequantized(deq: Int32Array, out: Uint8Array, oo: number, ws: Int32Array): void {
	// Pass 1: columns.
	for (let c = 0; c < 8; c++) {
		if (
			deq[c + 8] === 0 &&
			deq[c + 16] === 0 &&
			deq[c + 24] === 0 &&
			deq[c + 32] === 0 &&
			deq[c + 40] === 0 &&
			deq[c + 48] === 0 &&
			deq[c + 56] === 0
		) {
			const dc = deq[c]!;
			ws[c] = dc;
			ws[c + 8] = dc;
			ws[c + 16] = dc;
			ws[c + 24] = dc;
			ws[c + 32] = dc;
			ws[c + 40] = dc;
			ws[c + 48] = dc;
			ws[c + 56] = dc;
			continue;
		}
		// Even part.
		let t0 = deq[c]!;
		let t1 = deq[c + 16]!;
		let t2 = deq[c + 32]!;
		let t3 = deq[c + 48]!;
		let t10 = t0 + t2;
		let t11 = t0 - t2;
		const t13 = t1 + t3;
		let t12 = (Math.imul(t1 - t3, C_1_414213562) >> 8) - t13;
		t0 = t10 + t13;
		t3 = t10 - t13;
		t1 = t11 + t12;
		t2 = t11 - t12;
		// Odd part.
		const t4i = deq[c + 8]!;
		const t5i = deq[c + 24]!;
		const t6i = deq[c + 40]!;
		const t7i = deq[c + 56]!;
		const z13 = t6i + t5i;
		const z10 = t6i - t5i;
		const z11 = t4i + t7i;
		const z12 = t4i - t7i;
		const t7 = z11 + z13;
		t11 = Math.imul(z11 - z13, C_1_414213562) >> 8;
		const z5 = Math.imul(z10 + z12, C_1_847759065) >> 8;
		t10 = (Math.imul(z12, C_1_082392200) >> 8) - z5;
		t12 = (Math.imul(z10, -C_2_613125930) >> 8) + z5;
		const t6 = t12 - t7;
		const t5 = t11 - t6;
		const t4 = t10 + t5;
		ws[c] = t0 + t7;
		ws[c + 56] = t0 - t7;
		ws[c + 8] = t1 + t6;
		ws[c + 48] = t1 - t6;
		ws[c + 16] = t2 + t5;
		ws[c + 40] = t2 - t5;
		ws[c + 32] = t3 + t4;
		ws[c + 24] = t3 - t4;
	}
	// Pass 2: rows.
	for (let r = 0; r < 64; r += 8) {
		const w0 = ws[r]!;
		const w1 = ws[r + 1]!;
		const w2 = ws[r + 2]!;
		const w3 = ws[r + 3]!;
		const w4 = ws[r + 4]!;
		const w5 = ws[r + 5]!;
		const w6 = ws[r + 6]!;
		const w7 = ws[r + 7]!;
		const o = oo + r;
		if ((w1 | w2 | w3 | w4 | w5 | w6 | w7) === 0) {
			// Same result as the full butterfly with only w0 set.
			const s = RANGE_LIMIT[(w0 >> 3) & 1023]!;
			out[o] = s;
			out[o + 1] = s;
			out[o + 2] = s;
			out[o + 3] = s;
			out[o + 4] = s;
			out[o + 5] = s;
			out[o + 6] = s;
			out[o + 7] = s;
			continue;
		}
		const t10 = w0 + w4;
		const t11 = w0 - w4;
		const t13 = w2 + w6;
		const t12 = (Math.imul(w2 - w6, C_1_414213562) >> 8) - t13;
		const t0 = t10 + t13;
		const t3 = t10 - t13;
		const t1 = t11 + t12;
		const t2 = t11 - t12;
		const z13 = w5 + w3;
		const z10 = w5 - w3;
		const z11 = w1 + w7;
		const z12 = w1 - w7;
		const t7 = z11 + z13;
		const t11b = Math.imul(z11 - z13, C_1_414213562) >> 8;
		const z5 = Math.imul(z10 + z12, C_1_847759065) >> 8;
		const t10b = (Math.imul(z12, C_1_082392200) >> 8) - z5;
		const t12b = (Math.imul(z10, -C_2_613125930) >> 8) + z5;
		const t6 = t12b - t7;
		const t5 = t11b - t6;
		const t4 = t10b + t5;
		out[o] = RANGE_LIMIT[((t0 + t7) >> 3) & 1023]!;
		out[o + 7] = RANGE_LIMIT[((t0 - t7) >> 3) & 1023]!;
		out[o + 1] = RANGE_LIMIT[((t1 + t6) >> 3) & 1023]!;
		out[o + 6] = RANGE_LIMIT[((t1 - t6) >> 3) & 1023]!;
		out[o + 2] = RANGE_LIMIT[((t2 + t5) >> 3) & 1023]!;
		out[o + 5] = RANGE_LIMIT[((t2 - t5) >> 3) & 1023]!;
		out[o + 4] = RANGE_LIMIT[((t3 + t4) >> 3) & 1023]!;
		out[o + 3] = RANGE_LIMIT[((t3 - t4) >> 3) & 1023]!;
	}
}

/** The IDCT of a block whose only non-zero coefficient is DC: one flat sample (AMI's integer rule). */
export function idctDcSample(dc: number, q0: number): number {
	return dcSample(dc, q0, 16);
}

/** Same, for either dequantisation: `shift` as in quant.ts `dequantShift`. */
export function dcSample(dc: number, q0: number, shift: number): number {
	return RANGE_LIMIT[(((Math.imul(dc, q0) << shift) >> 16) >> 3) & 1023]!;
}

/**
 * Reference IDCT in floating point (orthonormal JPEG definition), used by
 * tests to check the fixed-point one stays within a level or two of it.
 */
export function idctReference(deq: ArrayLike<number>): Float64Array {
	const out = new Float64Array(64);
	for (let y = 0; y < 8; y++) {
		for (let x = 0; x < 8; x++) {
			let sum = 0;
			for (let v = 0; v < 8; v++) {
				for (let u = 0; u < 8; u++) {
					const cu = u === 0 ? Math.SQRT1_2 : 1;
					const cv = v === 0 ? Math.SQRT1_2 : 1;
					sum +=
						cu *
						cv *
						(deq[v * 8 + u] ?? 0) *
						Math.cos(((2 * x + 1) * u * Math.PI) / 16) *
						Math.cos(((2 * y + 1) * v * Math.PI) / 16);
				}
			}
			out[y * 8 + x] = sum / 4 + 128;
		}
	}
	return out;
}
