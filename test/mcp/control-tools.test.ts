import { afterEach, describe, expect, test } from "bun:test";
import { planKeys } from "../../src/input/resolve.ts";
import { type ControlHarness, controlHarness } from "../support/control.ts";
import { FakeProvider } from "../support/fake-provider.ts";
import { inMemoryClient, texts } from "../support/mcp.ts";

const READ_TOOLS = ["get_screen_text", "get_screenshot", "list_servers", "wait_for_screen"];
const SECRET = "Tr0ub4dor&3-horse";

let h: ControlHarness | undefined;
afterEach(async () => {
	await h?.close();
	h = undefined;
});

const names = async (harness: ControlHarness) => (await harness.client.listTools()).tools.map((t) => t.name).sort();

describe("read-only by default", () => {
	test("without IKVM_CONTROL tools/list has the read tools only", async () => {
		const c = await inMemoryClient({ providers: [new FakeProvider()] });
		try {
			expect((await c.client.listTools()).tools.map((t) => t.name).sort()).toEqual(READ_TOOLS);
			const call = await c.client.callTool({ name: "send_keys", arguments: { serverId: "srv-1", keys: "x" } });
			expect(call.isError).toBe(true);
		} finally {
			await c.close();
		}
	});

	test("IKVM_CONTROL lists what is registered; annotations are truthful", async () => {
		h = await controlHarness({ IKVM_CONTROL: "keyboard" });
		expect(await names(h)).toEqual([...READ_TOOLS, "send_keys"].sort());
		await h.close();
		h = await controlHarness({ IKVM_CONTROL: "all" });
		const { tools } = await h.client.listTools();
		expect(tools.map((t) => t.name).sort()).toEqual([...READ_TOOLS, "mouse", "power", "send_keys"].sort());
		const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
		for (const name of ["send_keys", "power"]) {
			expect(byName[name]?.annotations).toMatchObject({
				readOnlyHint: false,
				destructiveHint: true,
				openWorldHint: true,
			});
			expect(byName[name]?.description).toContain("get_screen_text");
		}
		expect(byName.mouse?.annotations).toMatchObject({ readOnlyHint: false, openWorldHint: true });
		expect(byName.mouse?.description).toContain("get_screenshot");
		expect(Object.keys(byName.send_keys?.inputSchema.properties ?? {}).sort()).toEqual(
			["confirm", "keys", "serverId", "settleMs", "then"].sort(),
		);
		expect(Object.keys(byName.mouse?.inputSchema.properties ?? {}).sort()).toEqual(
			["action", "amount", "button", "serverId", "space", "then", "x", "y"].sort(),
		);
		expect(Object.keys(byName.power?.inputSchema.properties ?? {}).sort()).toEqual(["action", "confirm", "serverId"]);
	});
});

