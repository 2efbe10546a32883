import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { createApp } from "../../../src/app.ts";
import { loadConfig } from "../../../src/config.ts";
import { findConfigFile, loadStaticConfig, parseStaticConfig } from "../../../src/providers/static/config.ts";
import { inMemoryClient, texts } from "../../support/mcp.ts";
import { tempDir, writeTargets } from "../../support/targets-file.ts";

const FILE = "ikvm.config.json";

function bad(servers: unknown, env: Record<string, string> = {}): string {
	try {
		parseStaticConfig(JSON.stringify({ servers }), FILE, env);
	} catch (error) {
		return (error as Error).message;
	}
	throw new Error("expected the config to be refused");
}

describe("static targets file", () => {
	test("the example from the issue is accepted", () => {
		const servers = parseStaticConfig(
			JSON.stringify({
				servers: [
					{ id: "lab-vm", name: "QEMU lab VM", type: "vnc", url: "ws://127.0.0.1:5701" },
					{ id: "pve-100", type: "vnc", host: "10.0.0.5", port: 5900, passwordEnv: "PVE100_VNC_PASSWORD" },
					{
						id: "rack-7",
						type: "ami",
						url: "https://10.0.0.20",
						usernameEnv: "BMC_USER",
						passwordEnv: "BMC_PASS",
						tls: { insecure: true },
					},
				],
			}),
			FILE,
			{ PVE100_VNC_PASSWORD: "pw-vnc-123", BMC_USER: "admin", BMC_PASS: "pw-bmc-456" },
		);
		expect(servers.map((s) => [s.id, s.type, s.ip])).toEqual([
			["lab-vm", "vnc", "127.0.0.1"],
			["pve-100", "vnc", "10.0.0.5"],
			["rack-7", "ami", "10.0.0.20"],
		]);
		expect(servers[1]?.target).toEqual({
			kind: "vnc",
			host: "10.0.0.5",
			port: 5900,
			password: "pw-vnc-123",
			tls: undefined,
		});
		expect(servers[2]?.target).toEqual({
			kind: "ami-login",
			url: "https://10.0.0.20",
			username: "admin",
			password: "pw-bmc-456",
			tls: { insecure: true },
		});
	});

	test("each bad field is named with the file", () => {
		const cases: Array<[unknown, string]> = [
			[[{ id: "a", type: "rdp", url: "ws://x" }], 'servers[0].type: type must be "vnc", "ami"'],
			[[{ type: "vnc", url: "ws://x" }], "servers[0].id"],
			[[{ id: "has space", type: "vnc", url: "ws://x" }], "servers[0].id: may contain only"],
			[[{ id: "a", type: "vnc", url: "http://x" }], "servers[0].url: must be a ws:// or wss:// URL"],
			[[{ id: "a", type: "vnc" }], "servers[0].url: give a ws(s) url or a host"],
			[[{ id: "a", type: "vnc", host: "h", port: 70000 }], "servers[0].port"],
			[[{ id: "a", type: "vnc", host: "h", port: "5900" }], "servers[0].port"],
			[[{ id: "a", type: "vnc", url: "ws://x", host: "h" }], "servers[0].host: give either url or host"],
			[[{ id: "a", type: "vnc", url: "ws://x", colour: "red" }], "servers[0]"],
			[[{ id: "a", type: "ami", url: "ftp://x", usernameEnv: "U", passwordEnv: "P" }], "servers[0].url"],
			[[{ id: "a", type: "ami", url: "https://x", passwordEnv: "P" }], "servers[0].usernameEnv"],
			[[{ id: "a", type: "ami", url: "https://x", usernameEnv: "U" }], "servers[0].passwordEnv"],
			[
				[{ id: "a", type: "ami", url: "https://x", usernameEnv: "U", passwordEnv: "P", tls: { insecure: "yes" } }],
				"servers[0].tls.insecure",
			],
			[
				[
					{ id: "a", type: "vnc", url: "ws://x" },
					{ id: "a", type: "vnc", url: "ws://y" },
				],
				'servers[1].id: duplicate id "a"',
			],
		];
		for (const [servers, expected] of cases) {
			const message = bad(servers, { U: "u", P: "p" });
			expect(message).toContain(FILE);
			expect(message).toContain(expected);
		}
	});

	test("a secret named by an unset variable is a clear error", () => {
		expect(bad([{ id: "a", type: "vnc", host: "h", passwordEnv: "NOPE_PW" }])).toContain(
			"servers[0].passwordEnv: environment variable NOPE_PW is not set",
		);
	});

	test("not JSON, not an object, no file: clear errors naming the file", () => {
		expect(() => parseStaticConfig("{", FILE)).toThrow(/ikvm.config.json: not valid JSON/);
		expect(() => parseStaticConfig("[]", FILE)).toThrow(/ikvm.config.json/);
		expect(() => loadStaticConfig("/nonexistent/x.json")).toThrow(
			/\/nonexistent\/x.json: cannot read the file \(ENOENT\)/,
		);
	});

	test("./ikvm.config.json is used when present and no path is given", () => {
		const dir = mkdtempSync(join(tmpdir(), "ikvm-cfg-"));
		expect(findConfigFile(undefined, dir)).toBeUndefined();
		writeFileSync(join(dir, FILE), "{}");
		expect(findConfigFile(undefined, dir)).toBe(join(dir, FILE));
		expect(findConfigFile("other.json", dir)).toBe(join(dir, "other.json"));
	});

	test("configured servers are listed with provider vnc / ami", async () => {
		const file = writeTargets([
			{ id: "lab-vm", name: "Lab VM", type: "vnc", url: "ws://127.0.0.1:5701" },
			{ id: "rack-7", type: "ami", url: "https://192.0.2.7", username: "admin", password: "inline-pw" },
		]);
		const c = await inMemoryClient({}, { IKVM_CONFIG: file });
		try {
			const r = (await c.client.callTool({ name: "list_servers", arguments: {} })) as CallToolResult;
			expect(JSON.parse(texts(r)[0] ?? "")).toEqual([
				{ id: "lab-vm", name: "Lab VM", provider: "vnc", datacenter: null, ip: "127.0.0.1" },
				{ id: "rack-7", name: "rack-7", provider: "ami", datacenter: null, ip: "192.0.2.7" },
			]);
			expect(JSON.stringify(r)).not.toContain("inline-pw");
		} finally {
			await c.close();
		}
	});

	test("a bad file stops start-up with the file and field", async () => {
		const file = writeTargets([{ id: "x", type: "vnc", host: "h", port: 0 }], tempDir(), "bad.json");
		await expect(createApp(loadConfig({ IKVM_CONFIG: file }))).rejects.toThrow(`${file}: servers[0].port`);
	});
});

describe("tls per target type", () => {
	test("a BMC type takes tls.ca as a file read when connecting, and refuses a pin it could not check", () => {
		const [smc] = parseStaticConfig(
			JSON.stringify({
				servers: [
					{
						id: "smc",
						type: "supermicro",
						url: "https://10.0.0.9",
						username: "ADMIN",
						password: "pw-123456",
						tls: { ca: "/etc/ca.pem" },
					},
				],
			}),
			"t.json",
			{},
		);
		expect(smc?.target.tls).toEqual({ caFile: "/etc/ca.pem" });
		for (const type of ["ami", "supermicro", "openbmc"]) {
			expect(() =>
				parseStaticConfig(
					JSON.stringify({
						servers: [
							{
								id: "b",
								type,
								url: "https://10.0.0.9",
								username: "u",
								password: "pw-123456",
								tls: { fingerprint256: "AB" },
							},
						],
					}),
					"t.json",
					{},
				),
			).toThrow(/servers\[0\]\.tls\.fingerprint256: is supported for vnc/);
		}
	});
});
