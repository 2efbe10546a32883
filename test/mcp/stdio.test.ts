import { describe, expect, test } from "bun:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const ENTRY = new URL("../../src/index.ts", import.meta.url).pathname;

describe("stdio transport", () => {
	test("the SDK client talks to `bun run src/index.ts --stdio`", async () => {
		const transport = new StdioClientTransport({
			command: process.execPath,
			args: ["run", ENTRY, "--stdio"],
			env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "debug" },
			stderr: "pipe",
		});
		const client = new Client({ name: "t", version: "0" });
		await client.connect(transport);
		try {
			const { tools } = await client.listTools();
			expect(tools.map((t) => t.name)).toContain("list_servers");
			const r = await client.callTool({ name: "list_servers", arguments: {} });
			expect(JSON.stringify(r)).toContain("OVH_APPLICATION_KEY");
		} finally {
			await client.close();
		}
	});

	test("stdout carries only JSON-RPC messages, logs go to stderr", async () => {
		const proc = Bun.spawn([process.execPath, "run", ENTRY], {
			env: { PATH: process.env.PATH ?? "", MCP_TRANSPORT: "stdio", LOG_LEVEL: "debug" },
			stdin: "pipe",
			stdout: "pipe",
			stderr: "pipe",
		});
		const messages = [
			{
				jsonrpc: "2.0",
				id: 1,
				method: "initialize",
				params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "0" } },
			},
			{ jsonrpc: "2.0", method: "notifications/initialized" },
			{ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "list_servers", arguments: {} } },
			{ jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "get_screenshot", arguments: { serverId: "x" } } },
		];
		for (const m of messages) proc.stdin.write(`${JSON.stringify(m)}\n`);
		await proc.stdin.flush();
		// Wait for the answers, then close stdin so the server exits.
		const reader = proc.stdout.getReader();
		let out = "";
		const deadline = Date.now() + 15_000;
		while ((out.match(/\n/g) ?? []).length < 3 && Date.now() < deadline) {
			const { value, done } = await reader.read();
			if (done) break;
			out += new TextDecoder().decode(value);
		}
		proc.stdin.end();
		for (;;) {
			const { value, done } = await reader.read();
			if (done) break;
			out += new TextDecoder().decode(value);
		}
		const err = await new Response(proc.stderr).text();
		expect(await proc.exited).toBe(0);
		const lines = out.split("\n").filter((l) => l.length > 0);
		expect(lines.length).toBe(3);
		for (const line of lines) expect(JSON.parse(line).jsonrpc).toBe("2.0");
		expect(err).toContain("stdio");
	});
});

describe("stdio limits", () => {
	test("a line longer than 10 MiB is logged and the server exits non-zero", async () => {
		const proc = Bun.spawn([process.execPath, "run", ENTRY, "--stdio"], {
			env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "info" },
			stdin: "pipe",
			stdout: "pipe",
			stderr: "pipe",
		});
		const chunk = "x".repeat(1024 * 1024);
		proc.stdin.write('{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"');
		try {
			for (let i = 0; i < 11; i++) proc.stdin.write(chunk);
			await proc.stdin.flush();
		} catch {
			// EPIPE: the server already gave up on the line, which is the point.
		}
		const timer = setTimeout(() => proc.kill(), 15_000);
		const code = await proc.exited;
		clearTimeout(timer);
		const stderr = await new Response(proc.stderr).text();
		expect(stderr).toContain("longer than 10 MiB");
		expect(code).toBe(1);
	}, 20_000);
});
