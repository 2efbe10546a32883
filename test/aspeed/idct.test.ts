import { describe, expect, test } from "bun:test";
import { dequantize, idct8x8, idctDcSample, idctReference, RANGE_LIMIT } from "../../src/aspeed/idct.ts";
import { baseTable, multiplierTable } from "../../src/aspeed/quant.ts";

function run(coef: Int16Array, q: Int32Array): Uint8Array {
	const out = new Uint8Array(64);
	idct8x8(coef, 0, q, out, 0, new Int32Array(64));
	return out;
}

describe("AAN integer IDCT", () => {
	const q7 = multiplierTable(baseTable(7, false));
	const q4 = multiplierTable(baseTable(4, false));

	test("DC only: (DC·M >> 3) + 128 everywhere, same through the fast path", () => {
		const coef = new Int16Array(64);
		coef[0] = 10;
		expect([...run(coef, q7)]).toEqual(new Array(64).fill(130));
		expect(idctDcSample(10, q7[0] ?? 0)).toBe(130);
		coef[0] = -3; // -6 >> 3 = -1 (truncation toward -inf)
		expect([...run(coef, q7)]).toEqual(new Array(64).fill(127));
		expect(idctDcSample(-3, 2)).toBe(127);
	});

	test("range limit clamps -512..511 and wraps beyond (mod 1024), as the viewer indexes", () => {
		expect(RANGE_LIMIT[0]).toBe(128);
		expect(RANGE_LIMIT[127]).toBe(255);
		expect(RANGE_LIMIT[511]).toBe(255);
		expect(RANGE_LIMIT[600]).toBe(0); // v = 600 wraps to -424
		expect(RANGE_LIMIT[1024 - 128]).toBe(0);
		expect(RANGE_LIMIT[1023]).toBe(127);
		// DC 1000 × M 4 = 4000 → 500 → 255; DC 1300 × 4 = 5200 → 650 → wraps to 0.
		expect(idctDcSample(1000, 4)).toBe(255);
		expect(idctDcSample(1300, 4)).toBe(0);
	});

	test("dequantised values wrap to signed 16 bits before the transform", () => {
		expect(dequantize(1000, 40)).toBe(40000 - 65536);
		expect(dequantize(-1000, 40)).toBe(65536 - 40000);
		expect(dequantize(100, 40)).toBe(4000);
		const coef = new Int16Array(64);
		coef[0] = 1000;
		// 1000·40 = 40000 → -25536 → >> 3 = -3192 → & 1023 = 392 → clamps to 255.
		const q = new Int32Array(64).fill(40);
		expect(run(coef, q)[0]).toBe(RANGE_LIMIT[(-25536 >> 3) & 1023]);
	});

	test("stays within 2 levels of a floating-point IDCT on random sparse blocks", () => {
		let seed = 12345;
		const rand = () => {
			seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
			return seed / 2 ** 32;
		};
		let worst = 0;
		for (let n = 0; n < 300; n++) {
			const q = n % 2 ? q4 : q7;
			const coef = new Int16Array(64);
			coef[0] = Math.round((rand() - 0.5) * 100);
			const count = 1 + Math.floor(rand() * 10);
			for (let k = 0; k < count; k++) coef[1 + Math.floor(rand() * 63)] = Math.round((rand() - 0.5) * 20);
			// Reference: dequantise with the true step M/(a·a), i.e. the DCT coefficient the multiplier encodes.
			const a = [1.0, 1.387039845, 1.306562965, 1.175875602, 1.0, 0.785694958, 0.5411961, 0.275899379];
			const deq = new Float64Array(64);
			for (let r = 0; r < 8; r++) {
				for (let c = 0; c < 8; c++)
					deq[r * 8 + c] = ((coef[r * 8 + c] ?? 0) * (q[r * 8 + c] ?? 0)) / ((a[r] ?? 1) * (a[c] ?? 1));
			}
			const ref = idctReference(deq);
			const out = run(coef, q);
			for (let i = 0; i < 64; i++) {
				const r = Math.min(255, Math.max(0, ref[i] ?? 0));
				worst = Math.max(worst, Math.abs((out[i] ?? 0) - r));
			}
		}
		expect(worst).toBeLessThanOrEqual(2.5);
	});

	test("a horizontal cosine produces columns that vary and rows that repeat", () => {
		const coef = new Int16Array(64);
		coef[0] = 0;
		coef[1] = 20; // first horizontal frequency
		const out = run(coef, q7);
		for (let row = 1; row < 8; row++) expect([...out.subarray(row * 8, row * 8 + 8)]).toEqual([...out.subarray(0, 8)]);
		expect(out[0]).toBeGreaterThan(128);
		expect(out[7]).toBeLessThan(128);
	});
});
