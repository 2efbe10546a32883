import { describe, expect, test } from "bun:test";
import { buildColorTables, yccToRgb } from "../../src/aspeed/color.ts";

describe("YCbCr → RGB", () => {
	test("the spec's V1 colour: (255, 0, 0) with BT.601, (255, 47, 0) with AMI's Cr→G term (the default)", () => {
		expect(yccToRgb(0x51, 0x5a, 0xf0, "bt601")).toEqual([255, 0, 0]);
		expect(yccToRgb(0x51, 0x5a, 0xf0, "ami")).toEqual([255, 47, 0]);
		expect(yccToRgb(0x51, 0x5a, 0xf0)).toEqual([255, 47, 0]);
	});

	test("grey is the same in both matrices; limited range maps 16 → 0 and 235 → 255", () => {
		for (let y = 0; y < 256; y++) expect(yccToRgb(y, 128, 128, "bt601")).toEqual(yccToRgb(y, 128, 128, "ami"));
		expect(yccToRgb(16, 128, 128)).toEqual([0, 0, 0]);
		expect(yccToRgb(235, 128, 128)).toEqual([255, 255, 255]);
		expect(yccToRgb(130, 128, 128)).toEqual([133, 133, 133]);
		expect(yccToRgb(0, 128, 128)).toEqual([0, 0, 0]);
		expect(yccToRgb(255, 128, 128)).toEqual([255, 255, 255]);
	});

	test("fixed-point terms round half up: fx(K, d) = (K·d + 32768) >> 16", () => {
		const t = buildColorTables("bt601");
		expect(t.y[16 + 65]).toBe(76);
		expect(t.crR[240]).toBe(179);
		expect(t.cbB[90]).toBe(-77);
		expect(t.cbG[90]).toBe(15);
		expect(t.crG[240]).toBe(-91);
		expect(buildColorTables("ami").crG[240]).toBe(-44);
	});

	test("BT.601 primaries come out saturated (within fixed-point rounding)", () => {
		const near = (got: number[], want: number[]) => {
			for (const [i, v] of got.entries()) expect(Math.abs(v - (want[i] ?? 0))).toBeLessThanOrEqual(2);
		};
		near(yccToRgb(82, 90, 240, "bt601"), [255, 0, 0]);
		near(yccToRgb(145, 54, 34, "bt601"), [0, 255, 0]);
		near(yccToRgb(41, 240, 110, "bt601"), [0, 0, 255]);
		// The viewer's matrix turns pure red orange-ish: its Cr→G term is half as strong.
		expect(yccToRgb(82, 90, 240, "ami")[1]).toBeGreaterThan(40);
	});
});
