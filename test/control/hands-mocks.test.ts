/**
 * The control tools against the real protocol peers the demo uses: the mock
 * AMI BMC (IUSB reports checked, key state kept, IVTP power) by direct login,
 * and an OVH server (mock OVH API, signed) whose viewer URL leads to a mock BMC.
 * Power reaches the BMC or OVH only after confirmation.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { MockBmc } from "../../src/demo/bmc.ts";
import type { DemoShell } from "../../src/demo/shell.ts";
import { startShellBmc } from "../../src/demo/shell-bmc.ts";
import { MockOvhApi, README_ACCESS_RULES } from "../mocks/ovh-api.ts";
import { inMemoryClient, texts } from "../support/mcp.ts";
import { ovhEnv } from "../support/mock-ovh.ts";
import { amiLoginServer, writeTargets } from "../support/targets-file.ts";
import { videoFrame } from "../support/video-frame.ts";

const OVH_SERVER = "ns3001234.ip-51-68-1.eu";

describe("control tools against the mock BMC and the mock OVH API", () => {
	let shellBmc: { bmc: MockBmc; shell: DemoShell };
	let ovhBmc: MockBmc;
	let ovh: MockOvhApi;
	let mcp: Awaited<ReturnType<typeof inMemoryClient>>;
	const call = async (name: string, args: Record<string, unknown>) =>
		(await mcp.client.callTool({ name, arguments: args })) as CallToolResult;

	beforeAll(async () => {
		shellBmc = await startShellBmc({ bootMs: 10 });
		ovhBmc = await new MockBmc({ frames: () => videoFrame(640, 480, new Uint8Array(8)) }).start();
		ovh = await MockOvhApi.start({
			taskStepMs: 50,
			rules: [...README_ACCESS_RULES, { method: "POST", path: "/dedicated/server/*/reboot" }],
			servers: [{ name: OVH_SERVER, viewerUrl: () => ovhBmc.viewerUrl() }],
		});
		process.env.HANDS_BMC_PW = shellBmc.bmc.password;
		const file = writeTargets([{ ...amiLoginServer("rack-1", shellBmc.bmc, "HANDS_BMC_PW"), control: true }]);
		mcp = await inMemoryClient(
			{},
			{ ...ovhEnv(ovh), IKVM_CONFIG: file, IKVM_CONTROL: "all", IKVM_CONTROL_SERVERS: OVH_SERVER },
		);
		while (shellBmc.shell.state !== "login") await Bun.sleep(10);
	});

	afterAll(async () => {
		await mcp?.close();
		shellBmc?.shell.stop();
		await Promise.allSettled([shellBmc?.bmc.stop(), ovhBmc?.stop(), ovh?.stop()]);
	});

	test("send_keys on an AMI BMC: the host's shell gets exactly the text, chords work, nothing stays held", async () => {
		const r = await call("send_keys", {
			serverId: "rack-1",
			keys: "root{Enter}pw{Enter}echo Hi {{there}}!{Enter}",
			then: "none",
		});
		expect(r.isError).toBeFalsy();
		expect(shellBmc.shell.screenLines()).toContain("Hi {there}!");
		const c = await call("send_keys", { serverId: "rack-1", keys: "abc{Ctrl+C}", then: "none" });
		expect(c.isError).toBeFalsy();
		expect(shellBmc.shell.screenLines().some((l) => l.endsWith("# abc^C"))).toBe(true);
		expect(shellBmc.bmc.held).toEqual({ modifiers: 0, keys: [], buttons: 0 });
		expect(shellBmc.bmc.stats.hidErrors).toEqual([]);
	});

	test("mouse click on an AMI BMC: an absolute report at the scaled position, then released", async () => {
		await call("get_screenshot", { serverId: "rack-1" });
		const r = await call("mouse", {
			serverId: "rack-1",
			action: "click",
			x: 320,
			y: 240,
			space: "console",
			then: "none",
		});
		expect(r.isError).toBeFalsy();
		const clicks = shellBmc.bmc.inputEvents.filter((e) => e.kind === "mouse" && e.buttons === 1);
		expect(clicks.length).toBeGreaterThan(0);
		expect(clicks.at(-1)).toMatchObject({ x: Math.round((320 * 32767) / 639), y: Math.round((240 * 32767) / 479) });
		expect(shellBmc.bmc.held.buttons).toBe(0);
	});

	test("power on the AMI BMC: nothing without confirmation, then the reset reaches the BMC", async () => {
		const refused = await call("power", { serverId: "rack-1", action: "reset" });
		expect(refused.isError).toBe(true);
		expect(shellBmc.bmc.stats.powerCommands).toEqual([]);
		const status = await call("power", { serverId: "rack-1", action: "status" });
		expect(texts(status).join("\n")).toContain("on");
		const done = await call("power", { serverId: "rack-1", action: "reset", confirm: "rack-1" });
		expect(done.isError).toBeFalsy();
		expect(shellBmc.bmc.stats.powerCommands).toEqual([3]);
	});

	test("OVH reset: refused without confirmation; confirmed, a signed POST …/reboot and its task", async () => {
		const refused = await call("power", { serverId: OVH_SERVER, action: "reset" });
		expect(refused.isError).toBe(true);
		expect(ovh.reboots).toEqual([]);
		const done = await call("power", { serverId: OVH_SERVER, action: "reset", confirm: OVH_SERVER });
		expect(done.isError).toBeFalsy();
		expect(texts(done).join("\n")).toContain("hardReboot");
		expect(ovh.reboots).toEqual([OVH_SERVER]);
		const post = ovh.requests.find((q) => q.method === "POST" && q.path.endsWith("/reboot"));
		expect(post?.headers["x-ovh-signature"]).toMatch(/^\$1\$[0-9a-f]{40}$/);
		expect(ovhBmc.stats.powerCommands).toEqual([]);
	});

	test("OVH power off goes through the server's BMC (its KVM session), confirmed", async () => {
		const done = await call("power", { serverId: OVH_SERVER, action: "off", confirm: OVH_SERVER });
		expect(done.isError).toBeFalsy();
		expect(ovhBmc.stats.powerCommands).toEqual([0]);
	});
});
