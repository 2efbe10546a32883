import { describe, expect, test } from "bun:test";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { testPattern } from "../../src/demo/patterns.ts";
import { startRfbServer } from "../../src/demo/rfb-server.ts";
import { vga16 } from "../../src/text/fonts/vga.ts";
import { runCli } from "../support/cli.ts";
import { renderConsole } from "../support/console-render.ts";
import { tempDir, writeTargets } from "../support/targets-file.ts";

describe("ikvm-mcp CLI", () => {
	test("--help on the CLI and on each command exits 0 with usage on stdout", async () => {
		for (const args of [
			["--help"],
			["serve", "--help"],
			["list", "--help"],
			["screenshot", "--help"],
			["text", "--help"],
			["wait", "--help"],
		]) {
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
			[["text"], "give exactly one <serverId>"],
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
		const file = writeTargets([{ id: "vm1", type: "vnc", host: "127.0.0.1", port: 5999 }], tempDir(), "t.json");
		const r = await runCli(["list", "--config", file]);
		expect(r.code).toBe(0);
		expect(JSON.parse(r.stdout)).toEqual([
			{ id: "vm1", name: "vm1", provider: "vnc", datacenter: null, ip: "127.0.0.1" },
		]);
	});

	test("a bad config file is a runtime error (exit 1) naming file and field", async () => {
		const file = writeTargets([{ id: "vm1", type: "vnc" }], tempDir(), "t.json");
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

describe("ikvm-mcp config <client>", () => {
	test("README's client snippets are the command's current output", async () => {
		const readme = await Bun.file(new URL("../../README.md", import.meta.url)).text();
		for (const args of [["claude-code"], ["claude-desktop"], ["claude-desktop", "--demo"]]) {
			const r = await runCli(["config", ...args, "--root", "/path/to/ikvm-mcp", "--bun", "bun"]);
			expect(r.code).toBe(0);
			expect(readme).toContain(r.stdout.trim());
		}
	});

	test("uses the variables set, with secrets as placeholders unless --with-secrets", async () => {
		const env = {
			OVH_ENDPOINT: "ca",
			OVH_APPLICATION_KEY: "ak-1",
			OVH_APPLICATION_SECRET: "as-SECRET",
			OVH_CONSUMER_KEY: "ck-SECRET",
		};
		const hidden = await runCli(["config", "cursor"], env);
		const json = JSON.parse(hidden.stdout);
		expect(json.mcpServers.ikvm.env).toEqual({
			OVH_ENDPOINT: "ca",
			OVH_APPLICATION_KEY: "ak-1",
			OVH_APPLICATION_SECRET: "<OVH_APPLICATION_SECRET>",
			OVH_CONSUMER_KEY: "<OVH_CONSUMER_KEY>",
		});
		expect(json.mcpServers.ikvm.args[1]).toMatch(/\/src\/index\.ts$/);
		const shown = await runCli(["config", "windsurf", "--with-secrets"], env);
		expect(JSON.parse(shown.stdout).mcpServers.ikvm.env.OVH_APPLICATION_SECRET).toBe("as-SECRET");
	});

	test("an unknown client is a usage error", async () => {
		const r = await runCli(["config", "emacs"]);
		expect(r.code).toBe(2);
		expect(r.stderr).toContain("claude-desktop");
	});

	test("the generated stdio command really starts the server", async () => {
		const r = await runCli(["config", "claude-desktop"]);
		const { command, args } = JSON.parse(r.stdout).mcpServers.ikvm;
		const proc = Bun.spawn([command, ...args], { stdin: "pipe", stdout: "pipe", stderr: "ignore" });
		proc.stdin.write(
			`${JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "0" } } })}\n`,
		);
		await proc.stdin.flush();
		const reader = proc.stdout.getReader();
		const { value } = await reader.read();
		proc.kill();
		expect(JSON.parse(new TextDecoder().decode(value)).result.serverInfo.name).toBe("ikvm-mcp");
	});
});

describe("ikvm-mcp screenshot against a real VNC server", () => {
	test("writes the framebuffer PNG with -o over plain TCP and WebSocket, progress on stderr only", async () => {
		const image = testPattern(320, 200);
		const server = await startRfbServer({ image, encoding: "zrle", security: "vnc", password: "s3cret-pw" });
		try {
			const dir = tempDir();
			const file = writeTargets(
				[
					{ id: "tcp-vm", type: "vnc", host: "127.0.0.1", port: server.tcpPort, passwordEnv: "VM_PW" },
					{ id: "ws-vm", type: "vnc", url: server.wsUrl, passwordEnv: "VM_PW" },
				],
				dir,
			);
			for (const id of ["tcp-vm", "ws-vm"]) {
				const out = join(dir, `${id}.png`);
				const r = await runCli(["screenshot", id, "--raw", "-o", out, "--config", file], { VM_PW: "s3cret-pw" });
				expect(r.stderr).not.toContain("s3cret-pw");
				expect(r.code).toBe(0);
				expect(r.stdout).toBe("");
				const { data, info } = await sharp(out).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
				expect([info.width, info.height]).toEqual([320, 200]);
				expect(Buffer.compare(data, Buffer.from(image.rgba))).toBe(0);
			}
			const region = await runCli(
				["screenshot", "tcp-vm", "--raw", "--region", "10,20,30,40", "-o", join(dir, "r.png"), "--config", file],
				{ VM_PW: "s3cret-pw" },
			);
			expect(region.code).toBe(0);
			expect((await sharp(join(dir, "r.png")).metadata()).width).toBe(30);
		} finally {
			await server.close();
		}
	});
});

describe("ikvm-mcp text", () => {
	test("prints the console's lines on stdout, how they were read on stderr", async () => {
		const lines = ["Debian GNU/Linux 12 web-03 tty1", "", "web-03 login: root", "Password:", "Login incorrect"];
		const frame = renderConsole(lines, { font: vga16, cols: 80, rows: 25 });
		const server = await startRfbServer({ image: frame, encoding: "zrle" });
		try {
			const file = writeTargets([{ id: "vm", type: "vnc", host: "127.0.0.1", port: server.tcpPort }]);
			const r = await runCli(["text", "vm", "--config", file]);
			expect(r.code).toBe(0);
			expect(r.stdout).toBe(`${lines.join("\n")}\n`);
			expect(r.stderr).toContain("bitmap-font");
			const json = await runCli(["text", "vm", "--json", "--region", "0,32,640,16", "--config", file]);
			expect(JSON.parse(json.stdout).lines).toEqual(["web-03 login: root"]);
		} finally {
			await server.close();
		}
	});
});

describe("ikvm-mcp wait", () => {
	test("waits for a pattern (exit 0), or times out with the last screen (exit 1); bad numbers are usage errors", async () => {
		const lines = ["Debian GNU/Linux 12 web-03 tty1", "", "web-03 login:"];
		const server = await startRfbServer({
			image: renderConsole(lines, { font: vga16, cols: 80, rows: 25 }),
			encoding: "zrle",
		});
		try {
			const file = writeTargets([{ id: "vm", type: "vnc", host: "127.0.0.1", port: server.tcpPort }]);
			const found = await runCli(["wait", "vm", "login:\\s*$", "--timeout", "10", "--config", file]);
			expect(found.code).toBe(0);
			expect(found.stdout).toBe(`${lines.join("\n")}\n`);
			expect(found.stderr).toContain("found /login:\\s*$/m on line 3");
			const missing = await runCli([
				"wait",
				"vm",
				"Password:",
				"--timeout",
				"1",
				"--interval",
				"0.5",
				"--config",
				file,
			]);
			expect(missing.code).toBe(1);
			expect(missing.stderr).toContain("timed out");
			expect(missing.stdout).toContain("web-03 login:");
			const still = await runCli(["wait", "vm", "--timeout", "10", "--interval", "0.5", "--json", "--config", file]);
			expect(still.code).toBe(0);
			expect(JSON.parse(still.stdout).status).toBe("stable");
		} finally {
			await server.close();
		}
		const bad = await runCli(["wait", "vm", "--timeout", "abc"]);
		expect(bad.code).toBe(2);
		expect(bad.stderr).toContain("--timeout");
	}, 30_000);
});

describe("ikvm-mcp config <client> with a targets file", () => {
	const targets = [
		{ id: "vm", type: "vnc", host: "127.0.0.1", passwordEnv: "VM_PASS" },
		{ id: "bmc", type: "ami", url: "https://10.0.0.2", usernameEnv: "BMC_USER", passwordEnv: "BMC_PASS" },
	];

	test("passes every variable the file names and IKVM_CONFIG as an absolute path, no OVH placeholders", async () => {
		const dir = tempDir();
		writeTargets(targets, dir, "ikvm.config.json");
		// Found as ./ikvm.config.json in the working directory, as the server would find it.
		const r = await runCli(["config", "cursor"], { VM_PASS: "vm-secret-1", BMC_USER: "operator" }, dir);
		expect(r.code).toBe(0);
		const env = JSON.parse(r.stdout).mcpServers.ikvm.env as Record<string, string>;
		expect(env).toEqual({
			IKVM_CONFIG: join(dir, "ikvm.config.json"),
			VM_PASS: "<VM_PASS>",
			BMC_USER: "operator",
			BMC_PASS: "<BMC_PASS>",
		});
		const shown = await runCli(["config", "cursor", "--with-secrets"], { VM_PASS: "vm-secret-1" }, dir);
		expect(JSON.parse(shown.stdout).mcpServers.ikvm.env.VM_PASS).toBe("vm-secret-1");
	});

	test("a relative IKVM_CONFIG or --config becomes absolute", async () => {
		const dir = tempDir();
		writeTargets(targets, dir, "t.json");
		for (const [args, env] of [
			[["config", "claude-desktop"], { IKVM_CONFIG: "t.json" }],
			[["config", "claude-desktop", "--config", "./t.json"], {}],
		] as const) {
			const r = await runCli([...args], { ...env }, dir);
			expect(JSON.parse(r.stdout).mcpServers.ikvm.env.IKVM_CONFIG).toBe(join(dir, "t.json"));
		}
	});
});

describe("ikvm-mcp config <client> --demo", () => {
	test("prints a stdio demo snippet that really starts the demo, which prints no HTTP hint", async () => {
		const r = await runCli(["config", "claude-desktop", "--demo"]);
		expect(r.code).toBe(0);
		const entry = JSON.parse(r.stdout).mcpServers["ikvm-demo"];
		expect(entry.args.at(-2)).toMatch(/\/src\/demo\/main\.ts$/);
		expect(entry.args.at(-1)).toBe("--stdio");
		expect(entry.env).toEqual({});
		const proc = Bun.spawn([entry.command, ...entry.args], {
			env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "info" },
			stdin: "pipe",
			stdout: "pipe",
			stderr: "pipe",
		});
		try {
			const send = (m: unknown) => proc.stdin.write(`${JSON.stringify(m)}\n`);
			send({
				jsonrpc: "2.0",
				id: 1,
				method: "initialize",
				params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "0" } },
			});
			send({ jsonrpc: "2.0", method: "notifications/initialized" });
			send({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "list_servers", arguments: {} } });
			await proc.stdin.flush();
			const reader = proc.stdout.getReader();
			let out = "";
			const deadline = Date.now() + 20_000;
			while (!out.includes('"id":2') && Date.now() < deadline) {
				const { value, done } = await reader.read();
				if (done) break;
				out += new TextDecoder().decode(value);
			}
			const list = out
				.split("\n")
				.filter(Boolean)
				.map((l) => JSON.parse(l))
				.find((m) => m.id === 2);
			expect(JSON.parse(list.result.content[0].text).length).toBeGreaterThanOrEqual(4);
		} finally {
			proc.kill("SIGTERM");
			await proc.exited;
		}
		const stderr = await new Response(proc.stderr).text();
		expect(stderr).toContain("over stdio");
		expect(stderr).not.toContain("--transport http");
	}, 30_000);
});
