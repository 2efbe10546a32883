import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { type Running, startServing } from "../../src/serve.ts";
import { SERVERS } from "../support/control.ts";
import { type ConsoleRecord, ControlProvider, recordingOpener } from "../support/fake-console.ts";
import { httpClient, testConfig, texts } from "../support/mcp.ts";
import { tempDir } from "../support/targets-file.ts";

const VIEW = "view-token-0123456789abcdef";
const CONTROL = "control-token-0123456789abcdef";

let running: Running | undefined;
const clients: Client[] = [];
afterEach(async () => {
	for (const c of clients.splice(0)) await c.close().catch(() => {});
	await running?.stop();
	running = undefined;
});

async function serve(env: Record<string, string>) {
	const audit = join(tempDir("ikvm-audit-"), "audit.jsonl");
	const records: Record<string, ConsoleRecord> = {};
	running = await startServing(testConfig({ IKVM_CONTROL: "all", IKVM_AUDIT_LOG: audit, ...env }), {
		opener: recordingOpener(records),
		providers: () => [new ControlProvider(SERVERS)],
	});
	const url = running.http?.url ?? "";
	return { url, audit, records };
}

async function toolNames(url: string, token?: string): Promise<string[]> {
	const client = await httpClient(url, token ? { Authorization: `Bearer ${token}` } : {});
	clients.push(client);
	return (await client.listTools()).tools.map((t) => t.name);
}

describe("control token over HTTP", () => {
	test("the view token sees the read tools only; the control token also the control tools", async () => {
		const { url, audit, records } = await serve({ MCP_AUTH_TOKEN: VIEW, IKVM_CONTROL_TOKEN: CONTROL });
		const view = await toolNames(url, VIEW);
		expect(view.sort()).toEqual(["get_screen_text", "get_screenshot", "list_servers", "wait_for_screen"]);
		expect((await toolNames(url, CONTROL)).sort()).toEqual([...view, "mouse", "power", "send_keys"].sort());
		const none = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
		expect(none.status).toBe(401);

		const client = await httpClient(url, { Authorization: `Bearer ${CONTROL}` });
		clients.push(client);
		const result = await client.callTool({
			name: "send_keys",
			arguments: { serverId: "web-1", keys: "id{Enter}", then: "none" },
		});
		expect(result.isError).toBeFalsy();
		expect(records["web-1"]?.strokes).toHaveLength(3);
		const [line] = readFileSync(audit, "utf8")
			.trim()
			.split("\n")
			.map((l) => JSON.parse(l));
		expect(line).toMatchObject({ client: "test", remote: "127.0.0.1", serverId: "web-1", keys: "<2 chars> Enter" });
		expect(line.session).toMatch(/^[0-9a-f-]{36}$/);
		expect(client.transport && "sessionId" in client.transport ? client.transport.sessionId : undefined).toBe(
			line.session,
		);

		// A control session cannot be used with the view token.
		const hijack = await fetch(url, {
			method: "POST",
			headers: {
				"Content-Type": "application/json",
				Accept: "application/json, text/event-stream",
				Authorization: `Bearer ${VIEW}`,
				"mcp-session-id": line.session,
				"mcp-protocol-version": "2025-06-18",
			},
			body: JSON.stringify({ jsonrpc: "2.0", id: 9, method: "tools/list" }),
		});
		expect(hijack.status).toBe(403);
	});

	test("with MCP_AUTH_TOKEN but no control token nobody gets control over HTTP", async () => {
		const { url } = await serve({ MCP_AUTH_TOKEN: VIEW });
		expect(await toolNames(url, VIEW)).not.toContain("send_keys");
	});

	test("a control token alone: tokenless sessions read, the control token controls, a wrong token is refused", async () => {
		const { url } = await serve({ IKVM_CONTROL_TOKEN: CONTROL });
		expect(await toolNames(url)).not.toContain("send_keys");
		expect(await toolNames(url, CONTROL)).toContain("send_keys");
		await expect(toolNames(url, "wrong-token-0123456789")).rejects.toThrow();
	});

	test("no token at all on loopback: control tools for every session, as the operator enabled", async () => {
		const { url } = await serve({});
		expect(await toolNames(url)).toContain("power");
		const client = clients[0];
		const r = await client?.callTool({ name: "power", arguments: { serverId: "web-1", action: "status" } });
		expect(texts(r as never)[0]).toContain("State: on");
	});
});
