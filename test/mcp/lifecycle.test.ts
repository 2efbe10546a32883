import { describe, expect, test } from "bun:test";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { inMemoryClient, texts } from "../support/mcp.ts";
import { PoolProvider, slowOpener } from "../support/pool-provider.ts";

const TARGET = { kind: "vnc" as const, host: "127.0.0.1", port: 5999 };

async function setup(stepMs: number, env: Record<string, string> = {}) {
	const { opener, stats } = slowOpener(stepMs);
	const c = await inMemoryClient({ opener, providers: () => [new PoolProvider({ vm: TARGET })] }, env);
	return { ...c, stats };
}

describe("long captures", () => {
	test("progress notifications arrive at each stage when the client asks", async () => {
		const { client, close } = await setup(10);
		try {
			const messages: string[] = [];
			const result = (await client.callTool({ name: "get_screenshot", arguments: { serverId: "vm" } }, undefined, {
				onprogress: (p) => messages.push(`${p.progress}/${p.total}: ${p.message}`),
			})) as CallToolResult;
			expect(result.isError).toBeFalsy();
			expect(messages.join("\n")).toContain("Connecting to the console");
			expect(messages.join("\n")).toContain("Authenticating");
			expect(messages.join("\n")).toContain("Waiting for the first frame");
			const values = messages.map((m) => Number(m.split("/")[0]));
			expect(values).toEqual([...values].sort((a, b) => a - b));
			expect(new Set(values).size).toBe(values.length);
		} finally {
			await close();
		}
	});

	test("client cancellation aborts the capture and releases the console", async () => {
		const { client, close, stats, app } = await setup(300);
		try {
			const controller = new AbortController();
			const call = client.callTool({ name: "get_screenshot", arguments: { serverId: "vm" } }, undefined, {
				signal: controller.signal,
			});
			await Bun.sleep(100);
			controller.abort("user gave up");
			await expect(call).rejects.toThrow();
			await Bun.sleep(50);
			expect(stats.aborted).toBe(1);
			expect(app.consoles.openSessions).toBe(0);
			expect(app.consoles.activeCaptures).toBe(0);
		} finally {
			await close();
		}
	});

	test("the whole-call deadline names the stage that ran out", async () => {
		const { client, close, app } = await setup(700, { TOOL_TIMEOUT_SECONDS: "1" });
		try {
			const r = (await client.callTool({ name: "get_screenshot", arguments: { serverId: "vm" } })) as CallToolResult;
			expect(r.isError).toBe(true);
			expect(texts(r)[0]).toContain("TIMEOUT");
			expect(texts(r)[0]).toContain("stage: handshake");
			expect(texts(r)[0]).toContain("TOOL_TIMEOUT_SECONDS");
			await Bun.sleep(20);
			expect(app.consoles.openSessions).toBe(0);
		} finally {
			await close();
		}
	});

	test("a warm console serves the next call without reconnecting", async () => {
		const { client, close, stats } = await setup(5);
		try {
			for (let i = 0; i < 3; i++) {
				const r = (await client.callTool({ name: "get_screenshot", arguments: { serverId: "vm" } })) as CallToolResult;
				expect(r.isError).toBeFalsy();
			}
			expect(stats.opened).toBe(1);
		} finally {
			await close();
		}
		expect(stats.closed).toBe(1);
	});
});
