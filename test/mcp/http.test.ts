import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { type Running, startServing } from "../../src/serve.ts";
import { FakeProvider, fakeFrameDriver } from "../support/fake-provider.ts";
import { httpClient, imageSize, testConfig, texts } from "../support/mcp.ts";

let running: Running;
let base: string;

beforeAll(async () => {
	running = await startServing(testConfig(), { providers: [new FakeProvider()], drivers: [fakeFrameDriver] });
	base = `http://127.0.0.1:${running.http?.port}`;
});
afterAll(async () => {
	await running.stop();
});

const INIT = {
	jsonrpc: "2.0",
	id: 1,
	method: "initialize",
	params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "0" } },
};

function post(headers: Record<string, string>, body: unknown = INIT): Promise<Response> {
	return fetch(`${base}/mcp`, {
		method: "POST",
		headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream", ...headers },
		body: JSON.stringify(body),
	});
}

describe("Streamable HTTP at /mcp", () => {
	test("the SDK client lists tools and calls both over HTTP", async () => {
		const client = await httpClient(`${base}/mcp`);
		try {
			const { tools } = await client.listTools();
			expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(["list_servers", "get_screenshot"]));
			const list = (await client.callTool({ name: "list_servers", arguments: {} })) as CallToolResult;
			expect(JSON.parse(texts(list)[0] ?? "")[0].id).toBe("srv-1");
			const shot = (await client.callTool({
				name: "get_screenshot",
				arguments: { serverId: "srv-1" },
			})) as CallToolResult;
			expect(shot.isError).toBeFalsy();
			const size = await imageSize(shot);
			expect(size.mimeType).toBe("image/png");
			expect(size.width).toBeGreaterThanOrEqual(64);
			expect(size.height).toBeGreaterThanOrEqual(48);
			const raw = (await client.callTool({
				name: "get_screenshot",
				arguments: { serverId: "srv-1", raw: true },
			})) as CallToolResult;
			expect(await imageSize(raw)).toEqual({ width: 64, height: 48, mimeType: "image/png" });
		} finally {
			await client.close();
		}
	});

	test("an unknown serverId over HTTP is a tool error, not a transport failure", async () => {
		const client = await httpClient(`${base}/mcp`);
		try {
			const r = (await client.callTool({ name: "get_screenshot", arguments: { serverId: "ghost" } })) as CallToolResult;
			expect(r.isError).toBe(true);
			expect(texts(r)[0]).toContain("ghost");
		} finally {
			await client.close();
		}
	});

	test("GET /health answers ok", async () => {
		const res = await fetch(`${base}/health`);
		expect(res.status).toBe(200);
		expect(((await res.json()) as { status: string }).status).toBe("ok");
	});

	test("unknown paths are 404, wrong methods 405", async () => {
		expect((await fetch(`${base}/nope`)).status).toBe(404);
		const put = await fetch(`${base}/mcp`, { method: "PUT" });
		expect(put.status).toBe(405);
		expect(put.headers.get("allow")).toContain("POST");
	});

	test("a foreign Origin is refused, a localhost Origin accepted", async () => {
		expect((await post({ Origin: "http://evil.example" })).status).toBe(403);
		expect((await post({ Origin: "http://localhost:3001" })).status).toBe(200);
	});

	test("a rebinding Host header is refused", async () => {
		const res = await fetch(`${base}/mcp`, {
			method: "POST",
			headers: {
				Host: "evil.example.com",
				"Content-Type": "application/json",
				Accept: "application/json, text/event-stream",
			},
			body: JSON.stringify(INIT),
		});
		expect(res.status).toBe(403);
	});

	test("an unknown session id is 404", async () => {
		const res = await post({ "Mcp-Session-Id": "not-a-session" }, { jsonrpc: "2.0", id: 2, method: "ping" });
		expect(res.status).toBe(404);
	});

	test("an oversized body is refused with 413", async () => {
		const res = await fetch(`${base}/mcp`, {
			method: "POST",
			headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream" },
			body: JSON.stringify({ ...INIT, pad: "x".repeat(2 * 1024 * 1024) }),
		});
		expect(res.status).toBe(413);
	});
});

describe("bearer token", () => {
	test("requests without the token get 401, with it 200", async () => {
		const secured = await startServing(testConfig({ MCP_AUTH_TOKEN: "0123456789abcdef-token" }), {
			providers: [new FakeProvider()],
			drivers: [fakeFrameDriver],
		});
		try {
			const url = `http://127.0.0.1:${secured.http?.port}/mcp`;
			const headers = { "Content-Type": "application/json", Accept: "application/json, text/event-stream" };
			const none = await fetch(url, { method: "POST", headers, body: JSON.stringify(INIT) });
			expect(none.status).toBe(401);
			const wrong = await fetch(url, {
				method: "POST",
				headers: { ...headers, Authorization: "Bearer wrong-token-wrong-token" },
				body: JSON.stringify(INIT),
			});
			expect(wrong.status).toBe(401);
			const client = await httpClient(url, { Authorization: "Bearer 0123456789abcdef-token" });
			expect((await client.listTools()).tools.length).toBeGreaterThan(0);
			await client.close();
		} finally {
			await secured.stop();
		}
	});

	test("binding beyond loopback without a token refuses to start", async () => {
		await expect(startServing(testConfig({ HOST: "0.0.0.0" }), { providers: [] })).rejects.toThrow(/MCP_AUTH_TOKEN/);
	});
});
