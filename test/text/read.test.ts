import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { levenshtein } from "../../scripts/eval-text.ts";
import { isIkvmError } from "../../src/errors.ts";
import { closeOcr, readScreenText } from "../../src/text/index.ts";
import { layoutWords } from "../../src/text/ocr.ts";
import { loadFrame } from "../support/console-render.ts";

const FIXTURES = join(import.meta.dir, "../fixtures/text");
const words = (lines: string[]) =>
	lines
		.map((l) => l.trim().replace(/\s+/g, " "))
		.filter(Boolean)
		.join("\n");

afterAll(closeOcr);

describe("readScreenText: bitmap font when confident, OCR otherwise", () => {
	test("a console screen is read by its bitmap font, exactly", async () => {
		const frame = await loadFrame(join(FIXTURES, "qemu-vga-panic-720x400.png"));
		const text = await readScreenText(frame);
		expect(text.method).toBe("bitmap-font");
		expect(text.lines).toEqual(
			(await Bun.file(join(FIXTURES, "qemu-vga-panic-720x400.txt")).text()).trimEnd().split("\n"),
		);
	});

	for (const name of ["graphical-setup-1024x768", "graphical-installer-800x600"]) {
		test(`${name}: OCR, offline, under 2% character errors`, async () => {
			const frame = await loadFrame(join(FIXTURES, `${name}.png`));
			const text = await readScreenText(frame);
			expect(text.method).toBe("ocr");
			expect(text.confidence).toBeGreaterThan(0.5);
			const truth = words((await Bun.file(join(FIXTURES, `${name}.txt`)).text()).split("\n"));
			const got = words(text.lines);
			expect(levenshtein(got, truth) / truth.length).toBeLessThan(0.02);
		}, 60_000);
	}

	test("a region is read from that part only (OCR crops to it)", async () => {
		const frame = await loadFrame(join(FIXTURES, "graphical-setup-1024x768.png"));
		const text = await readScreenText(frame, { region: { x: 690, y: 590, width: 300, height: 100 } });
		expect(text.method).toBe("ocr");
		expect(words(text.lines)).toBe("F1 Help\nF10 Save and Exit\nESC Exit");
	}, 60_000);

	test("a cancelled OCR call rejects at once with CANCELLED", async () => {
		const frame = await loadFrame(join(FIXTURES, "graphical-setup-1024x768.png"));
		const controller = new AbortController();
		const started = Date.now();
		const reading = readScreenText(frame, { signal: controller.signal });
		setTimeout(() => controller.abort(), 50);
		const error = await reading.then(
			() => undefined,
			(e: unknown) => e,
		);
		expect(isIkvmError(error) && error.code).toBe("CANCELLED");
		expect(Date.now() - started).toBeLessThan(1500);
		// The worker was stopped; the next call starts a fresh one and works.
		const again = await readScreenText(frame, { region: { x: 690, y: 590, width: 300, height: 100 } });
		expect(again.lines.length).toBeGreaterThan(0);
	}, 60_000);
});

describe("OCR layout", () => {
	test("words become rows by position, columns by the median character width", () => {
		const w = (text: string, x0: number, y0: number) => ({
			text,
			confidence: 90,
			x0,
			y0,
			x1: x0 + text.length * 10,
			y1: y0 + 20,
		});
		const out = layoutWords([w("Exit", 400, 100), w("Main", 0, 102), w("Boot Mode", 0, 140), w("UEFI", 300, 138)]);
		expect(out.lines).toEqual([`Main${" ".repeat(36)}Exit`, `Boot Mode${" ".repeat(21)}UEFI`]);
		expect(out.confidence).toBeCloseTo(0.9);
	});
});
