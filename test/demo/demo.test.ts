import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { DEMO_SCREENS, loadScreen } from "../../src/demo/screens.ts";
import { httpClient, imagePixels, texts } from "../support/mcp.ts";
import { psnr } from "../support/pixels.ts";
import { type ServerProcess, spawnServer } from "../support/server-process.ts";

let server: ServerProcess;
let client: Client;

beforeAll(async () => {
	server = await spawnServer({ LOG_LEVEL: "info" }, [], "demo");
	client = await httpClient(server.url);
}, 30_000);

afterAll(async () => {
	await client?.close();
	await server?.stop("SIGTERM");
});

async function shot(serverId: string): Promise<CallToolResult> {
	return (await client.callTool({ name: "get_screenshot", arguments: { serverId, raw: true } })) as CallToolResult;
}

describe("bun run demo", () => {
	test("lists the simulated OVH, VNC, AMI, Supermicro and Redfish servers, announcing demo mode", async () => {
		const r = (await client.callTool({ name: "list_servers", arguments: {} })) as CallToolResult;
		const servers = JSON.parse(texts(r)[0] ?? "") as Array<{ id: string; provider: string }>;
		expect(servers.map((s) => s.provider).sort()).toEqual([
			"ami",
			"ami",
			"ovh",
			"ovh",
			"redfish",
			"redfish",
			"supermicro",
			"supermicro",
			"vnc",
			"vnc",
		]);
		expect(texts(r).join("\n")).toContain("DEMO MODE");
		expect(server.stderr()).toContain("claude mcp add");
	});

	test("every screenshot runs the real pipeline and shows its screen", async () => {
		const cases: Array<[string, string, number]> = [
			// OVH: signed API, access task, viewer URL → BMC session → IVTP → AST2500 4:2:0
			["ns3001234.ip-51-68-1.eu", DEMO_SCREENS.kernelPanic, 30],
			// OVH → BMC, AST2500 4:4:4 with VQ blocks
			["ns3005678.ip-51-68-2.eu", DEMO_SCREENS.grubRescue, 30],
			// VNC over WebSocket, ZRLE: lossless
			["lab-vm", DEMO_SCREENS.login, Number.POSITIVE_INFINITY],
			// AMI BMC by direct login
			["rack-7", DEMO_SCREENS.uefiSetup, 30],
			// Supermicro BMC: CGI login, entry_value, ATEN RFB dialect over wss://, 0x57 4:2:0
			["smc-1", DEMO_SCREENS.kernelPanic, 30],
			// Redfish: Dell's screenshot action (a PNG: exact)
			["idrac-9", DEMO_SCREENS.kernelPanic, Number.POSITIVE_INFINITY],
			// Redfish: OpenBMC's /kvm/0 carrying RFB (ZRLE: exact)
			["openbmc-1", DEMO_SCREENS.grubRescue, Number.POSITIVE_INFINITY],
		];
		for (const [id, screen, minPsnr] of cases) {
			const r = await shot(id);
			expect(`${id}: ${r.isError ? texts(r)[0] : "ok"}`).toBe(`${id}: ok`);
			expect(texts(r).join("\n")).toContain("DEMO MODE");
			const got = await imagePixels(r);
			const want = await loadScreen(screen);
			expect([got.width, got.height]).toEqual([want.width, want.height]);
			expect(psnr(new Uint8Array(got.rgba), want.rgba)).toBeGreaterThanOrEqual(minPsnr);
		}
	}, 60_000);

	test("the demo has hands: typing into the shell machines over VNC and the BMC answers on screen", async () => {
		for (const serverId of ["shell-vm", "shell-bmc"]) {
			const keys = "root{Enter}demo{Enter}echo hello from the demo{Enter}";
			const r = (await client.callTool({
				name: "send_keys",
				arguments: { serverId, keys, settleMs: 300 },
			})) as CallToolResult;
			expect(`${serverId}: ${r.isError ? texts(r)[0] : "ok"}`).toBe(`${serverId}: ok`);
			const text = (await client.callTool({ name: "get_screen_text", arguments: { serverId } })) as CallToolResult;
			expect(texts(text).join("\n")).toContain("hello from the demo");
		}
	}, 60_000);

	test("SIGTERM stops the demo cleanly within 5 s", async () => {
		const { code, ms } = await server.stop("SIGTERM");
		expect(code).toBe(0);
		expect(ms).toBeLessThan(5000);
	});
});
