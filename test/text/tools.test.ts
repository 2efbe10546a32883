import { afterEach, describe, expect, test } from "bun:test";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { CallContext } from "../../src/call-context.ts";
import type { Frame } from "../../src/frame.ts";
import type { ServerInfo } from "../../src/providers/types.ts";
import { vga16 } from "../../src/text/fonts/vga.ts";
import { renderConsole, VGA } from "../support/console-render.ts";
import { FakeProvider } from "../support/fake-provider.ts";
import { imagePixels, inMemoryClient, texts } from "../support/mcp.ts";

const SERVER: ServerInfo = { id: "srv-1", name: "Test server 1", provider: "fake", datacenter: null, ip: null };

const screen = (lines: string[]) => renderConsole(lines, { font: vga16, cols: 80, rows: 25, cellWidth: 9 });

const BOOTING = ["Loading Linux 6.1.0-56-amd64 ...", "Loading initial ramdisk ..."];
const PANIC = [
	...BOOTING,
	"[    4.699022] Kernel panic - not syncing: VFS: Unable to mount root fs on unkno",
	"wn-block(0,0)",
];

/** Serves the frames in order, then the last one for ever; counts captures. */
class ScriptedProvider extends FakeProvider {
	constructor(private readonly frames: Frame[]) {
		super([SERVER], frames[0]);
	}
	override async getScreenshot(serverId: string, ctx: CallContext): Promise<Frame> {
		await super.getScreenshot(serverId, ctx);
		return this.frames[Math.min(this.calls - 1, this.frames.length - 1)] as Frame;
	}
}

let closeAll: Array<() => Promise<void>> = [];
afterEach(async () => {
	await Promise.all(closeAll.map((c) => c()));
	closeAll = [];
});

async function connect(frames: Frame[], env: Record<string, string> = {}) {
	const provider = new ScriptedProvider(frames);
	const c = await inMemoryClient({ providers: [provider] }, env);
	closeAll.push(c.close);
	return { client: c.client, provider };
}

describe("get_screen_text", () => {
	test("is listed with its schema next to the other tools", async () => {
		const { client } = await connect([screen(PANIC)]);
		const { tools } = await client.listTools();
		const names = tools.map((t) => t.name);
		expect(names).toEqual(
			expect.arrayContaining(["list_servers", "get_screenshot", "get_screen_text", "wait_for_screen"]),
		);
		const text = tools.find((t) => t.name === "get_screen_text");
		expect(text?.inputSchema.required).toEqual(["serverId"]);
		expect(Object.keys(text?.inputSchema.properties ?? {})).toEqual(["serverId", "region"]);
		const wait = tools.find((t) => t.name === "wait_for_screen");
		expect(Object.keys(wait?.inputSchema.properties ?? {})).toEqual([
			"serverId",
			"text",
			"timeoutSeconds",
			"intervalSeconds",
		]);
	});

	test("returns the screen's lines, the method and the confidence, as text and structured content", async () => {
		const { client } = await connect([screen(PANIC)]);
		const result = (await client.callTool({
			name: "get_screen_text",
			arguments: { serverId: "srv-1" },
		})) as CallToolResult;
		expect(result.isError).toBeFalsy();
		expect(result.structuredContent).toMatchObject({
			lines: PANIC,
			method: "bitmap-font",
			confidence: 1,
			font: "vga16",
			grid: { cols: 80, rows: 25, cellWidth: 9, cellHeight: 16 },
			width: 720,
			height: 400,
		});
		const text = texts(result).join("\n");
		expect(text).toContain("Kernel panic - not syncing: VFS: Unable to mount root fs on unkno\nwn-block(0,0)");
		expect(text).toContain("bitmap-font vga16");
		expect(text).toContain("confidence 1.00");
	});

	test("region reads only that rectangle", async () => {
		const { client } = await connect([screen(PANIC)]);
		const result = (await client.callTool({
			name: "get_screen_text",
			arguments: { serverId: "srv-1", region: { x: 15 * 9, y: 2 * 16, width: 12 * 9, height: 16 } },
		})) as CallToolResult;
		expect(result.isError).toBeFalsy();
		expect((result.structuredContent as { lines: string[] }).lines).toEqual(["Kernel panic"]);
	});

	test("a region outside the framebuffer is a clear tool error", async () => {
		const { client } = await connect([screen(PANIC)]);
		const result = (await client.callTool({
			name: "get_screen_text",
			arguments: { serverId: "srv-1", region: { x: 700, y: 0, width: 100, height: 10 } },
		})) as CallToolResult;
		expect(result.isError).toBe(true);
		expect(texts(result).join("\n")).toContain("outside the 720x400 framebuffer");
	});

	test("a blank screen says so", async () => {
		const { client } = await connect([screen([])]);
		const result = (await client.callTool({
			name: "get_screen_text",
			arguments: { serverId: "srv-1" },
		})) as CallToolResult;
		expect(result.structuredContent).toMatchObject({ lines: [], method: "bitmap-font" });
		expect(texts(result).join("\n")).toContain("(no text on screen)");
	});

	test("get_screenshot includeText adds the text after the image", async () => {
		const { client } = await connect([screen(PANIC)]);
		const result = (await client.callTool({
			name: "get_screenshot",
			arguments: { serverId: "srv-1", raw: true, includeText: true },
		})) as CallToolResult;
		expect(result.isError).toBeFalsy();
		expect(result.content[0]?.type).toBe("image");
		const imageAt = result.content.findIndex((c) => c.type === "image");
		const textAt = result.content.findIndex((c) => c.type === "text" && c.text.includes("Kernel panic - not syncing"));
		expect(textAt).toBeGreaterThan(imageAt);
		expect((await imagePixels(result)).width).toBe(720);
		const without = (await client.callTool({
			name: "get_screenshot",
			arguments: { serverId: "srv-1" },
		})) as CallToolResult;
		expect(texts(without).join("\n")).not.toContain("Kernel panic");
	});
});

