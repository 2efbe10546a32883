/**
 * The whole AMI path with real AST2500 frames: MCP client → get_screenshot →
 * provider → ConsolePool → openConsole → BMC session, KVM token, IVTP over WSS
 * against the mock BMC → our decoder → PNG. Pixels are compared with the
 * picture the encoder was given.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { Ast2500Decoder } from "../../src/aspeed/index.ts";
import type { ConsoleTarget } from "../../src/console/types.ts";
import { Ast2500StreamEncoder, encodeAst2500Frame, type RgbaPicture } from "../../src/demo/ast2500-encoder.ts";
import { sampleConsolePicture } from "../../src/demo/console-picture.ts";
import { OvhProvider } from "../../src/providers/ovh/provider.ts";
import { frameFileSource, MockBmc, type MockBmcOptions, mockBmcLogin } from "../mocks/bmc.ts";
import { MockOvhApi } from "../mocks/ovh-api.ts";
import { runCli } from "../support/cli.ts";
import { imagePixels, inMemoryClient, texts } from "../support/mcp.ts";
import { ovhEnv, ovhSettings } from "../support/mock-ovh.ts";
import { psnr, readPng } from "../support/pixels.ts";
import { PoolProvider } from "../support/pool-provider.ts";
import { amiLoginServer, tempDir, writeTargets } from "../support/targets-file.ts";

let cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
	for (const c of cleanup.reverse()) await c();
	cleanup = [];
});

async function mockBmc(options: MockBmcOptions): Promise<MockBmc> {
	const bmc = await new MockBmc(options).start();
	cleanup.push(() => bmc.stop());
	return bmc;
}

/** An MCP client whose one provider captures the given targets through the real pool and openConsole. */
async function mcpWith(targets: Record<string, () => ConsoleTarget>, env: Record<string, string> = {}) {
	const c = await inMemoryClient(
		{
			providers: () => [
				new PoolProvider(Object.fromEntries(Object.entries(targets).map(([id, make]) => [id, make()]))),
			],
		},
		env,
	);
	cleanup.push(c.close);
	return c;
}

async function screenshot(
	client: Awaited<ReturnType<typeof mcpWith>>["client"],
	serverId: string,
): Promise<CallToolResult> {
	return (await client.callTool({ name: "get_screenshot", arguments: { serverId, raw: true } })) as CallToolResult;
}

/** A picture with smooth colour gradients and a box: every block needs DCT, none is a VQ block. */
function gradientPicture(width: number, height: number): RgbaPicture {
	const rgba = new Uint8Array(width * height * 4);
	for (let y = 0; y < height; y++) {
		for (let x = 0; x < width; x++) {
			const i = (y * width + x) * 4;
			const box = x > width / 4 && x < width / 2 && y > height / 4 && y < height / 2;
			rgba[i] = box ? 230 : Math.round((x / width) * 200) + 20;
			rgba[i + 1] = box ? 40 : Math.round((y / height) * 180) + 30;
			rgba[i + 2] = Math.round(((x + y) / (width + height)) * 160) + 40;
			rgba[i + 3] = 255;
		}
	}
	return { width, height, rgba };
}

