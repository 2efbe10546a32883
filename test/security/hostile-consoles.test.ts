/**
 * A hostile or broken console must never stall the server: while each attack
 * runs against the real server process, /health keeps answering within 1 s and
 * every tool call ends within its deadline with a clear answer.
 *
 * The attacks: a FramebufferUpdate of 65,535 DesktopSize rectangles, a ZRLE
 * rectangle whose zlib data inflates far beyond what the rectangle can hold, a
 * console the size of the framebuffer limit full of text, a regular expression
 * that backtracks for ever, and errors another try cannot fix (an untrusted
 * certificate, a protocol violation), which must end wait_for_screen at once.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { deflateSync } from "node:zlib";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { MOCK_BMC_CERT, MOCK_BMC_KEY } from "../../src/demo/mock-bmc-cert.ts";
import { type RfbTestServer, startRfbServer } from "../../src/demo/rfb-server.ts";
import { vga16 } from "../../src/text/fonts/vga.ts";
import { TEXT_LIMITS } from "../../src/text/index.ts";
import { renderConsole } from "../support/console-render.ts";
import { testFrame } from "../support/fake-provider.ts";
import { httpClient, texts } from "../support/mcp.ts";
import { type ServerProcess, spawnServer } from "../support/server-process.ts";
import { writeTargets } from "../support/targets-file.ts";

const TOOL_TIMEOUT_S = 8;

function update(rects: Array<{ w: number; h: number; encoding: number; body?: Uint8Array }>): Uint8Array {
	const size = 4 + rects.reduce((n, r) => n + 12 + (r.body?.length ?? 0), 0);
	const out = new Uint8Array(size);
	const v = new DataView(out.buffer);
	v.setUint8(0, 0);
	v.setUint16(2, rects.length);
	let o = 4;
	for (const r of rects) {
		v.setUint16(o + 4, r.w);
		v.setUint16(o + 6, r.h);
		v.setInt32(o + 8, r.encoding);
		o += 12;
		if (r.body) {
			out.set(r.body, o);
			o += r.body.length;
		}
	}
	return out;
}

/** 65,535 DesktopSize pseudo-rectangles alternating between two sizes within the limits. */
function desktopSizeStorm(): Uint8Array {
	return update(
		Array.from({ length: 65_535 }, (_, i) => ({ w: i % 2 ? 4095 : 4096, h: i % 2 ? 2159 : 2160, encoding: -223 })),
	);
}

/** One 1024x768 ZRLE rectangle whose zlib stream inflates to 256 MiB (the rectangle can hold 3 MiB). */
function zlibBomb(): Uint8Array {
	const zlib = deflateSync(Buffer.alloc(256 * 1024 * 1024), { level: 9 });
	const body = new Uint8Array(4 + zlib.length);
	new DataView(body.buffer).setUint32(0, zlib.length);
	body.set(zlib, 4);
	return update([{ w: 1024, h: 768, encoding: 16, body }]);
}

let servers: Record<string, RfbTestServer>;
let server: ServerProcess;
let client: Client;

/** Probes /health every 100 ms while `run` goes on; returns run's result and the slowest answer in ms. */
async function whileProbing<T>(run: () => Promise<T>): Promise<{ value: T; slowestMs: number; failures: number }> {
	let slowestMs = 0;
	let failures = 0;
	let done = false;
	const probing = (async () => {
		while (!done) {
			const started = performance.now();
			const ok = await fetch(`${server.origin}/health`, { signal: AbortSignal.timeout(2000) }).then(
				(r) => r.ok,
				() => false,
			);
			if (!ok) failures++;
			slowestMs = Math.max(slowestMs, performance.now() - started);
			await Bun.sleep(100);
		}
	})();
	try {
		const value = await run();
		return { value, slowestMs, failures };
	} finally {
		done = true;
		await probing;
	}
}

async function call(name: string, args: Record<string, unknown>): Promise<{ result: CallToolResult; ms: number }> {
	const started = performance.now();
	const result = (await client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 })) as CallToolResult;
	return { result, ms: performance.now() - started };
}

