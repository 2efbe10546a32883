import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { DEMO_SCREENS, loadScreen } from "../../src/demo/screens.ts";
import { httpClient, imagePixels, texts } from "../support/mcp.ts";
import { psnr } from "../support/pixels.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
let proc: ReturnType<typeof Bun.spawn>;
let client: Client;
let stderr = "";

beforeAll(async () => {
	const port = 20000 + Math.floor(Math.random() * 20000);
	proc = Bun.spawn([process.execPath, "run", "demo"], {
		cwd: ROOT,
		env: { ...process.env, PORT: String(port), LOG_LEVEL: "info" },
		stdout: "pipe",
		stderr: "pipe",
	});
	void (async () => {
		for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) stderr += new TextDecoder().decode(chunk);
	})();
	for (let i = 0; i < 100; i++) {
		const ok = await fetch(`http://127.0.0.1:${port}/health`).then(
			(r) => r.ok,
			() => false,
		);
		if (ok) break;
		await Bun.sleep(100);
	}
	client = await httpClient(`http://127.0.0.1:${port}/mcp`);
}, 30_000);

afterAll(async () => {
	await client?.close();
	if (proc.exitCode === null) proc.kill("SIGTERM");
});

async function shot(serverId: string): Promise<CallToolResult> {
	return (await client.callTool({ name: "get_screenshot", arguments: { serverId, raw: true } })) as CallToolResult;
}

describe("bun run demo", () => {
	test("lists the simulated OVH, VNC and AMI servers, announcing demo mode", async () => {
		const r = (await client.callTool({ name: "list_servers", arguments: {} })) as CallToolResult;
		const servers = JSON.parse(texts(r)[0] ?? "") as Array<{ id: string; provider: string }>;
		expect(servers.map((s) => s.provider).sort()).toEqual(["ami", "ovh", "ovh", "vnc"]);
		expect(texts(r).join("\n")).toContain("DEMO MODE");
		expect(stderr).toContain("claude mcp add");
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

	test("SIGTERM stops the demo cleanly within 5 s", async () => {
		const t0 = Date.now();
		proc.kill("SIGTERM");
		const code = await proc.exited;
		expect(code).toBe(0);
		expect(Date.now() - t0).toBeLessThan(5000);
	});
});
