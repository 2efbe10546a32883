/**
 * Result shaping is one place for every tool: the notice (demo mode) ends every
 * result, wait_for_screen's "matched" and "stable" answers included; structured
 * content is redacted like the text (a secret on screen never comes back raw);
 * a match returns the whole line; an expensive pattern is an error, not a stall.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { registerSecret } from "../../src/redact.ts";
import { vga16 } from "../../src/text/fonts/vga.ts";
import { renderConsole } from "../support/console-render.ts";
import { FakeProvider } from "../support/fake-provider.ts";
import { inMemoryClient, texts } from "../support/mcp.ts";

const NOTICE = "DEMO MODE: simulated hardware.";
const SECRET = "Hunter2-on-screen-77";
const FILLER = Array.from(
	{ length: 20 },
	(_, i) => `[ ${i}.000000] a b c d e f g h i j k l m n o p q r s t u v w x y z`,
);
const SCREEN = renderConsole(["Debian GNU/Linux 12 host tty1", `password was ${SECRET}`, ...FILLER, "host login: "], {
	font: vga16,
	cols: 80,
	rows: 25,
	cellWidth: 9,
});

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
	await Promise.all(closers.splice(0).map((c) => c()));
});

async function client() {
	const provider = new FakeProvider(undefined, SCREEN);
	const c = await inMemoryClient({ providers: [provider], notice: NOTICE });
	closers.push(c.close);
	return c.client;
}

function lastText(result: CallToolResult): string | undefined {
	return texts(result).at(-1);
}

describe("every tool result", () => {
	test("ends with the notice: list, screenshot, text, and wait matched / stable / timeout", async () => {
		const c = await client();
		const calls: Array<[string, Record<string, unknown>]> = [
			["list_servers", {}],
			["get_screenshot", { serverId: "srv-1" }],
			["get_screen_text", { serverId: "srv-1" }],
			["wait_for_screen", { serverId: "srv-1", text: "login:", timeoutSeconds: 5 }],
			["wait_for_screen", { serverId: "srv-1", timeoutSeconds: 5, intervalSeconds: 0.5 }],
			["wait_for_screen", { serverId: "srv-1", text: "never-there", timeoutSeconds: 1, intervalSeconds: 0.5 }],
		];
		for (const [name, args] of calls) {
			const result = (await c.callTool({ name, arguments: args })) as CallToolResult;
			expect(result.isError, `${name} ${JSON.stringify(args)}`).toBeFalsy();
			expect(lastText(result), `${name} ${JSON.stringify(args)}`).toBe(NOTICE);
		}
	}, 30_000);

	test("a registered secret on screen is redacted in text blocks and in structured content alike", async () => {
		registerSecret(SECRET);
		const c = await client();
		for (const [name, args] of [
			["get_screen_text", { serverId: "srv-1" }],
			["wait_for_screen", { serverId: "srv-1", text: "password was", timeoutSeconds: 5 }],
		] as const) {
			const result = (await c.callTool({ name, arguments: args })) as CallToolResult;
			const everything = JSON.stringify(result);
			expect(everything).toContain("password was");
			expect(everything).not.toContain(SECRET);
		}
		// Ids and names are never redacted.
		const list = (await c.callTool({ name: "list_servers", arguments: {} })) as CallToolResult;
		expect(JSON.stringify(list.structuredContent)).toContain('"srv-1"');
	});

	test("wait_for_screen returns the whole matching line, not only the match", async () => {
		const c = await client();
		const result = (await c.callTool({
			name: "wait_for_screen",
			arguments: { serverId: "srv-1", text: "GNU/\\w+", timeoutSeconds: 5 },
		})) as CallToolResult;
		expect(result.structuredContent).toMatchObject({
			status: "matched",
			match: "GNU/Linux",
			line: 1,
			lineText: "Debian GNU/Linux 12 host tty1",
		});
		expect(texts(result)[0]).toContain('in the line "Debian GNU/Linux 12 host tty1"');
	});

	test("a pattern that backtracks for ever is a clear error within seconds, and the server keeps answering", async () => {
		const c = await client();
		const started = Date.now();
		let ticks = 0;
		const timer = setInterval(() => ticks++, 20);
		const result = (await c.callTool({
			name: "wait_for_screen",
			arguments: { serverId: "srv-1", text: "(.|\\s)*(.|\\s)*NEVER", timeoutSeconds: 30 },
		})) as CallToolResult;
		clearInterval(timer);
		expect(result.isError).toBe(true);
		expect(texts(result)[0]).toContain("too expensive");
		expect(Date.now() - started).toBeLessThan(30_000);
		// The event loop kept running while the pattern was tried.
		expect(ticks).toBeGreaterThan(5);
		const after = (await c.callTool({ name: "list_servers", arguments: {} })) as CallToolResult;
		expect(after.isError).toBeFalsy();
	}, 60_000);
});