describe("get_screenshot over the AMI path (MCP → pool → openConsole → mock BMC → AST2500 decoder)", () => {
	test("a 1024x768 console screen (VQ blocks) comes back pixel for pixel; a warm capture is one GET_FULL_SCREEN", async () => {
		const picture = sampleConsolePicture(1024, 768);
		const frame = encodeAst2500Frame(picture);
		const bmc = await mockBmc({ frames: () => frame, wsChunking: "random", fragmentBytes: [500, 20_000], seed: 3 });
		const { client } = await mcpWith({
			"bmc-1": () => ({ kind: "ami-viewer", viewerUrl: bmc.viewerUrl(), tls: { insecure: true } }),
		});
		const result = await screenshot(client, "bmc-1");
		expect(result.isError).toBeFalsy();
		const image = await imagePixels(result);
		expect([image.width, image.height]).toEqual([1024, 768]);
		expect(psnr(new Uint8Array(image.rgba), picture.rgba)).toBe(Number.POSITIVE_INFINITY);

		const again = await screenshot(client, "bmc-1");
		expect(again.isError).toBeFalsy();
		expect(bmc.stats.kvmConnections).toBe(1);
		expect(bmc.stats.fullScreenRequests).toBe(2);
		expect(texts(again).join(" ")).toContain("1024x768");
	});

	for (const mode of ["444", "420"] as const) {
		test(`DCT frames (${mode === "444" ? "4:4:4" : "4:2:0"}) decode within 40 dB PSNR of the source`, async () => {
			const picture = gradientPicture(640, 480);
			const frame = encodeAst2500Frame(picture, { mode, vq: false });
			const bmc = await mockBmc({ frames: () => frame, subprotocol: "base64", fragmentBytes: 4096 });
			const { client } = await mcpWith({
				gradient: () => ({ kind: "ami-viewer", viewerUrl: bmc.viewerUrl(), tls: { insecure: true } }),
			});
			const result = await screenshot(client, "gradient");
			expect(result.isError).toBeFalsy();
			const image = await imagePixels(result);
			expect(psnr(new Uint8Array(image.rgba), picture.rgba)).toBeGreaterThanOrEqual(40);
		});
	}

	test("direct login (ami-login): partial updates apply over the previous picture; the session is logged out at shutdown", async () => {
		const first = sampleConsolePicture(800, 600);
		const second = gradientPicture(800, 600);
		second.rgba.set(first.rgba.subarray(0, 800 * 296 * 4));
		let current = first;
		const encoder = new Ast2500StreamEncoder({ vq: true });
		// Every answer after the first carries only the blocks that changed, as a BMC's updates do.
		const bmc = await mockBmc({ frames: () => encoder.encode(current) });
		const c = await mcpWith({
			lab: () => mockBmcLogin(bmc),
		});
		const one = await imagePixels(await screenshot(c.client, "lab"));
		expect(psnr(new Uint8Array(one.rgba), first.rgba)).toBe(Number.POSITIVE_INFINITY);
		current = second;
		const two = await imagePixels(await screenshot(c.client, "lab"));
		expect(psnr(new Uint8Array(two.rgba), second.rgba)).toBeGreaterThanOrEqual(40);
		// The top 37 block rows did not change, so they were not resent: they must be the first picture's, exactly.
		expect(
			Buffer.compare(two.rgba.subarray(0, 800 * 296 * 4), Buffer.from(first.rgba.subarray(0, 800 * 296 * 4))),
		).toBe(0);
		expect(bmc.stats.fullScreenRequests).toBe(2);
		expect(bmc.stats.webSessions).toBe(1);
		await c.close();
		cleanup = cleanup.filter((f) => f !== c.close);
		expect(bmc.stats.logouts).toBe(1);
		expect(bmc.stats.webSessions).toBe(0);
		const until = performance.now() + 1000;
		while (bmc.stats.kvmOpen > 0 && performance.now() < until) await Bun.sleep(5);
		expect(bmc.stats.kvmOpen).toBe(0);
	});

	test("a shared test vector arrives intact: the same pixels as decoding the file directly", async () => {
		const file = join(import.meta.dir, "../fixtures/ast2500/v4_console_444_q7.bin");
		const frame = new Uint8Array(await Bun.file(file).arrayBuffer());
		const direct = new Ast2500Decoder().decode(frame);
		const bmc = await mockBmc({ frames: frameFileSource(frame), fragmentBytes: 700, wsChunking: "random" });
		const { client } = await mcpWith({
			v4: () => ({ kind: "ami-viewer", viewerUrl: bmc.viewerUrl(), tls: { insecure: true } }),
		});
		const image = await imagePixels(await screenshot(client, "v4"));
		expect([image.width, image.height]).toEqual([160, 96]);
		expect(psnr(new Uint8Array(image.rgba), direct.rgba)).toBe(Number.POSITIVE_INFINITY);
	});

	test("errors reach the MCP client as clear tool errors naming the stage", async () => {
		const bmc = await mockBmc({ frames: () => encodeAst2500Frame(sampleConsolePicture(64, 32)), poweredOn: false });
		const { client } = await mcpWith({
			off: () => ({ kind: "ami-viewer", viewerUrl: bmc.viewerUrl(), tls: { insecure: true } }),
			pw: () => ({
				kind: "ami-login",
				url: bmc.origin,
				username: "admin",
				password: "wrong-pw-123",
				tls: { insecure: true },
			}),
		});
		const off = await screenshot(client, "off");
		expect(off.isError).toBe(true);
		expect(texts(off)[0]).toMatch(/POWERED_OFF.*powered off.*\[stage: handshake\]/);
		const pw = await screenshot(client, "pw");
		expect(texts(pw)[0]).toMatch(/AUTH_FAILED.*wrong username or password.*\[stage: bmc-login\]/);
		expect(texts(pw)[0]).not.toContain("wrong-pw-123");
	});
});

