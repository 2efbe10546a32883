/**
 * The default image of a whole VGA text-mode screen is its own pixels (no enlargement): measured
 * on real text-mode panics, 2x Lanczos read worse than raw (README, "Readability"). Checked here
 * on the real oops, where it did, with the same OCR the measurement uses.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { createWorker, OEM, PSM, type Worker } from "tesseract.js";
import { editDistance, loadFixture, normalise } from "../../scripts/eval-readability.ts";
import { encodePng } from "../../src/image/encode.ts";
import { isVgaTextMode, optimizeFrame } from "../../src/image/optimize.ts";

const OOPS = join(import.meta.dir, "..", "fixtures", "readability", "kernel-oops-720x400");
const require = createRequire(import.meta.url);
const LANG_PATH = join(dirname(require.resolve("@tesseract.js-data/eng/package.json")), "4.0.0_best_int");

let worker: Worker;
beforeAll(async () => {
	worker = await createWorker("eng", OEM.LSTM_ONLY, { langPath: LANG_PATH, gzip: true, cacheMethod: "none" });
	await worker.setParameters({ tessedit_pageseg_mode: PSM.AUTO, preserve_interword_spaces: "1" });
}, 60_000);
afterAll(async () => {
	await worker?.terminate();
});

describe("VGA text-mode screens", () => {
	test("are recognised by size", () => {
		expect(isVgaTextMode(720, 400)).toBe(true);
		expect(isVgaTextMode(640, 400)).toBe(true);
		expect(isVgaTextMode(640, 480)).toBe(false);
		expect(isVgaTextMode(1024, 768)).toBe(false);
	});

	test("the whole screen is sent unenlarged; a region still zooms", async () => {
		const frame = await loadFixture(`${OOPS}.png`);
		const whole = await optimizeFrame(frame);
		expect([whole.width, whole.height, whole.scale]).toEqual([720, 400, 1]);
		const zoomed = await optimizeFrame(frame, { region: { x: 0, y: 0, width: 360, height: 48 } });
		expect(zoomed.scale).toBe(4);
	});

	test("on a real oops the default image reads no worse than the raw pixels", async () => {
		const frame = await loadFixture(`${OOPS}.png`);
		const truth = normalise(await Bun.file(`${OOPS}.txt`).text());
		const errors = async (png: Buffer) => editDistance(truth, normalise((await worker.recognize(png)).data.text));
		const raw = await errors(await encodePng(frame));
		const optimised = await errors((await optimizeFrame(frame)).png);
		expect(optimised).toBeLessThanOrEqual(raw);
	}, 60_000);
});
