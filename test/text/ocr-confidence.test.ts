/**
 * OCR says which lines it is unsure of: the demo's UEFI screen (a real OVMF screendump) reads
 * "1996" as "1936" at line confidence 0.88; such lines are flagged with the framebuffer region
 * that zooms into them, and the tool result says so.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { DEMO_SCREENS, loadScreen } from "../../src/demo/screens.ts";
import { createFrame, type Frame } from "../../src/frame.ts";
import { vga16 } from "../../src/text/fonts/vga.ts";
import { closeOcr, LOW_LINE_CONFIDENCE, readScreenText, type ScreenText } from "../../src/text/index.ts";
import { renderConsole } from "../support/console-render.ts";
import { FakeProvider } from "../support/fake-provider.ts";
import { inMemoryClient, texts } from "../support/mcp.ts";

let frame: Frame;
let read: ScreenText;

beforeAll(async () => {
	const picture = await loadScreen(DEMO_SCREENS.uefiSetup);
	frame = createFrame(picture.width, picture.height, picture.rgba);
	read = await readScreenText(frame);
}, 60_000);
afterAll(closeOcr);

describe("low-confidence OCR lines", () => {
	test("are listed with their confidence and a region inside the frame around the line", () => {
		expect(read.method).toBe("ocr");
		const uncertain = read.uncertain ?? [];
		expect(uncertain.length).toBeGreaterThan(0);
		// The line with the misread year is among them.
		const year = read.lines.findIndex((l) => l.includes("i440FX"));
		const flagged = uncertain.find((u) => u.line === year);
		expect(flagged).toBeDefined();
		expect(flagged?.confidence).toBeLessThan(LOW_LINE_CONFIDENCE);
		for (const u of uncertain) {
			expect(u.confidence).toBeLessThan(LOW_LINE_CONFIDENCE);
			expect(u.region.x).toBeGreaterThanOrEqual(0);
			expect(u.region.y).toBeGreaterThanOrEqual(0);
			expect(u.region.x + u.region.width).toBeLessThanOrEqual(frame.width);
			expect(u.region.y + u.region.height).toBeLessThanOrEqual(frame.height);
			// One text row (19 px cells), not a slab of the screen.
			expect(u.region.height).toBeLessThan(40);
		}
		// The year's line is at the top of the screen (second GOP text row).
		expect(flagged?.region.y).toBeLessThan(45);
		expect((flagged?.region.y ?? 0) + (flagged?.region.height ?? 0)).toBeGreaterThan(25);
	});

	test("get_screen_text says which lines to doubt and how to zoom in", async () => {
		const c = await inMemoryClient({ providers: [new FakeProvider(undefined, frame)] });
		try {
			const r = (await c.client.callTool({ name: "get_screen_text", arguments: { serverId: "srv-1" } }, undefined, {
				timeout: 60_000,
			})) as CallToolResult;
			const text = texts(r).join("\n");
			expect(text).toContain("Low OCR confidence");
			expect(text).toContain("get_screenshot");
			expect(text).toMatch(/line \d+ \(0\.\d\d\): region \{"x": \d+, "y": \d+, "width": \d+, "height": \d+\}/);
			const structured = r.structuredContent as { uncertain?: Array<{ line: number }> };
			expect(structured.uncertain?.length).toBeGreaterThan(0);
		} finally {
			await c.close();
		}
	}, 60_000);

	test("a console read exactly from its font carries no such note", async () => {
		const vga = renderConsole(["Kernel panic - not syncing: VFS: Unable to mount root fs"], {
			font: vga16,
			cols: 80,
			rows: 25,
			cellWidth: 9,
		});
		const exact = await readScreenText(vga);
		expect(exact.method).toBe("bitmap-font");
		expect(exact.uncertain).toBeUndefined();
	});
});