describe("OVH → BMC: the full path from the OVH API to pixels", () => {
	test("list_servers then get_screenshot: signed OVH API, IPMI access task, viewer URL, KVM, decoder", async () => {
		const picture = sampleConsolePicture(720, 400);
		const frame = encodeAst2500Frame(picture);
		const bmc = await mockBmc({ frames: () => frame, cookieDelivery: "token-param" });
		const ovh = await MockOvhApi.start({ taskStepMs: 20 });
		cleanup.push(() => ovh.stop());
		const server = "ns3001234.ip-51-68-1.eu";
		ovh.setViewerUrl(server, () => bmc.viewerUrl());
		const env = ovhEnv(ovh);
		const c = await inMemoryClient(
			{
				providers: () => [
					new OvhProvider(ovhSettings(ovh), {
						api: { retryBaseMs: 5 },
						access: { pollIntervalMs: 20, valueRetryMs: 20 },
					}),
				],
			},
			env,
		);
		cleanup.push(c.close);
		const list = (await c.client.callTool({ name: "list_servers", arguments: {} })) as CallToolResult;
		expect(texts(list)[0]).toContain(server);
		const result = (await c.client.callTool(
			{ name: "get_screenshot", arguments: { serverId: server, raw: true } },
			undefined,
			{ timeout: 30_000 },
		)) as CallToolResult;
		expect(result.isError).toBeFalsy();
		const image = await imagePixels(result);
		expect(psnr(new Uint8Array(image.rgba), picture.rgba)).toBe(Number.POSITIVE_INFINITY);
		expect(bmc.stats.kvmTokensIssued).toBe(1);
	});
});

describe('configured AMI targets (ikvm.config.json, type "ami")', () => {
	test("direct login from the config file: listed as provider ami, screenshot, wrong password, clean logout", async () => {
		const picture = sampleConsolePicture(640, 480);
		const frame = encodeAst2500Frame(picture);
		const bmc = await mockBmc({ frames: () => frame });
		const server = { type: "ami", url: bmc.origin, usernameEnv: "KVM_E2E_BMC_USER", tls: { insecure: true } };
		const file = writeTargets(
			[
				{ id: "rack-7", name: "Rack 7", passwordEnv: "KVM_E2E_BMC_PASS", ...server },
				{ id: "rack-8", passwordEnv: "KVM_E2E_BMC_WRONG", ...server },
			],
			tempDir(),
			"ikvm.config.json",
		);
		process.env.KVM_E2E_BMC_USER = bmc.username;
		process.env.KVM_E2E_BMC_PASS = bmc.password;
		process.env.KVM_E2E_BMC_WRONG = "not-the-password";
		cleanup.push(async () => {
			delete process.env.KVM_E2E_BMC_USER;
			delete process.env.KVM_E2E_BMC_PASS;
			delete process.env.KVM_E2E_BMC_WRONG;
		});
		const c = await inMemoryClient({}, { IKVM_CONFIG: file });
		const list = (await c.client.callTool({ name: "list_servers", arguments: {} })) as CallToolResult;
		const servers = JSON.parse(texts(list)[0] ?? "[]") as Array<{ id: string; provider: string }>;
		expect(servers.map((s) => [s.id, s.provider])).toEqual([
			["rack-7", "ami"],
			["rack-8", "ami"],
		]);
		const image = await imagePixels(await screenshot(c.client, "rack-7"));
		expect(psnr(new Uint8Array(image.rgba), picture.rgba)).toBe(Number.POSITIVE_INFINITY);
		const wrong = await screenshot(c.client, "rack-8");
		expect(wrong.isError).toBe(true);
		expect(texts(wrong)[0]).toMatch(/wrong username or password/);
		expect(texts(wrong)[0]).not.toContain("not-the-password");
		expect(bmc.stats).toMatchObject({ logins: 1, failedLogins: 1, webSessions: 1 });
		await c.close();
		expect(bmc.stats).toMatchObject({ logouts: 1, webSessions: 0 });
	});
});

describe("CLI: ikvm-mcp screenshot of a configured AMI BMC (subprocess)", () => {
	test("writes the console PNG, progress on stderr, no secret anywhere, the BMC session logged out", async () => {
		const picture = sampleConsolePicture(320, 240);
		const bmc = await mockBmc({ frames: () => encodeAst2500Frame(picture) });
		const dir = tempDir();
		const file = writeTargets([amiLoginServer("rack-7", bmc, "BMC_PASS")], dir);
		const out = join(dir, "shot.png");
		const { stdout, stderr, code } = await runCli(["screenshot", "rack-7", "--raw", "-o", out, "--config", file], {
			BMC_PASS: bmc.password,
		});
		expect(code).toBe(0);
		expect(stdout).toBe("");
		expect(stderr).not.toContain(bmc.password);
		for (const stage of ["bmc-login", "ws-connect", "handshake", "first-frame"]) expect(stderr).toContain(`${stage}:`);
		const image = await readPng(out);
		expect(psnr(image.rgba, picture.rgba)).toBe(Number.POSITIVE_INFINITY);
		expect(bmc.stats).toMatchObject({ logins: 1, logouts: 1, webSessions: 0, kvmSessions: 0 });
	});
});
