/**
 * The switches as an operator sets them: the real entry point over stdio, the
 * --control flag, a targets file with per-target `control`, and the audit file.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { tempDir, writeTargets } from "../support/targets-file.ts";

const ENTRY = new URL("../../src/index.ts", import.meta.url).pathname;

async function connect(args: string[], env: Record<string, string>) {
	const transport = new StdioClientTransport({
		command: process.execPath,
		args: ["run", ENTRY, "--stdio", ...args],
		env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "info", ...env },
		stderr: "pipe",
	});
	let stderr = "";
	transport.stderr?.on("data", (chunk: Buffer) => {
		stderr += chunk.toString();
	});
	const client = new Client({ name: "stdio-operator", version: "0" });
	await client.connect(transport);
	return { client, stderr: () => stderr };
}

describe("control over stdio", () => {
	const targets = writeTargets([
		{ id: "open-vm", type: "vnc", host: "127.0.0.1", port: 1, control: ["keyboard"] },
		{ id: "closed-vm", type: "vnc", host: "127.0.0.1", port: 1 },
	]);

	test("without --control the server is read-only", async () => {
		const { client } = await connect([], { IKVM_CONFIG: targets });
		try {
			const names = (await client.listTools()).tools.map((t) => t.name);
			expect(names).not.toContain("send_keys");
			expect(names).toContain("get_screen_text");
		} finally {
			await client.close();
		}
	});

	test("--control keyboard: send_keys exists; a target without control is refused and audited", async () => {
		const audit = join(tempDir("ikvm-audit-"), "audit.jsonl");
		const { client, stderr } = await connect(["--control", "keyboard"], {
			IKVM_CONFIG: targets,
			IKVM_AUDIT_LOG: audit,
			IKVM_SECRET_ROOT: "correct-horse-battery",
		});
		try {
			const names = (await client.listTools()).tools.map((t) => t.name);
			expect(names).toContain("send_keys");
			expect(names).not.toContain("mouse");
			expect(names).not.toContain("power");
			const r = (await client.callTool({
				name: "send_keys",
				arguments: { serverId: "closed-vm", keys: "halt{Enter}{secret ROOT}" },
			})) as CallToolResult;
			expect(r.isError).toBe(true);
			expect(JSON.stringify(r.content)).toContain(
				'the \\"control\\" field of target \\"closed-vm\\" in the targets file does not allow keyboard',
			);
			const line = JSON.parse(readFileSync(audit, "utf8").trim());
			expect(line).toMatchObject({
				client: "stdio-operator",
				serverId: "closed-vm",
				tool: "send_keys",
				outcome: "refused",
			});
			await Bun.sleep(100);
			expect(stderr()).toContain("control enabled: keyboard for the stdio client");
			expect(stderr()).toContain("[ikvm:audit] control call");
			expect(stderr()).not.toContain("correct-horse-battery");
			expect(stderr()).not.toContain("halt");
		} finally {
			await client.close();
		}
	});
});
