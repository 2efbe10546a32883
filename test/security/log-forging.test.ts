/**
 * Log forging: whatever a client sends (a serverId) or a console reports (a desktop name) is
 * written to the log with its control characters escaped, so it can neither start a line of its
 * own nor send escape sequences to the operator's terminal; and an absurd serverId is refused
 * before it is logged or echoed.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { configureLogging, createLogger } from "../../src/log.ts";
import { FakeProvider } from "../support/fake-provider.ts";
import { inMemoryClient, texts } from "../support/mcp.ts";

const FORGED = "srv-9\n2026-01-01T00:00:00.000Z ERROR [ikvm] forged line\u001b[2J\u009b31m\u2028x";

let lines: string[] = [];
function capture(format: "text" | "json" = "text") {
	lines = [];
	configureLogging({ level: "debug", format, sink: (line) => lines.push(line) });
}
afterEach(() => {
	configureLogging({ level: "silent", format: "text", sink: (line) => process.stderr.write(`${line}\n`) });
});

function clean(line: string): boolean {
	return ![...line].some((c) => {
		const code = c.charCodeAt(0);
		return code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029;
	});
}

describe("log lines", () => {
	for (const format of ["text", "json"] as const) {
		test(`${format}: control characters in fields and messages are escaped`, () => {
			capture(format);
			createLogger("t").warn(`message ${FORGED}`, { serverId: FORGED, nested: { name: FORGED } });
			expect(lines.length).toBe(1);
			expect(lines.every(clean)).toBe(true);
			expect(lines[0]).toContain("forged line");
			expect(lines[0]).toContain("\\n2026");
		});
	}

	test("a value with blanks or = is quoted, so it cannot pose as another field", () => {
		capture();
		createLogger("t").info("x", { serverId: "a level=error code=AUTH", plain: "ok" });
		expect(lines[0]).toContain('serverId="a level=error code=AUTH" plain=ok');
	});

	test("a serverId with a newline and ANSI escapes does not forge a line through a tool call", async () => {
		capture();
		const c = await inMemoryClient({ providers: [new FakeProvider()] });
		try {
			const r = (await c.client.callTool({
				name: "get_screenshot",
				arguments: { serverId: FORGED },
			})) as CallToolResult;
			expect(r.isError).toBe(true);
			expect(lines.length).toBeGreaterThan(0);
			expect(lines.every(clean)).toBe(true);
		} finally {
			await c.close();
		}
	});
});

describe("serverId length", () => {
	test("a serverId over 128 characters is a clear error, neither logged nor echoed in full", async () => {
		capture();
		const c = await inMemoryClient({ providers: [new FakeProvider()] });
		try {
			const huge = "x".repeat(900 * 1024);
			for (const tool of ["get_screenshot", "get_screen_text", "wait_for_screen"]) {
				const r = (await c.client.callTool({ name: tool, arguments: { serverId: huge } })) as CallToolResult;
				expect(r.isError).toBe(true);
				const text = texts(r).join("\n");
				expect(text).toContain("at most 128 characters");
				expect(text.length).toBeLessThan(2000);
			}
			expect(lines.every((l) => l.length < 2000)).toBe(true);
			const ok = (await c.client.callTool({
				name: "get_screenshot",
				arguments: { serverId: "srv-1", raw: true },
			})) as CallToolResult;
			expect(ok.isError).toBeFalsy();
		} finally {
			await c.close();
		}
	});
});
