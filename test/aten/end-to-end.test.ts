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
import { writeTargets } from "../support/targets-file.ts";

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

describe("Supermicro targets file and control tools", () => {
	test("send_keys, mouse and power through MCP reach the mock BMC decoded exactly; power needs confirmation", async () => {
		const picture = sampleConsolePicture(640, 480);
		const bmc = await new MockSupermicroBmc({ frames: screenFrames(() => picture), allowPower: true }).start();
		cleanup.push(() => bmc.stop());
		process.env.SMC_E2E_PW = bmc.password;
		cleanup.push(async () => {
			delete process.env.SMC_E2E_PW;
		});
		const file = writeTargets([
			{
				id: "smc-1",
				type: "supermicro",
				url: bmc.origin,
				username: bmc.username,
				passwordEnv: "SMC_E2E_PW",
				tls: { insecure: true },
				control: true,
			},
		]);
		const c = await inMemoryClient({}, { IKVM_CONFIG: file, IKVM_CONTROL: "all" });
		cleanup.push(c.close);
		const call = async (name: string, args: Record<string, unknown>) =>
			(await c.client.callTool({ name, arguments: args })) as CallToolResult;

		// The tools' argument is called "then"; it is no promise.
		const none = { ["then" as string]: "none" };
		const typed = await call("send_keys", { serverId: "smc-1", keys: "Ab{Enter}", ...none });
		expect(typed.isError ? texts(typed)[0] : "ok").toBe("ok");
		expect(bmc.keyEvents).toEqual([
			{ usage: 0xe1, down: true },
			{ usage: 0x04, down: true },
			{ usage: 0x04, down: false },
			{ usage: 0xe1, down: false },
			{ usage: 0x05, down: true },
			{ usage: 0x05, down: false },
			{ usage: 0x28, down: true },
			{ usage: 0x28, down: false },
		]);
		expect(bmc.keysDown.size).toBe(0);

		const click = await call("mouse", { serverId: "smc-1", action: "click", x: 100, y: 50, space: "console", ...none });
		expect(click.isError ? texts(click)[0] : "ok").toBe("ok");
		expect(bmc.pointerEvents.some((e) => e.buttons === 1 && e.x === 100 && e.y === 50)).toBe(true);
		expect(bmc.buttons).toBe(0);

		const refused = await call("power", { serverId: "smc-1", action: "off" });
		expect(refused.isError).toBe(true);
		expect(bmc.powerActions).toEqual([]);
		const off = await call("power", { serverId: "smc-1", action: "off", confirm: "smc-1" });
		expect(off.isError ? texts(off)[0] : "ok").toBe("ok");
		expect(bmc.powerActions).toEqual([0]);
		expect(bmc.power).toBe("off");
		const shot = await call("get_screenshot", { serverId: "smc-1" });
		expect(shot.isError).toBe(true);
		expect(texts(shot).join(" ")).toContain("no signal");
		expect(bmc.violations).toEqual([]);
	});
});