describe("send_keys", () => {
	test("types the plan, shows the screen after, audits without the text", async () => {
		h = await controlHarness({ IKVM_CONTROL: "all" });
		const result = await h.call("send_keys", { serverId: "web-1", keys: "echo hello{Enter}", settleMs: 0 });
		expect(result.isError).toBeFalsy();
		const out = texts(result).join("\n");
		expect(out).toContain("Typed 11 keystrokes on web-1: <10 chars> Enter.");
		expect(out).toContain("# echo hello");
		const expected = planKeys("echo hello{Enter}", { layout: "us", secret: () => undefined }).steps;
		expect(h.records["web-1"]?.strokes).toEqual(expected.filter((s) => s.kind === "stroke") as never);
		const [line] = h.auditLines();
		expect(Object.keys(line ?? {}).sort()).toEqual(
			["action", "client", "keys", "outcome", "remote", "serverId", "session", "time", "tool"].sort(),
		);
		expect(line).toMatchObject({
			session: null,
			client: "control-test",
			remote: null,
			serverId: "web-1",
			tool: "send_keys",
			action: "type",
			keys: "<10 chars> Enter",
			outcome: "delivered",
		});
		expect(h.auditText()).not.toContain("hello");
		expect(h.logLines.join("\n")).not.toContain("hello");
		expect(h.logLines.some((l) => l.includes("[ikvm:audit] control call") && l.includes("<10 chars> Enter"))).toBe(
			true,
		);
	});

	test("a secret is typed, never shown: not in the audit, the log, the result or the screen text", async () => {
		h = await controlHarness({ IKVM_CONTROL: "keyboard", IKVM_SECRET_ROOT: SECRET });
		const result = await h.call("send_keys", { serverId: "web-1", keys: "pw {secret ROOT}{Enter}", settleMs: 0 });
		expect(result.isError).toBeFalsy();
		const typed = (h.records["web-1"]?.strokes ?? []).map((s) => String.fromCharCode(s.keysym)).join("");
		expect(typed).toContain(SECRET);
		const out = JSON.stringify(result);
		expect(out).not.toContain(SECRET);
		expect(out).toContain("[REDACTED]");
		expect(h.auditLines()[0]?.keys).toBe("<3 chars> <secret ROOT> Enter");
		expect(h.auditText()).not.toContain(SECRET);
		expect(h.logLines.join("\n")).not.toContain(SECRET);
		// Any tool returning the screen masks it too.
		const text = await h.call("get_screen_text", { serverId: "web-1" });
		expect(texts(text).join("\n")).toContain("# pw [REDACTED]");
		expect(JSON.stringify(text)).not.toContain(SECRET);
	});

	test("bad input is refused whole, with nothing sent", async () => {
		h = await controlHarness({ IKVM_CONTROL: "keyboard" });
		for (const [keys, message] of [
			["ls{Entr}", "Unknown key name at position 3 (did you mean {Enter}?)"],
			["{secret NOPE}", "Unknown secret NOPE"],
			["x".repeat(4097), "more than 4096 keystrokes"],
		] as const) {
			const result = await h.call("send_keys", { serverId: "web-1", keys, then: "none" });
			expect(result.isError).toBe(true);
			expect(texts(result)[0]).toContain("BAD_INPUT");
			expect(texts(result)[0]).toContain(message);
		}
		expect(h.records["web-1"]).toBeUndefined();
		expect(h.auditLines().map((l) => l.outcome)).toEqual(["error", "error", "error"]);
	});

	test("a target that does not allow keyboard: refused, naming the switch, nothing opened", async () => {
		h = await controlHarness({ IKVM_CONTROL: "all" });
		const result = await h.call("send_keys", { serverId: "db-1", keys: "reboot{Enter}" });
		expect(result.isError).toBe(true);
		expect(texts(result)[0]).toBe(
			'Error (ACCESS_DENIED): Keyboard control of "db-1" is not allowed: the control field of "db-1" does not allow keyboard on "db-1". ' +
				"Only the operator of ikvm-mcp can change this (see README, 'Control'). Nothing was sent.",
		);
		const mouse = await h.call("mouse", { serverId: "kbd-1", action: "click", x: 1, y: 1 });
		expect(texts(mouse)[0]).toContain('does not allow mouse on "kbd-1"');
		expect(h.records["db-1"]).toBeUndefined();
		expect(h.records["kbd-1"]).toBeUndefined();
		expect(h.auditLines().map((l) => [l.serverId, l.outcome])).toEqual([
			["db-1", "refused"],
			["kbd-1", "refused"],
		]);
	});

	test("not delivered is reported as such, and audited", async () => {
		h = await controlHarness({ IKVM_CONTROL: "keyboard" });
		await h.call("get_screenshot", { serverId: "web-1", raw: true });
		(h.records["web-1"] as { notDelivered?: string }).notDelivered = "another viewer (10.0.0.9) holds control";
		const result = await h.call("send_keys", { serverId: "web-1", keys: "x" });
		expect(result.isError).toBe(true);
		expect(texts(result)[0]).toBe("Not delivered to web-1: another viewer (10.0.0.9) holds control");
		expect(h.auditLines()[0]).toMatchObject({
			outcome: "not-delivered",
			reason: "another viewer (10.0.0.9) holds control",
		});
	});

	test("calls on one console are queued, never interleaved", async () => {
		h = await controlHarness({ IKVM_CONTROL: "keyboard" });
		await h.call("get_screenshot", { serverId: "web-1", raw: true });
		const rec = h.records["web-1"];
		if (!rec) throw new Error("no console");
		rec.strokeMs = 5;
		const calls = ["aaaa", "bbbb", "cccc"].map((keys) =>
			h?.call("send_keys", { serverId: "web-1", keys, then: "none" }),
		);
		const results = await Promise.all(calls);
		for (const r of results) expect(r?.isError).toBeFalsy();
		expect(rec.events).toEqual(["keys-start", "keys-end", "keys-start", "keys-end", "keys-start", "keys-end"]);
		const typed = rec.strokes.map((s) => String.fromCharCode(s.keysym)).join("");
		expect(typed.match(/(a{4}|b{4}|c{4})/g)?.length).toBe(3);
		expect(rec.opened).toBe(1);
	});

	test("an abort in the middle of a long send_keys releases every key", async () => {
		h = await controlHarness({ IKVM_CONTROL: "keyboard", TOOL_TIMEOUT_SECONDS: "1" });
		await h.call("get_screenshot", { serverId: "web-1", raw: true });
		const rec = h.records["web-1"];
		if (!rec) throw new Error("no console");
		rec.strokeMs = 20;
		const result = await h.call("send_keys", { serverId: "web-1", keys: "{Shift+A}".repeat(200), then: "none" });
		expect(result.isError).toBe(true);
		expect(texts(result)[0]).toContain("TIMEOUT");
		expect(rec.strokes.length).toBeGreaterThan(0);
		expect(rec.strokes.length).toBeLessThan(200);
		expect(rec.held.size).toBe(0);
		expect(rec.events.at(-2)).toBe("released");
		expect(h.auditLines()[0]).toMatchObject({ outcome: "error", keys: "<200 chars>" });
	});
});

