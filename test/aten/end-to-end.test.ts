/**
 * The Supermicro path through the whole server: MCP client → get_screenshot →
 * provider → ConsolePool → the driver list (atenDriver added as a driver) →
 * login, token, ATEN dialect over WSS against the mock Supermicro BMC → 0x57
 * decoder → PNG. Warm reuse across tool calls, and shutdown leaves no KVM
 * socket and no web session on the BMC.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { atenDriver } from "../../src/aten/driver.ts";
import type { SupermicroTarget } from "../../src/aten/types.ts";
import { sampleConsolePicture } from "../../src/demo/console-picture.ts";
import { MockSupermicroBmc, screenFrames } from "../../src/demo/supermicro-bmc.ts";
import { imagePixels, inMemoryClient, texts } from "../support/mcp.ts";
import { psnr } from "../support/pixels.ts";
import { PoolProvider } from "../support/pool-provider.ts";

let cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
	for (const c of cleanup.reverse()) await c();
	cleanup = [];
});

describe("Supermicro through MCP", () => {
	test("screenshots over a warm session; closing the server logs out after the socket is closed", async () => {
		const picture = sampleConsolePicture(640, 480);
		const bmc = await new MockSupermicroBmc({ frames: screenFrames(() => picture) }).start();
		cleanup.push(() => bmc.stop());
		const target: SupermicroTarget = {
			kind: "supermicro",
			url: bmc.origin,
			username: bmc.username,
			password: bmc.password,
			tls: { insecure: true },
		};
		const c = await inMemoryClient({ providers: () => [new PoolProvider({ "smc-1": target })], drivers: [atenDriver] });
		let closed = false;
		cleanup.push(async () => {
			if (!closed) await c.close();
		});
		for (let i = 0; i < 2; i++) {
			const r = (await c.client.callTool({
				name: "get_screenshot",
				arguments: { serverId: "smc-1", raw: true },
			})) as CallToolResult;
			expect(r.isError ? texts(r)[0] : "ok").toBe("ok");
			const got = await imagePixels(r);
			expect([got.width, got.height]).toEqual([640, 480]);
			expect(psnr(new Uint8Array(got.rgba), picture.rgba)).toBeGreaterThan(30);
		}
		expect(bmc.stats).toMatchObject({ logins: 1, kvmConnections: 1, kvmOpen: 1, webSessions: 1 });
		await c.close();
		closed = true;
		expect(bmc.stats).toMatchObject({
			kvmOpen: 0,
			kvmSessions: 0,
			webSessions: 0,
			logouts: 1,
			logoutsWithOpenConsole: 0,
		});
		expect(bmc.sideEffects).toEqual([]);
		expect(bmc.violations).toEqual([]);
	});
});
