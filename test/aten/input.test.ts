/**
 * Keys, pointer and power on the Supermicro path, decoded by the mock BMC:
 * 18-byte key events with HID usages and modifiers as separate events, every
 * key released (also after an abort), absolute pointer events, video-only and
 * "another viewer in control" sessions reported as not delivered, 0x1A power
 * only for an explicit power action, and a token that cannot be used twice.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { defaultAtenDecoderFactory } from "../../src/aten/decoder.ts";
import { atenDriver } from "../../src/aten/driver.ts";
import { AtenLogins } from "../../src/aten/logins.ts";
import { createAtenOpener } from "../../src/aten/open.ts";
import { AtenConsoleSession } from "../../src/aten/session.ts";
import type { SupermicroTarget } from "../../src/aten/types.ts";
import { DEFAULT_ATEN_TIMEOUTS } from "../../src/aten/types.ts";
import { atenLogin, fetchEntryToken } from "../../src/aten/web.ts";
import { standaloneContext } from "../../src/call-context.ts";
import type { ConsoleSession } from "../../src/console/types.ts";
import { encodeAtenPayload } from "../../src/demo/aten-encoder.ts";
import { testPattern } from "../../src/demo/patterns.ts";
import { MockSupermicroBmc, type MockSupermicroOptions } from "../../src/demo/supermicro-bmc.ts";
import { HID_MODIFIER, type KeyStep, type KeyStroke, POINTER_BUTTON } from "../../src/input/types.ts";
import { failure } from "../support/ikvm-error.ts";

const LIMITS = { maxWidth: 4096, maxHeight: 4096 };
const picture = testPattern(64, 48);
const frames = () => ({ width: 64, height: 48, payload: encodeAtenPayload(picture) });

const running: MockSupermicroBmc[] = [];
const sessions: ConsoleSession[] = [];

afterEach(async () => {
	await Promise.all(sessions.splice(0).map((s) => s.close()));
	for (const bmc of running.splice(0)) {
		const violations = [...bmc.violations];
		await bmc.stop();
		expect(violations).toEqual([]);
	}
});

async function setup(options: Partial<MockSupermicroOptions> = {}) {
	const bmc = await new MockSupermicroBmc({ frames, ...options }).start();
	running.push(bmc);
	const target: SupermicroTarget = {
		kind: "supermicro",
		url: bmc.origin,
		username: bmc.username,
		password: bmc.password,
		tls: { insecure: true },
	};
	const open = createAtenOpener({ keyDelayMs: 1, logins: new AtenLogins() });
	const session = (await open(target, standaloneContext(), LIMITS)) as AtenConsoleSession;
	sessions.push(session);
	return { bmc, session, target };
}

const stroke = (usage: number, modifiers: number[] = [], label = "char"): KeyStroke => ({
	kind: "stroke",
	usage,
	modifiers,
	keysym: 0,
	modifierKeysyms: [],
	label,
});

async function settle(check: () => boolean, ms = 3000): Promise<void> {
	const until = Date.now() + ms;
	while (!check() && Date.now() < until) await Bun.sleep(5);
}

describe("keys", () => {
	test("'Hi' + Enter and Ctrl+Alt+Delete decode to exactly these HID events, modifiers as their own keys", async () => {
		const { bmc, session } = await setup();
		const steps: KeyStep[] = [
			stroke(0x0b, [HID_MODIFIER.leftShift]),
			stroke(0x0c),
			stroke(0x28, [], "Enter"),
			stroke(0x4c, [HID_MODIFIER.leftCtrl, HID_MODIFIER.leftAlt], "Ctrl+Alt+Delete"),
		];
		const outcome = await session.sendKeys(steps, standaloneContext());
		expect(outcome).toEqual({ status: "delivered", sent: 4 });
		await settle(() => bmc.keyEvents.length === 14);
		const d = (usage: number) => ({ usage, down: true });
		const u = (usage: number) => ({ usage, down: false });
		expect(bmc.keyEvents).toEqual([
			d(0xe1),
			d(0x0b),
			u(0x0b),
			u(0xe1),
			d(0x0c),
			u(0x0c),
			d(0x28),
			u(0x28),
			d(0xe0),
			d(0xe2),
			d(0x4c),
			u(0x4c),
			u(0xe2),
			u(0xe0),
		]);
		expect(bmc.keysDown.size).toBe(0);
		expect(bmc.sideEffects).toEqual([]);
	});

	test("an abort in the middle of a long sequence still releases every key", async () => {
		const { bmc, session } = await setup();
		const steps: KeyStep[] = Array.from({ length: 400 }, () => stroke(0x04, [HID_MODIFIER.leftShift]));
		const abort = new AbortController();
		setTimeout(() => abort.abort(), 60);
		const error = await failure(session.sendKeys(steps, standaloneContext(abort.signal)));
		expect(error.code).toBe("CANCELLED");
		await Bun.sleep(100);
		expect(bmc.keyEvents.length).toBeGreaterThan(0);
		expect(bmc.keyEvents.length).toBeLessThan(1600);
		expect(bmc.keysDown.size).toBe(0);
	});

	test("closing the session while typing releases every key", async () => {
		const { bmc, session } = await setup();
		const typing = session.sendKeys(
			Array.from({ length: 400 }, () => stroke(0x05, [HID_MODIFIER.leftCtrl])),
			standaloneContext(),
		);
		await settle(() => bmc.keyEvents.length > 5);
		await session.close();
		await failure(typing);
		await settle(() => bmc.keysDown.size === 0);
		expect(bmc.keysDown.size).toBe(0);
	});

	test("a video-only session (IKVMKMEnable 0): not delivered, nothing sent", async () => {
		const { bmc, session } = await setup({ keyboardMouse: false });
		const outcome = await session.sendKeys([stroke(0x04)], standaloneContext());
		expect(outcome.status).toBe("not-delivered");
		expect(outcome.reason).toContain("video-only");
		expect(outcome.sent).toBe(0);
		const click = await session.pointer([{ kind: "pointer", x: 1, y: 1, buttons: 1 }], standaloneContext());
		expect(click.status).toBe("not-delivered");
		await Bun.sleep(50);
		expect(bmc.keyEvents).toEqual([]);
		expect(bmc.pointerEvents).toEqual([]);
	});

	test("another viewer in control (0x39 a=1 b=4): not delivered, says what to do", async () => {
		const { bmc, session } = await setup({ inputControl: false });
		await session.capture(standaloneContext());
		const outcome = await session.sendKeys([stroke(0x04)], standaloneContext());
		expect(outcome.status).toBe("not-delivered");
		expect(outcome.reason).toContain("another viewer");
		expect(outcome.reason).toContain("Close the other console");
		expect(bmc.keyEvents).toEqual([]);
	});
});

describe("pointer", () => {
	test("absolute pointer events decode exactly; buttons are released on exit", async () => {
		const { bmc, session } = await setup();
		await session.capture(standaloneContext());
		const outcome = await session.pointer(
			[
				{ kind: "pointer", x: 10, y: 20, buttons: 0 },
				{ kind: "pointer", x: 10, y: 20, buttons: POINTER_BUTTON.left },
				{ kind: "pointer", x: 63, y: 47, buttons: POINTER_BUTTON.right },
			],
			standaloneContext(),
		);
		expect(outcome).toEqual({ status: "delivered", sent: 3 });
		await settle(() => bmc.pointerEvents.length === 4);
		expect(bmc.pointerEvents).toEqual([
			{ buttons: 0, x: 10, y: 20 },
			{ buttons: 1, x: 10, y: 20 },
			{ buttons: 4, x: 63, y: 47 },
			{ buttons: 0, x: 63, y: 47 },
		]);
		expect(bmc.buttons).toBe(0);
	});

	test("a position outside the screen is BAD_INPUT and sends nothing", async () => {
		const { bmc, session } = await setup();
		await session.capture(standaloneContext());
		const error = await failure(session.pointer([{ kind: "pointer", x: 64, y: 0, buttons: 0 }], standaloneContext()));
		expect(error.code).toBe("BAD_INPUT");
		expect(bmc.pointerEvents).toEqual([]);
	});
});

describe("power", () => {
	test("off via 0x1A makes the screen go to no-signal; on brings the picture back; status reads the web interface", async () => {
		const { bmc, session, target } = await setup({ allowPower: true });
		const runner = <R>(op: (s: ConsoleSession, ctx: ReturnType<typeof standaloneContext>) => Promise<R>) =>
			op(session, standaloneContext());
		const status = await atenDriver.power?.(target, "status", standaloneContext(), runner);
		expect(status?.state).toBe("on");
		const off = await atenDriver.power?.(target, "off", standaloneContext(), runner);
		expect(off?.state).toBe("off");
		expect(bmc.powerActions).toEqual([0]);
		const error = await failure(session.capture(standaloneContext()));
		expect(error.code).toBe("POWERED_OFF");
		const on = await atenDriver.power?.(target, "on", standaloneContext(), runner);
		expect(on?.state).toBe("on");
		expect(bmc.powerActions).toEqual([0, 1]);
		expect((await session.capture(standaloneContext())).width).toBe(64);
		const reset = await atenDriver.power?.(target, "reset", standaloneContext(), runner);
		expect(reset?.message).toContain("Reset");
		expect(bmc.powerActions).toEqual([0, 1, 2]);
		const cycle = await atenDriver.power?.(target, "cycle", standaloneContext(), runner);
		expect(cycle?.state).toBe("on");
		expect(bmc.powerActions).toEqual([0, 1, 2, 0, 1]);
		const shutdown = await atenDriver.power?.(target, "shutdown", standaloneContext(), runner);
		expect(shutdown?.message).toContain("ACPI");
		expect(bmc.powerActions).toEqual([0, 1, 2, 0, 1, 3]);
	});

	test("reads never send power, quality or mode messages (the mock fails the test if they do)", async () => {
		const { bmc, session } = await setup();
		for (let i = 0; i < 3; i++) await session.capture(standaloneContext());
		await session.close();
		expect(bmc.sideEffects).toEqual([]);
		expect(bmc.powerActions).toEqual([]);
	});

	test("the mock does catch a side effect: a 0x32 quality message ends the connection and is recorded", async () => {
		const { bmc, session } = await setup();
		const socket = (session as unknown as { socket: { send(b: Uint8Array): void } }).socket;
		socket.send(Uint8Array.of(0x32, 0, 7, 0x01, 0xa6));
		await settle(() => bmc.violations.length > 0 && session.closed);
		expect(bmc.sideEffects).toEqual(["quality 0x32"]);
		expect(session.closed).toBe(true);
		bmc.violations.splice(0);
	});
});

describe("token", () => {
	test("a token is single-use: a second connection with it is AUTH_FAILED at aten-auth", async () => {
		const { bmc } = await setup();
		const credentials = { username: bmc.username, password: bmc.password };
		const ctx = { signal: new AbortController().signal, timeoutMs: 5000 };
		const web = await atenLogin(bmc.origin, credentials, { insecure: true }, ctx);
		const token = await fetchEntryToken(web, credentials, ctx);
		const settings = { timeouts: DEFAULT_ATEN_TIMEOUTS, keepAliveMs: 0, keyDelayMs: 0, maxPayloadBytes: 1 << 20 };
		const make = () =>
			new AtenConsoleSession(
				{ origin: web.origin, host: web.host, sid: web.sid, tls: { insecure: true } },
				token.token,
				defaultAtenDecoderFactory(LIMITS),
				LIMITS,
				settings,
			);
		const first = make();
		sessions.push(first);
		await first.connect(standaloneContext());
		const second = make();
		sessions.push(second);
		const error = await failure(second.connect(standaloneContext()));
		expect(error.code).toBe("AUTH_FAILED");
		expect(error.stage).toBe("aten-auth");
		expect(error.hint).toContain("single-use");
		expect(bmc.stats.tokenRejections).toBe(1);
	});
});

describe("the demo's shell behind a mock Supermicro BMC", () => {
	test("typed text reaches the shell and its answer is on the next screenshot; power off → no signal", async () => {
		const { startShellSupermicro } = await import("../../src/demo/shell-supermicro.ts");
		const { bmc, shell } = await startShellSupermicro({ bootMs: 0 });
		running.push(bmc);
		try {
			const target: SupermicroTarget = {
				kind: "supermicro",
				url: bmc.origin,
				username: bmc.username,
				password: bmc.password,
				tls: { insecure: true },
			};
			const session = (await createAtenOpener({ keyDelayMs: 1, logins: new AtenLogins() })(
				target,
				standaloneContext(),
				LIMITS,
			)) as AtenConsoleSession;
			sessions.push(session);
			await settle(() => shell.state === "login");
			// "root", Enter (login), a password, Enter, then "echo HI", Enter.
			const plain = (usage: number) => stroke(usage);
			const shifted = (usage: number) => stroke(usage, [HID_MODIFIER.leftShift]);
			const steps: KeyStep[] = [
				...[0x15, 0x12, 0x12, 0x17].map(plain),
				stroke(0x28, [], "Enter"),
				...[0x13, 0x04].map(plain),
				stroke(0x28, [], "Enter"),
				...[0x08, 0x06, 0x0b, 0x12, 0x2c].map(plain),
				...[0x0b, 0x0c].map(shifted),
				stroke(0x28, [], "Enter"),
			];
			await session.sendKeys(steps, standaloneContext());
			await settle(() => shell.screenLines().some((l) => l.trim() === "HI"));
			expect(shell.screenLines().some((l) => l.trim() === "HI")).toBe(true);
			const shot = await session.capture(standaloneContext());
			expect(shot.width).toBe(shell.width);
			await session.power("off", standaloneContext());
			expect(shell.state).toBe("off");
			expect((await failure(session.capture(standaloneContext()))).code).toBe("POWERED_OFF");
		} finally {
			shell.stop();
		}
	});
});
