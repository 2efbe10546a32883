import { describe, expect, test } from "bun:test";
import { renderScreenshot } from "../../src/image/render.ts";
import { testFrame } from "../support/fake-provider.ts";

describe("screenshot caption", () => {
	test("says which encoding delivered the frame, and warns when its pixels are approximate", async () => {
		const exact = { ...testFrame(), encodings: ["ZRLE"], lossy: false };
		const jpeg = { ...testFrame(), encodings: ["Tight"], lossy: true };
		for (const raw of [true, false]) {
			expect((await renderScreenshot(exact, { raw })).caption).toContain("sent as ZRLE.");
			const lossy = (await renderScreenshot(jpeg, { raw })).caption;
			expect(lossy).toContain("sent as Tight (JPEG: approximate pixels");
		}
		expect((await renderScreenshot(testFrame(), { raw: true })).caption).not.toContain("sent as");
	});
});
