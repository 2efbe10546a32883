/**
 * A huge console (or a hostile framebuffer) must not become a few hundred
 * thousand tokens: text output is capped in rows, columns and characters, and
 * the cut is said.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { vga16 } from "../../src/text/fonts/vga.ts";
import { limitText, TEXT_LIMITS } from "../../src/text/index.ts";
import { renderConsole } from "../support/console-render.ts";
import { FakeProvider } from "../support/fake-provider.ts";
import { inMemoryClient, texts } from "../support/mcp.ts";

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
	await Promise.all(closers.splice(0).map((c) => c()));
});

describe("text output limits", () => {
	test("limitText keeps small screens as they are and cuts big ones, saying what was dropped", () => {
		const small = { lines: ["a", "b"], method: "bitmap-font" as const, confidence: 1 };
		expect(limitText(small)).toBe(small);
		const big = limitText({ lines: Array.from({ length: 500 }, () => "x".repeat(600)), method: "ocr", confidence: 1 });
		expect(big.lines.length).toBeLessThanOrEqual(TEXT_LIMITS.rows);
		expect(Math.max(...big.lines.map((l) => l.length))).toBeLessThanOrEqual(TEXT_LIMITS.cols);
		expect(big.lines.join("\n").length).toBeLessThanOrEqual(TEXT_LIMITS.chars);
		expect(big.truncated).toContain("500 rows");
	});

	test("get_screen_text of a 4096x2160 console full of text returns at most the limits, and says truncated", async () => {
		const cols = 512;
		const rows = 135;
		const lines = Array.from({ length: rows }, (_, r) => `${r}:`.padEnd(cols, "ABCDEFGH "));
		const frame = renderConsole(lines, { font: vga16, cols, rows, cellWidth: 8 });
		const c = await inMemoryClient({ providers: [new FakeProvider(undefined, frame)] });
		closers.push(c.close);
		const result = (await c.client.callTool({
			name: "get_screen_text",
			arguments: { serverId: "srv-1" },
		})) as CallToolResult;
		expect(result.isError).toBeFalsy();
		const structured = result.structuredContent as { lines: string[]; truncated?: string };
		expect(structured.lines.length).toBeLessThanOrEqual(TEXT_LIMITS.rows);
		expect(Math.max(...structured.lines.map((l) => l.length))).toBeLessThanOrEqual(TEXT_LIMITS.cols);
		expect(structured.truncated).toContain("512 characters wide");
		expect(texts(result)[0]).toContain("Truncated:");
		expect(JSON.stringify(result).length).toBeLessThan(TEXT_LIMITS.chars * 3);
	}, 30_000);
});