describe("confirmation", () => {
	test("Ctrl+Alt+Delete without elicitation needs confirm = serverId", async () => {
		h = await controlHarness({ IKVM_CONTROL: "keyboard" });
		const refused = await h.call("send_keys", { serverId: "web-1", keys: "{Ctrl+Alt+Delete}" });
		expect(refused.isError).toBe(true);
		expect(texts(refused)[0]).toContain(
			'To press Ctrl+Alt+Delete on server "Web 1" (web-1), provider fake, datacenter rbx8 needs confirmation.',
		);
		expect(texts(refused)[0]).toContain('confirm set to the serverId ("web-1")');
		const wrong = await h.call("send_keys", { serverId: "web-1", keys: "{Alt+SysRq+b}", confirm: "web-2" });
		expect(texts(wrong)[0]).toContain("confirm does not match the serverId");
		expect(h.records["web-1"]).toBeUndefined();
		const ok = await h.call("send_keys", {
			serverId: "web-1",
			keys: "{Ctrl+Alt+Delete}",
			confirm: "web-1",
			then: "none",
		});
		expect(ok.isError).toBeFalsy();
		expect(h.records["web-1"]?.strokes.map((s) => s.label)).toEqual(["Ctrl+Alt+Delete"]);
		expect(h.auditLines().map((l) => [l.outcome, l.keys, l.confirmedBy])).toEqual([
			["refused", "Ctrl+Alt+Delete", undefined],
			["refused", "Alt+SysRq+b", undefined],
			["delivered", "Ctrl+Alt+Delete", "confirm"],
		]);
	});

	for (const [action, sent] of [
		["accept", true],
		["decline", false],
		["cancel", false],
	] as const) {
		test(`elicitation: ${action} → ${sent ? "done" : "nothing sent"}`, async () => {
			const asked: string[] = [];
			h = await controlHarness(
				{ IKVM_CONTROL: "all" },
				{
					elicit: (message) => {
						asked.push(message);
						return action === "accept" ? { action, content: { confirm: true } } : { action };
					},
				},
			);
			// confirm is not a way around asking the user.
			const keys = await h.call("send_keys", {
				serverId: "web-1",
				keys: "{Ctrl+Alt+Delete}",
				confirm: "web-1",
				then: "none",
			});
			const power = await h.call("power", { serverId: "web-1", action: "reset" });
			expect(asked).toHaveLength(2);
			expect(asked[0]).toContain('press Ctrl+Alt+Delete on server "Web 1" (web-1), provider fake, datacenter rbx8');
			expect(asked[1]).toContain("reset (hard reboot) on server");
			expect(Boolean(keys.isError)).toBe(!sent);
			expect(Boolean(power.isError)).toBe(!sent);
			expect(h.provider.powerCalls).toEqual(sent ? ["reset"] : []);
			expect(h.records["web-1"]?.strokes.length ?? 0).toBe(sent ? 1 : 0);
			if (!sent) expect(texts(power)[0]).toContain(action === "decline" ? "declined" : "cancelled");
			expect(h.auditLines().map((l) => [l.tool, l.outcome, l.confirmedBy])).toEqual(
				sent
					? [
							["send_keys", "delivered", "elicitation"],
							["power", "delivered", "elicitation"],
						]
					: [
							["send_keys", "refused", undefined],
							["power", "refused", undefined],
						],
			);
		});
	}

	test("ordinary keys and power status need no confirmation", async () => {
		const asked: string[] = [];
		h = await controlHarness(
			{ IKVM_CONTROL: "all" },
			{
				elicit: (m) => {
					asked.push(m);
					return { action: "decline" };
				},
			},
		);
		expect(
			(await h.call("send_keys", { serverId: "web-1", keys: "{Ctrl+C}{Delete}", then: "none" })).isError,
		).toBeFalsy();
		const status = await h.call("power", { serverId: "web-1", action: "status" });
		expect(texts(status)[0]).toBe("Power status on web-1: did status. State: on (source: fake BMC).");
		expect(asked).toEqual([]);
	});
});

