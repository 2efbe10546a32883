import { describe, expect, test } from "bun:test";
import { baseTable, buildQuantTables, multiplierTable } from "../../src/aspeed/quant.ts";

describe("AST2500 quantisation tables", () => {
	test("luma and chroma bases for the coarsest and finest selectors", () => {
		expect(baseTable(0, false).slice(0, 8)).toEqual([20, 13, 12, 20, 30, 50, 63, 76]);
		expect(baseTable(7, false).slice(56)).toEqual([9, 11, 11, 12, 14, 12, 12, 12]);
		const chroma0 = baseTable(0, true);
		expect(chroma0.slice(0, 8)).toEqual([31, 33, 45, 88, 185, 185, 185, 185]);
		expect(chroma0[3 * 8 + 3]).toBe(185);
		expect(chroma0[63]).toBe(185);
		expect(baseTable(7, true).slice(16, 20)).toEqual([4, 4, 10, 18]);
		expect(() => baseTable(8, false)).toThrow(RangeError);
	});

	test("AAN multipliers are floor(Base·a[r]·a[c]); some truncate to 0 at the finest level", () => {
		const m0 = multiplierTable(baseTable(0, false));
		expect(m0[0]).toBe(20);
		expect(m0[1]).toBe(Math.floor(13 * 1.387039845)); // 18
		expect(m0[8]).toBe(Math.floor(15 * 1.387039845));
		expect(m0[63]).toBe(Math.floor(123 * 0.275899379 * 0.275899379));
		const m7 = multiplierTable(baseTable(7, false));
		expect(m7[0]).toBe(2); // V3: DC 10 × 2 = 20
		expect(m7[63]).toBe(0);
	});

	test("selectors and the mapping flag pick the tables as the viewer does (1 = chroma uses luma)", () => {
		const luma = (s: number) => multiplierTable(baseTable(s, false));
		const chroma = (s: number) => multiplierTable(baseTable(s, true));
		const separate = buildQuantTables({ jpegTableSelector: 2, advanceTableSelector: 6, yuvTableMapping: 0 });
		expect(separate).toEqual([luma(2), chroma(2), luma(6), chroma(6)]);
		const mapped = buildQuantTables({ jpegTableSelector: 2, advanceTableSelector: 6, yuvTableMapping: 1 });
		expect(mapped).toEqual([luma(2), luma(2), luma(6), luma(6)]);
	});
});
