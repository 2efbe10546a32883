import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startRfbServer } from "../../src/demo/rfb-server.ts";
import { MockBmc } from "../mocks/bmc.ts";
import { MOCK_CONSUMER_KEY, MockOvhApi } from "../mocks/ovh-api.ts";
import { runCli } from "../support/cli.ts";
import { ovhEnv } from "../support/mock-ovh.ts";
import { tempDir, writeTargets } from "../support/targets-file.ts";

let mock: MockOvhApi;
const cwd = tempDir("ikvm-doctor-cli-");

beforeAll(async () => {
	mock = await MockOvhApi.start();
});
afterAll(async () => {
	await mock.stop();
});

function env(extra: Record<string, string> = {}): Record<string, string> {
	return ovhEnv(mock, extra);
}

describe("ikvm-mcp doctor (subprocess)", () => {
	test("all green: a checklist on stdout, one line per check, exit 0", async () => {
		const r = await runCli(["doctor"], env(), cwd);
		expect(r.code).toBe(0);
		const lines = r.stdout.trimEnd().split("\n");
		expect(lines[0]).toBe(`✓ environment: valid; OVH configured for ${mock.endpoint}`);
		expect(lines).toContain("✓ rule POST /dedicated/server/*/features/ipmi/access: granted");
		expect(lines).toContain("✓ server ns3001234.ip-51-68-1.eu: IPMI activated, HTML5 KVM supported");
		expect(lines.at(-1)).toMatch(/^\d+ passed, 0 failed, 1 skipped: ready for screenshots$/);
		for (const line of lines.filter(Boolean).slice(0, -1)) expect(line).toMatch(/^[✓–] /);
		expect(r.stderr).toBe("");
	});

	test("all green with a VNC server and an AMI BMC configured: every line ✓, exit 0, nothing left open", async () => {
		const vnc = await startRfbServer({
			image: { width: 8, height: 8, rgba: new Uint8Array(256) },
			security: "vnc",
			password: "vnc-pass-1",
		});
		const bmc = await new MockBmc({ frames: () => new Uint8Array(0) }).start();
		try {
			const file = writeTargets([
				{ id: "vm1", type: "vnc", url: vnc.wsUrl, passwordEnv: "VM1_PASSWORD" },
				{
					id: "bmc1",
					type: "ami",
					url: bmc.origin,
					usernameEnv: "BMC_USER",
					passwordEnv: "BMC_PASSWORD",
					tls: { insecure: true },
				},
			]);
			const r = await runCli(
				["doctor", "--config", file],
				env({ VM1_PASSWORD: "vnc-pass-1", BMC_USER: bmc.username, BMC_PASSWORD: bmc.password }),
				cwd,
			);
			expect(r.code).toBe(0);
			const lines = r.stdout.trimEnd().split("\n");
			expect(lines).toContain(`✓ targets file: ${file}: 2 targets (1 VNC, 1 AMI)`);
			expect(lines).toContainEqual(
				expect.stringMatching(
					new RegExp(
						`^✓ target vm1: vnc ${vnc.wsUrl.replace(/\/$/, "")}: RFB handshake complete, password accepted, \\d+x\\d+ frame received$`,
					),
				),
			);
			expect(lines).toContain(`✓ target bmc1: ami ${bmc.origin}: logged in as "${bmc.username}" and out again`);
			expect(lines.at(-1)).toMatch(/^\d+ passed, 0 failed: ready for screenshots$/);
			for (const line of lines.filter(Boolean).slice(0, -1)) expect(line).toMatch(/^✓ /);
			expect(bmc.stats.logins).toBe(1);
			expect(bmc.stats.webSessions).toBe(0);
			expect(bmc.stats.kvmConnections).toBe(0);
			expect(vnc.openConnections).toBe(0);
			expect(r.stdout + r.stderr).not.toContain("vnc-pass-1");
			expect(r.stdout + r.stderr).not.toContain(bmc.password);
		} finally {
			await vnc.close();
			await bmc.stop();
		}
	});

	test("a failure: ✗ with its fix below, no secret anywhere, exit 1", async () => {
		const r = await runCli(["doctor"], env({ OVH_APPLICATION_SECRET: "a-wrong-secret-42" }), cwd);
		expect(r.code).toBe(1);
		expect(r.stdout).toMatch(/^✗ OVH credentials: OVH rejected the request signature/m);
		expect(r.stdout).toMatch(/^ {4}fix: OVH_APPLICATION_SECRET is wrong/m);
		expect(r.stdout).toContain("– access rules: skipped: the OVH credentials are not valid");
		expect(r.stdout).toContain("1 failed");
		expect(r.stdout + r.stderr).not.toContain("a-wrong-secret-42");
		expect(r.stdout + r.stderr).not.toContain(MOCK_CONSUMER_KEY);
	});

	test("--help, and usage errors exit 2", async () => {
		const help = await runCli(["doctor", "--help"]);
		expect(help.code).toBe(0);
		expect(help.stdout).toContain("Usage: ikvm-mcp doctor");
		const bad = await runCli(["doctor", "now"]);
		expect(bad.code).toBe(2);
		expect(bad.stderr).toContain('unexpected argument "now"');
	});
});