describe("power", () => {
	test("needs confirm without elicitation; refused power sends nothing", async () => {
		h = await controlHarness({ IKVM_CONTROL: "power" });
		const refused = await h.call("power", { serverId: "web-1", action: "off" });
		expect(refused.isError).toBe(true);
		expect(texts(refused)[0]).toContain("power off (hard, like pulling the plug)");
		expect(h.provider.powerCalls).toEqual([]);
		const done = await h.call("power", { serverId: "web-1", action: "off", confirm: "web-1" });
		expect(texts(done)[0]).toBe("Power off on web-1: did off. State: off (source: fake BMC).");
		expect(done.structuredContent).toEqual({ state: "off", source: "fake BMC", message: "did off." });
		const denied = await h.call("power", { serverId: "db-1", action: "status" });
		expect(texts(denied)[0]).toContain('does not allow power on "db-1"');
		expect(h.provider.powerCalls).toEqual(["off"]);
		expect(h.auditLines().map((l) => [l.serverId, l.action, l.outcome])).toEqual([
			["web-1", "off", "refused"],
			["web-1", "off", "delivered"],
			["db-1", "status", "refused"],
		]);
	});
});

describe("mouse", () => {
	test("coordinates in the last screenshot image map to framebuffer pixels", async () => {
		h = await controlHarness({ IKVM_CONTROL: "mouse" });
		// Before any screenshot: framebuffer pixels.
		const first = await h.call("mouse", { serverId: "web-1", action: "click", x: 100, y: 50, then: "none" });
		expect(texts(first)[0]).toBe("Mouse click on web-1: left at 100,50 (framebuffer pixels).");
		const shot = await h.call("get_screenshot", {
			serverId: "web-1",
			raw: true,
			region: { x: 360, y: 200, width: 360, height: 200 },
		});
		expect(texts(shot)[0]).toContain("scale 1");
		const inShot = await h.call("mouse", { serverId: "web-1", action: "click", x: 10, y: 20, then: "none" });
		expect(texts(inShot)[0]).toContain("left at 370,220");
		const console = await h.call("mouse", {
			serverId: "web-1",
			action: "move",
			x: 10,
			y: 20,
			space: "console",
			then: "none",
		});
		expect(texts(console)[0]).toContain("left at 10,20");
		const outside = await h.call("mouse", { serverId: "web-1", action: "click", x: 400, y: 10 });
		expect(texts(outside)[0]).toContain("x=400, y=10 is outside the last screenshot image (360x200)");
		const offScreen = await h.call("mouse", { serverId: "web-1", action: "click", x: 800, y: 10, space: "console" });
		expect(texts(offScreen)[0]).toContain("Framebuffer point 800,10 is outside the screen (720x400)");
		const scroll = await h.call("mouse", { serverId: "web-1", action: "scroll", x: 1, y: 1, amount: -2, then: "none" });
		expect(texts(scroll)[0]).toContain("scroll -2 at 361,201");
		const buttons = h.records["web-1"]?.pointer.map((p) => (p.kind === "pointer" ? p.buttons : -1));
		expect(buttons).toEqual([0, 1, 0, 0, 1, 0, 0, 0, 8, 0, 8, 0]);
		expect(h.auditLines().map((l) => [l.action, l.outcome, l.keys])).toEqual([
			["click", "delivered", "left at 100,50"],
			["click", "delivered", "left at 370,220"],
			["move", "delivered", "left at 10,20"],
			["click", "error", undefined],
			["click", "error", "left at 800,10"],
			["scroll", "delivered", "scroll -2 at 361,201"],
		]);
	});

	test("the optimised screenshot's scale is used, and a drag spans calls", async () => {
		h = await controlHarness({ IKVM_CONTROL: "mouse" });
		const shot = await h.call("get_screenshot", { serverId: "web-1" });
		const caption = texts(shot)[0] ?? "";
		const scale = Number(/scale ([\d.]+)/.exec(caption)?.[1]);
		const origin = /Framebuffer x = (\d+) \+ image x \/ [\d.]+, y = (\d+)/.exec(caption);
		expect(scale).toBeGreaterThan(0);
		const [ox, oy] = [Number(origin?.[1]), Number(origin?.[2])];
		const down = await h.call("mouse", { serverId: "web-1", action: "down", x: 20, y: 20, then: "none" });
		expect(texts(down)[0]).toContain(`left at ${ox + Math.floor(20 / scale)},${oy + Math.floor(20 / scale)}`);
		await h.call("mouse", { serverId: "web-1", action: "move", x: 40, y: 40, then: "none" });
		await h.call("mouse", { serverId: "web-1", action: "up", x: 40, y: 40, then: "none" });
		const buttons = h.records["web-1"]?.pointer.map((p) => (p.kind === "pointer" ? p.buttons : -1));
		expect(buttons).toEqual([0, 1, 1, 1, 0]);
	});
});