beforeAll(async () => {
	const cols = 512;
	const rows = 135;
	const wall = renderConsole(
		Array.from({ length: rows }, (_, r) => `${r} `.padEnd(cols, "lorem ipsum dolor sit amet ")),
		{ font: vga16, cols, rows, cellWidth: 8 },
	);
	servers = {
		storm: await startRfbServer({ image: testFrame(64, 48), encoding: "raw", inject: desktopSizeStorm() }),
		bomb: await startRfbServer({ image: testFrame(1024, 768), encoding: "raw", inject: zlibBomb() }),
		wall: await startRfbServer({ image: wall, encoding: "zrle" }),
		garbage: await startRfbServer({ image: testFrame(), encoding: "raw", inject: new Uint8Array([0xee, 1, 2, 3]) }),
		untrusted: await startRfbServer({
			image: testFrame(),
			encoding: "raw",
			tls: { cert: MOCK_BMC_CERT, key: MOCK_BMC_KEY },
		}),
	};
	const tcp = (id: string, s: RfbTestServer) => ({ id, type: "vnc", host: "127.0.0.1", port: s.tcpPort });
	const file = writeTargets([
		tcp("storm", servers.storm as RfbTestServer),
		tcp("bomb", servers.bomb as RfbTestServer),
		tcp("wall", servers.wall as RfbTestServer),
		tcp("garbage", servers.garbage as RfbTestServer),
		{ id: "untrusted", type: "vnc", url: (servers.untrusted as RfbTestServer).wsUrl.replace("ws://", "wss://") },
	]);
	server = await spawnServer({ IKVM_CONFIG: file, TOOL_TIMEOUT_SECONDS: String(TOOL_TIMEOUT_S), LOG_LEVEL: "warn" });
	client = await httpClient(server.url);
}, 60_000);

afterAll(async () => {
	await client?.close();
	await server?.stop();
	await Promise.all(Object.values(servers ?? {}).map((s) => s.close()));
});

describe("a hostile console never stalls the server", () => {
	test("a DesktopSize storm: /health answers within 1 s, the call ends within its deadline", async () => {
		const { value, slowestMs, failures } = await whileProbing(() => call("get_screenshot", { serverId: "storm" }));
		expect(failures).toBe(0);
		expect(slowestMs).toBeLessThan(1000);
		expect(value.ms).toBeLessThan(TOOL_TIMEOUT_S * 1000 + 2000);
		expect(value.result.isError).toBe(true);
	}, 60_000);

	test("a zlib bomb: refused as too large at once, /health answers within 1 s", async () => {
		const { value, slowestMs, failures } = await whileProbing(() => call("get_screenshot", { serverId: "bomb" }));
		expect(failures).toBe(0);
		expect(slowestMs).toBeLessThan(1000);
		expect(value.ms).toBeLessThan(TOOL_TIMEOUT_S * 1000);
		expect(value.result.isError).toBe(true);
		expect(texts(value.result)[0]).toMatch(/TOO_LARGE|larger than|inflate/i);
	}, 60_000);

	test("a 4096x2160 wall of text: the text is capped and says so, /health answers within 1 s", async () => {
		const { value, slowestMs, failures } = await whileProbing(() => call("get_screen_text", { serverId: "wall" }));
		expect(failures).toBe(0);
		expect(slowestMs).toBeLessThan(1000);
		expect(value.result.isError).toBeFalsy();
		const lines = (value.result.structuredContent as { lines: string[] }).lines;
		expect(lines.join("\n").length).toBeLessThanOrEqual(TEXT_LIMITS.chars);
		expect(texts(value.result)[0]).toContain("Truncated:");
	}, 60_000);

	test("a pattern that backtracks for ever is 'too expensive', and /health answers within 1 s", async () => {
		const { value, slowestMs, failures } = await whileProbing(() =>
			call("wait_for_screen", { serverId: "wall", text: "(.|\\s)*(.|\\s)*NEVER", timeoutSeconds: 60 }),
		);
		expect(failures).toBe(0);
		expect(slowestMs).toBeLessThan(1000);
		expect(value.result.isError).toBe(true);
		expect(texts(value.result)[0]).toContain("too expensive");
		expect(value.ms).toBeLessThan(40_000);
	}, 60_000);

	test("errors another try cannot fix end wait_for_screen at once, not after its timeout", async () => {
		for (const serverId of ["untrusted", "garbage"]) {
			const { value, slowestMs } = await whileProbing(() =>
				call("wait_for_screen", { serverId, text: "login:", timeoutSeconds: 60, intervalSeconds: 1 }),
			);
			expect(slowestMs).toBeLessThan(1000);
			expect(value.result.isError, serverId).toBe(true);
			expect(value.ms, serverId).toBeLessThan(10_000);
		}
		const untrusted = await call("wait_for_screen", { serverId: "untrusted", timeoutSeconds: 60 });
		expect(texts(untrusted.result)[0]).toContain("not trusted");
	}, 60_000);
});
