/**
 * SIGTERM / SIGINT on the real server process: warm KVM and VNC sessions are
 * closed, the BMC web login is logged out, a call in progress gets a clear
 * error, and the process exits 0 within 5 s.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { encodeAst2500Frame } from "../../src/demo/ast2500-encoder.ts";
import { sampleConsolePicture } from "../../src/demo/console-picture.ts";
import { type RfbTestServer, startRfbServer } from "../../src/demo/rfb-server.ts";
import { MockBmc } from "../mocks/bmc.ts";
import { httpClient, texts } from "../support/mcp.ts";
import { spawnServer } from "../support/server-process.ts";
import { amiLoginServer, writeTargets } from "../support/targets-file.ts";

let cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
	for (const c of cleanup.reverse()) await c().catch(() => {});
	cleanup = [];
});

/** Waits until `check` holds, for at most `ms`. */
async function eventually(check: () => boolean, ms = 2000): Promise<void> {
	const until = performance.now() + ms;
	while (!check() && performance.now() < until) await Bun.sleep(10);
}

async function backends() {
	const picture = sampleConsolePicture(320, 240);
	const bmc = await new MockBmc({ frames: () => encodeAst2500Frame(picture) }).start();
	const vnc = await startRfbServer({ image: picture });
	const stuck = await startRfbServer({ image: picture, stall: "frame" });
	cleanup.push(
		() => bmc.stop(),
		() => vnc.close(),
		() => stuck.close(),
	);
	const file = writeTargets([
		amiLoginServer("rack", bmc, "SHUTDOWN_BMC_PASS"),
		{ id: "vm", type: "vnc", url: vnc.wsUrl },
		{ id: "stuck", type: "vnc", host: "127.0.0.1", port: stuck.tcpPort },
	]);
	return { bmc, vnc, stuck, file };
}

function openConnections(...servers: RfbTestServer[]): number {
	return servers.reduce((n, s) => n + s.openConnections, 0);
}

describe("shutdown of the server process", () => {
	for (const signal of ["SIGTERM", "SIGINT"] as const) {
		test(`${signal}: sessions closed, BMC logged out, the call in progress answered, exit 0 within 5 s`, async () => {
			const { bmc, vnc, stuck, file } = await backends();
			const server = await spawnServer({
				IKVM_CONFIG: file,
				SHUTDOWN_BMC_PASS: bmc.password,
				LOG_LEVEL: "info",
			});
			cleanup.push(() => server.stop("SIGKILL"));
			const client = await httpClient(server.url);
			cleanup.push(() => client.close());

			for (const id of ["rack", "vm"]) {
				const r = (await client.callTool({ name: "get_screenshot", arguments: { serverId: id } })) as CallToolResult;
				expect(`${id}: ${r.isError ? texts(r)[0] : "ok"}`).toBe(`${id}: ok`);
			}
			// Warm: one KVM session and one web login on the BMC, one VNC connection.
			expect(bmc.stats).toMatchObject({ logins: 1, webSessions: 1, kvmSessions: 1, kvmOpen: 1, logouts: 0 });
			expect(vnc.openConnections).toBe(1);

			// A capture that is waiting for a frame when the signal comes.
			const inFlight = client
				.callTool({ name: "get_screenshot", arguments: { serverId: "stuck" } })
				.catch((error: Error) => error);
			await eventually(() => (stuck.lastClient?.updateRequests ?? 0) > 0, 5000);
			expect(stuck.lastClient?.updateRequests).toBe(1);

			const { code, ms } = await server.stop(signal);
			expect(code).toBe(0);
			expect(ms).toBeLessThan(5000);

			const answer = (await Promise.race([inFlight, Bun.sleep(3000).then(() => "no answer")])) as CallToolResult;
			expect(answer.isError).toBe(true);
			expect(texts(answer)[0]).toContain("Error (CANCELLED): ikvm-mcp is shutting down");

			// Everything released: the KVM session closed and the login ended with DELETE /api/session.
			await eventually(() => bmc.stats.kvmOpen === 0 && openConnections(vnc, stuck) === 0);
			expect(bmc.stats).toMatchObject({ logins: 1, logouts: 1, webSessions: 0, kvmSessions: 0, kvmOpen: 0 });
			expect(openConnections(vnc, stuck)).toBe(0);
			expect(server.stderr()).toContain(`${signal} received`);
		}, 30_000);
	}
});
