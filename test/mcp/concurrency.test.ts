/**
 * Concurrency through MCP, with the real console paths against the mock BMC
 * and the RFB test server: single flight per server, the
 * MAX_CONCURRENT_CONSOLES cap, and the BUSY error after CONSOLE_QUEUE_SECONDS.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { encodeAst2500Frame } from "../../src/demo/ast2500-encoder.ts";
import { sampleConsolePicture } from "../../src/demo/console-picture.ts";
import { startRfbServer } from "../../src/demo/rfb-server.ts";
import type { StaticServer } from "../../src/providers/static/config.ts";
import { StaticProvider } from "../../src/providers/static/provider.ts";
import { MockBmc, type MockBmcOptions, mockBmcLogin } from "../mocks/bmc.ts";
import { inMemoryClient, texts } from "../support/mcp.ts";

let cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
	for (const c of cleanup.reverse()) await c().catch(() => {});
	cleanup = [];
});

const picture = sampleConsolePicture(320, 200);
const frame = encodeAst2500Frame(picture);

async function bmc(options: Partial<MockBmcOptions> = {}): Promise<MockBmc> {
	const b = await new MockBmc({ frames: () => frame, ...options }).start();
	cleanup.push(() => b.stop());
	return b;
}

function amiServer(id: string, b: MockBmc): StaticServer {
	return {
		id,
		name: id,
		type: "ami",
		ip: "127.0.0.1",
		target: mockBmcLogin(b),
	};
}

async function mcp(servers: StaticServer[], env: Record<string, string> = {}) {
	const c = await inMemoryClient({ providers: () => [new StaticProvider(servers)] }, env);
	cleanup.push(c.close);
	return c;
}

type Client = Awaited<ReturnType<typeof mcp>>["client"];

async function shot(client: Client, serverId: string): Promise<CallToolResult> {
	return (await client.callTool({ name: "get_screenshot", arguments: { serverId } })) as CallToolResult;
}

function outcome(r: CallToolResult): string {
	return r.isError ? (texts(r)[0] ?? "error") : "ok";
}

describe("concurrent get_screenshot calls through MCP", () => {
	test("calls for one server share one capture (AMI: one login, one GET_FULL_SCREEN; VNC: one update request)", async () => {
		const b = await bmc({ frameDelayMs: 200 });
		const vnc = await startRfbServer({ image: picture });
		cleanup.push(() => vnc.close());
		const { client } = await mcp([
			amiServer("rack", b),
			{ id: "vm", name: "vm", type: "vnc", ip: "127.0.0.1", target: { kind: "vnc", url: vnc.wsUrl } },
		]);

		const cold = await Promise.all([...Array(5)].flatMap(() => [shot(client, "rack"), shot(client, "vm")]));
		expect(cold.map(outcome)).toEqual(Array(10).fill("ok"));
		expect(b.stats).toMatchObject({ logins: 1, kvmConnections: 1, fullScreenRequests: 1 });
		expect(vnc.connections).toBe(1);
		expect(vnc.lastClient?.updateRequests).toBe(1);

		// Warm: again one round trip for five callers.
		const warm = await Promise.all([...Array(5)].flatMap(() => [shot(client, "rack"), shot(client, "vm")]));
		expect(warm.map(outcome)).toEqual(Array(10).fill("ok"));
		expect(b.stats).toMatchObject({ logins: 1, kvmConnections: 1, fullScreenRequests: 2 });
		expect(vnc.lastClient?.updateRequests).toBe(2);
	});

	test("different servers run in parallel, at most MAX_CONCURRENT_CONSOLES at once", async () => {
		const bmcs = await Promise.all([...Array(4)].map(() => bmc({ frameDelayMs: 300 })));
		const { client, app } = await mcp(
			bmcs.map((b, i) => amiServer(`rack-${i}`, b)),
			{ MAX_CONCURRENT_CONSOLES: "2" },
		);
		let peak = 0;
		const sampler = setInterval(() => {
			peak = Math.max(peak, app.consoles.activeCaptures);
		}, 5);
		const started = performance.now();
		const results = await Promise.all(bmcs.map((_, i) => shot(client, `rack-${i}`)));
		const ms = performance.now() - started;
		clearInterval(sampler);
		expect(results.map(outcome)).toEqual(Array(4).fill("ok"));
		expect(peak).toBe(2);
		// Two rounds of two, not all four at once.
		expect(ms).toBeGreaterThan(600);
		for (const b of bmcs) expect(b.stats.fullScreenRequests).toBe(1);
	});

	test("a call that waits longer than CONSOLE_QUEUE_SECONDS for a slot gets a clear BUSY error", async () => {
		const slow = await bmc({ frameDelayMs: 2500 });
		const other = await bmc();
		const { client, app } = await mcp([amiServer("slow", slow), amiServer("other", other)], {
			MAX_CONCURRENT_CONSOLES: "1",
			CONSOLE_QUEUE_SECONDS: "1",
		});
		const first = shot(client, "slow");
		while (app.consoles.activeCaptures === 0) await Bun.sleep(5);
		const started = performance.now();
		const queued = await shot(client, "other");
		const waited = performance.now() - started;
		expect(queued.isError).toBe(true);
		expect(texts(queued)[0]).toBe(
			"Error (BUSY): All 1 console slots are busy. [stage: queue] Try again shortly, or raise MAX_CONCURRENT_CONSOLES.",
		);
		expect(waited).toBeGreaterThan(900);
		expect(waited).toBeLessThan(2400);
		// It never reached the BMC, and the slot holder is unaffected.
		expect(other.stats.logins).toBe(0);
		expect(outcome(await first)).toBe("ok");
		expect(outcome(await shot(client, "other"))).toBe("ok");
	});
});
