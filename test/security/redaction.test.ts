/**
 * Redaction must hide secrets without garbling what the user needs to read back: server ids,
 * names and the user's own input stay whole even when a (poor) password occurs inside them,
 * and such a password is reported at start-up.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { sampleConsolePicture } from "../../src/demo/console-picture.ts";
import { type RfbTestServer, startRfbServer } from "../../src/demo/rfb-server.ts";
import { configureLogging } from "../../src/log.ts";
import { clearSecretsForTest, redact, registerPublic, registerSecret, weakSecretReason } from "../../src/redact.ts";
import { inMemoryClient, texts } from "../support/mcp.ts";
import { writeTargets } from "../support/targets-file.ts";

afterEach(() => {
	configureLogging({ level: "silent", sink: (line) => process.stderr.write(`${line}\n`) });
});

describe("redact", () => {
	afterAll(clearSecretsForTest);

	test("a public id containing a secret stays whole; the secret elsewhere is still hidden", () => {
		clearSecretsForTest();
		registerSecret("admin");
		registerPublic("vm-admin-pw");
		expect(redact('server "vm-admin-pw" password admin')).toBe('server "vm-admin-pw" password [REDACTED]');
	});

	test("a public value that is the secret, or part of it, protects nothing", () => {
		clearSecretsForTest();
		registerSecret("hunter22");
		registerPublic("hunter22");
		registerPublic("hunt");
		expect(redact("hunter22 and hunter22x")).toBe("[REDACTED] and [REDACTED]x");
	});

	test("a secret that straddles a public string is hidden whole", () => {
		clearSecretsForTest();
		registerSecret("pw-9Zq");
		registerPublic("vm-admin-pw");
		expect(redact("vm-admin-pw-9Zq")).not.toContain("9Zq");
	});

	test("the caller's own input is kept as sent", () => {
		clearSecretsForTest();
		registerSecret("login");
		expect(redact('Unknown server "my-login-box"', ["my-login-box"])).toBe('Unknown server "my-login-box"');
		expect(redact('Unknown server "my-login-box"')).toBe('Unknown server "my-[REDACTED]-box"');
	});

	test("weak secrets are named, strong ones are not", () => {
		expect(weakSecretReason("admin")).toContain("common word");
		expect(weakSecretReason("Login")).toContain("common word");
		expect(weakSecretReason("x7!")).toContain("too short to be hidden");
		expect(weakSecretReason("k3y9q")).toContain("shorter than 8");
		expect(weakSecretReason("vR7#kq2!Lm")).toBeUndefined();
	});
});

describe("through MCP, with a VNC password that is a common word", () => {
	let vnc: RfbTestServer;
	beforeAll(async () => {
		vnc = await startRfbServer({ image: sampleConsolePicture(160, 96), security: "vnc", password: "admin" });
	});
	afterAll(async () => {
		await vnc.close();
		clearSecretsForTest();
	});

	test("list_servers shows the id whole, the id works, and start-up warned about the password", async () => {
		const lines: string[] = [];
		configureLogging({ level: "debug", sink: (line) => lines.push(line) });
		const file = writeTargets([
			{ id: "vm-admin-pw", name: "admin box", type: "vnc", url: vnc.wsUrl, passwordEnv: "WEAK_VNC_PASS" },
		]);
		// The targets file's variables come from the process environment.
		process.env.WEAK_VNC_PASS = "admin";
		const c = await inMemoryClient({}, { IKVM_CONFIG: file });
		try {
			const list = (await c.client.callTool({ name: "list_servers", arguments: {} })) as CallToolResult;
			const listed = JSON.parse(texts(list)[0] ?? "[]") as Array<{ id: string; name: string }>;
			expect(listed[0]?.id).toBe("vm-admin-pw");
			expect(listed[0]?.name).toBe("admin box");
			expect(JSON.stringify(list.structuredContent)).toContain("vm-admin-pw");
			const shot = (await c.client.callTool({
				name: "get_screenshot",
				arguments: { serverId: "vm-admin-pw", raw: true },
			})) as CallToolResult;
			expect(shot.isError ? texts(shot).join() : "ok").toBe("ok");
			expect(texts(shot).join("\n")).toContain("vm-admin-pw");
			const unknown = (await c.client.callTool({
				name: "get_screenshot",
				arguments: { serverId: "admin-typo" },
			})) as CallToolResult;
			expect(texts(unknown)[0]).toContain('"admin-typo"');
			const warning = lines.find((l) => l.includes("WEAK_VNC_PASS is weak"));
			expect(warning).toContain("common word");
			expect(warning).toContain("vm-admin-pw");
		} finally {
			await c.close();
			delete process.env.WEAK_VNC_PASS;
		}
	});
});

describe("secrets written escaped", () => {
	test("a secret with quotes, backslashes or control characters is masked in its JSON-escaped form too", () => {
		const secret = 'Pa"ss\\word9\tx';
		registerSecret(secret);
		const logged = JSON.stringify({ error: `login failed for ${secret}` });
		expect(redact(logged)).not.toContain("ss\\\\word9");
		expect(redact(logged)).toContain("[REDACTED]");
	});

	test("BMC session cookies and headers are masked before their values are known", () => {
		const text = "Cookie: SID=abcdef123456; X-Auth-Token: 0123456789abcdef BMCWEB-SESSION=zzzz9999 ?sid=qqqq1111";
		const out = redact(text);
		for (const value of ["abcdef123456", "0123456789abcdef", "zzzz9999", "qqqq1111"]) expect(out).not.toContain(value);
	});
});