describe("wait_for_screen", () => {
	test("returns when the text appears, with the matching line, and reports progress per poll", async () => {
		const { client, provider } = await connect([screen(["BIOS"]), screen(BOOTING), screen(PANIC)]);
		const progress: string[] = [];
		const result = (await client.callTool(
			{ name: "wait_for_screen", arguments: { serverId: "srv-1", text: "Kernel panic", intervalSeconds: 0.5 } },
			undefined,
			{ onprogress: (p) => progress.push(p.message ?? "") },
		)) as CallToolResult;
		expect(result.isError).toBeFalsy();
		expect(provider.calls).toBe(3);
		expect(result.structuredContent).toMatchObject({ status: "matched", match: "Kernel panic", line: 3, polls: 3 });
		expect(texts(result).join("\n")).toContain("on line 3");
		expect(progress.filter((m) => m.includes("not on screen yet"))).toHaveLength(2);
	});

	test("a /pattern/flags regular expression with flags", async () => {
		const { client } = await connect([screen(PANIC)]);
		const result = (await client.callTool({
			name: "wait_for_screen",
			arguments: { serverId: "srv-1", text: "/kernel PANIC.*(VFS)/i" },
		})) as CallToolResult;
		expect(result.structuredContent).toMatchObject({ status: "matched", match: "Kernel panic - not syncing: VFS" });
	});

	test("without text: returns once the screen stops changing", async () => {
		const { client, provider } = await connect([screen(["one"]), screen(["two"]), screen(BOOTING)]);
		const result = (await client.callTool({
			name: "wait_for_screen",
			arguments: { serverId: "srv-1", intervalSeconds: 0.5 },
		})) as CallToolResult;
		expect(result.isError).toBeFalsy();
		expect(result.structuredContent).toMatchObject({ status: "stable", lines: BOOTING, polls: 4 });
		expect(provider.calls).toBe(4);
	});

	test("on timeout: not an error, says it timed out, gives the last text and a screenshot", async () => {
		const { client } = await connect([screen(BOOTING)]);
		const started = Date.now();
		const result = (await client.callTool({
			name: "wait_for_screen",
			arguments: { serverId: "srv-1", text: "login:", timeoutSeconds: 2, intervalSeconds: 0.5 },
		})) as CallToolResult;
		const took = Date.now() - started;
		expect(took).toBeGreaterThanOrEqual(1900);
		expect(took).toBeLessThan(6000);
		expect(result.isError).toBeFalsy();
		expect(result.structuredContent).toMatchObject({ status: "timeout", lines: BOOTING });
		const text = texts(result).join("\n");
		expect(text).toContain("timed out after 2 s");
		expect(text).toContain("Loading initial ramdisk ...");
		expect((await imagePixels(result)).width).toBeGreaterThan(0);
		expect(text).toContain("framebuffer 720x400");
	});

	test("its deadline follows timeoutSeconds, not the shorter whole-call default", async () => {
		const { client } = await connect([screen(BOOTING)], { TOOL_TIMEOUT_SECONDS: "1" });
		const result = (await client.callTool({
			name: "wait_for_screen",
			arguments: { serverId: "srv-1", text: "never", timeoutSeconds: 3, intervalSeconds: 1 },
		})) as CallToolResult;
		expect(result.isError).toBeFalsy();
		expect(result.structuredContent).toMatchObject({ status: "timeout" });
		expect((result.structuredContent as { polls: number }).polls).toBeGreaterThanOrEqual(3);
	});

	test("an invalid regular expression is a clear tool error", async () => {
		const { client, provider } = await connect([screen(PANIC)]);
		const result = (await client.callTool({
			name: "wait_for_screen",
			arguments: { serverId: "srv-1", text: "Kernel panic (not" },
		})) as CallToolResult;
		expect(result.isError).toBe(true);
		const text = texts(result).join("\n");
		expect(text).toContain("BAD_INPUT");
		expect(text).toContain("not a valid regular expression");
		expect(provider.calls).toBe(0);
	});

	test("timeoutSeconds above 600 is refused by the schema", async () => {
		const { client } = await connect([screen(PANIC)]);
		const result = (await client.callTool({
			name: "wait_for_screen",
			arguments: { serverId: "srv-1", text: "x", timeoutSeconds: 601 },
		})) as CallToolResult;
		expect(result.isError).toBe(true);
		expect(texts(result).join("\n")).toContain("timeoutSeconds");
	});

	test("an unknown server fails at once instead of polling until the timeout", async () => {
		const { client } = await connect([screen(PANIC)]);
		const started = Date.now();
		const result = (await client.callTool({
			name: "wait_for_screen",
			arguments: { serverId: "nope", text: "x", timeoutSeconds: 30 },
		})) as CallToolResult;
		expect(result.isError).toBe(true);
		expect(texts(result).join("\n")).toContain('Unknown server "nope"');
		expect(Date.now() - started).toBeLessThan(3000);
	});

	test("a failing capture is retried on the next poll", async () => {
		const provider = new ScriptedProvider([screen(PANIC)]);
		let failures = 1;
		const original = provider.getScreenshot.bind(provider);
		provider.getScreenshot = async (id, ctx) => {
			if (failures-- > 0) throw new Error("socket reset");
			return original(id, ctx);
		};
		const c = await inMemoryClient({ providers: [provider] });
		closeAll.push(c.close);
		const result = (await c.client.callTool({
			name: "wait_for_screen",
			arguments: { serverId: "srv-1", text: "Kernel panic", intervalSeconds: 0.5 },
		})) as CallToolResult;
		expect(result.structuredContent).toMatchObject({ status: "matched", polls: 2 });
	});

	test("cancellation stops the wait promptly", async () => {
		const { client, provider } = await connect([screen(BOOTING)]);
		const controller = new AbortController();
		const started = Date.now();
		const call = client.callTool(
			{ name: "wait_for_screen", arguments: { serverId: "srv-1", text: "never", timeoutSeconds: 60 } },
			undefined,
			{ signal: controller.signal },
		);
		setTimeout(() => controller.abort("test"), 300);
		await expect(call).rejects.toThrow();
		expect(Date.now() - started).toBeLessThan(2000);
		const calls = provider.calls;
		await Bun.sleep(2500);
		expect(provider.calls).toBe(calls);
	});

	test("coloured screens: text is found whatever the attribute", async () => {
		const frame = renderConsole(["Setup Utility", "", "  Press <F10> to save and exit"], {
			font: vga16,
			cols: 80,
			rows: 25,
			cellWidth: 9,
			colours: (_c, row) => (row === 0 ? { fg: VGA.yellow, bg: VGA.blue } : { fg: VGA.black, bg: VGA.grey }),
		});
		const { client } = await connect([frame]);
		const result = (await client.callTool({
			name: "wait_for_screen",
			arguments: { serverId: "srv-1", text: "<F10> to save" },
		})) as CallToolResult;
		expect(result.structuredContent).toMatchObject({ status: "matched", line: 3 });
	});
});
