import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const CLI = new URL("../../src/cli.ts", import.meta.url).pathname;

export async function runCli(args: string[], env: Record<string, string> = {}) {
	const proc = Bun.spawn([process.execPath, CLI, ...args], {
		env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
		stdout: "pipe",
		stderr: "pipe",
		stdin: "ignore",
	});
	const [stdout, stderr, code] = await Promise.all([
		new Response(proc.stdout).text(),
		new Response(proc.stderr).text(),
		proc.exited,
	]);
	return { stdout, stderr, code };
}

describe("ikvm-mcp CLI", () => {
	test("--help on the CLI and on each command exits 0 with usage on stdout", async () => {
		for (const args of [["--help"], ["serve", "--help"], ["list", "--help"], ["screenshot", "--help"]]) {
			const r = await runCli(args);
			expect(r.code).toBe(0);
			expect(r.stdout).toContain("Usage");
		}
	});

	test("usage errors exit 2 and say what is wrong", async () => {
		const cases: Array<[string[], string]> = [
			[["screenshot"], "give exactly one <serverId>"],
			[["screenshot", "a", "b"], "give exactly one <serverId>"],
			[["screenshot", "a", "--region", "1,2,3"], "--region must be x,y,width,height"],
			[["list", "--bogus"], "bogus"],
			[["frobnicate"], 'unknown command "frobnicate"'],
			[["serve", "--port", "x"], "--port must be a number"],
		];
		for (const [args, message] of cases) {
			const r = await runCli(args);
			expect(r.code).toBe(2);
			expect(r.stderr).toContain(message);
			expect(r.stdout).toBe("");
		}
	});

	test("list prints the configured servers as JSON on stdout only", async () => {
		const dir = mkdtempSync(join(tmpdir(), "ikvm-cli-"));
		const file = join(dir, "t.json");
		writeFileSync(file, JSON.stringify({ servers: [{ id: "vm1", type: "vnc", host: "127.0.0.1", port: 5999 }] }));
		const r = await runCli(["list", "--config", file]);
		expect(r.code).toBe(0);
		expect(JSON.parse(r.stdout)).toEqual([
			{ id: "vm1", name: "vm1", provider: "vnc", datacenter: null, ip: "127.0.0.1" },
		]);
	});

	test("a bad config file is a runtime error (exit 1) naming file and field", async () => {
		const dir = mkdtempSync(join(tmpdir(), "ikvm-cli-"));
		const file = join(dir, "t.json");
		writeFileSync(file, JSON.stringify({ servers: [{ id: "vm1", type: "vnc" }] }));
		const r = await runCli(["list", "--config", file]);
		expect(r.code).toBe(1);
		expect(r.stderr).toContain(`${file}: servers[0].url`);
	});

	test("a screenshot of an unknown server exits 1 with the reason", async () => {
		const r = await runCli(["screenshot", "ghost", "-o", join(tmpdir(), "never.png")]);
		expect(r.code).toBe(1);
		expect(r.stderr).toContain("ghost");
	});
});
