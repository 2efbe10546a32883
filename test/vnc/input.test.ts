/**
 * VNC input against the demo RFB server, which records every KeyEvent,
 * QEMU extended key event, PointerEvent and XVP message it receives.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { standaloneContext } from "../../src/call-context.ts";
import type { ConsoleSession } from "../../src/console/types.ts";
import { type RfbServerOptions, type RfbTestServer, startRfbServer } from "../../src/demo/rfb-server.ts";
import { POINTER_BUTTON } from "../../src/input/types.ts";
import { keyEventMessage, pointerEventMessage, qemuKeyEventMessage, strokeEvents } from "../../src/vnc/input.ts";
import { vncPower } from "../../src/vnc/power.ts";
import { createVncOpener, type VncSession, type VncSessionOptions } from "../../src/vnc/session.ts";
import { failure } from "../support/ikvm-error.ts";
import { CTRL_ALT_DELETE, charStroke, ENTER, typed } from "../support/keystrokes.ts";
import { LIMITS, testContext, wsTarget } from "../support/vnc.ts";

let cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
	for (const c of cleanup.reverse()) await c();
	cleanup = [];
});

const image = { width: 64, height: 48, rgba: new Uint8Array(64 * 48 * 4).fill(255) };

async function setup(
	server: Partial<RfbServerOptions> = {},
	session: VncSessionOptions = {},
	viewOnly?: boolean,
): Promise<{ server: RfbTestServer; session: VncSession }> {
	const s = await startRfbServer({ image, ...server });
	cleanup.push(() => s.close());
	const open = createVncOpener({ keyEventDelayMs: 0, pointerEventDelayMs: 0, ...session });
	const c = await open(wsTarget(s.wsUrl, { viewOnly }), testContext(), LIMITS);
	cleanup.push(() => c.close());
	await c.capture(testContext());
	return { server: s, session: c as VncSession };
}

async function settled(check: () => boolean): Promise<void> {
	const until = Date.now() + 2000;
	while (!check() && Date.now() < until) await Bun.sleep(5);
}

describe("RFB input messages", () => {
	test("KeyEvent, QEMU extended key event and PointerEvent bytes", () => {
		expect([...keyEventMessage(true, 0xff0d)]).toEqual([4, 1, 0, 0, 0, 0, 0xff, 0x0d]);
		expect([...qemuKeyEventMessage(false, 0x41, 0x1e)]).toEqual([255, 0, 0, 0, 0, 0, 0, 0x41, 0, 0, 0, 0x1e]);
		expect([...pointerEventMessage(POINTER_BUTTON.right, 300, 2)]).toEqual([5, 4, 1, 44, 0, 2]);
	});

	test("a shifted character: Shift_L down, the keysym down and up, Shift_L up; scan codes when asked", () => {
		const events = strokeEvents(charStroke("A"), true);
		expect(events.map((e) => [e.down, e.key.keysym, e.key.scancode])).toEqual([
			[true, 0xffe1, 0x2a],
			[true, 0x41, 0x1e],
			[false, 0x41, 0x1e],
			[false, 0xffe1, 0x2a],
		]);
		// Extended keys carry 0xe0 folded into bit 7, as QEMU numbers them: Delete is 0xd3.
		expect(strokeEvents(CTRL_ALT_DELETE, true).map((e) => e.key.scancode)).toEqual([
			0x1d, 0x38, 0xd3, 0xd3, 0x38, 0x1d,
		]);
	});
});

describe("VNC session input", () => {
	test("KeyEvents with X keysyms when the server has no QEMU key events", async () => {
		const { server, session } = await setup();
		const outcome = await session.sendKeys([...typed("Hi!"), ENTER], testContext());
		expect(outcome).toEqual({ status: "delivered", sent: 4 });
		await settled(() => (server.lastClient?.keyEvents.length ?? 0) >= 12);
		expect(server.lastClient?.keyEvents.map((e) => `${e.down ? "+" : "-"}${e.keysym.toString(16)}`)).toEqual([
			"+ffe1",
			"+48",
			"-48",
			"-ffe1",
			"+69",
			"-69",
			"+ffe1",
			"+21",
			"-21",
			"-ffe1",
			"+ff0d",
			"-ff0d",
		]);
		expect(server.lastClient?.keyEvents.every((e) => e.scancode === undefined)).toBe(true);
	});

	test("QEMU extended key events with XT scan codes when the server announces -258", async () => {
		const { server, session } = await setup({ qemuKeys: true });
		await session.sendKeys(typed("a"), testContext());
		await settled(() => (server.lastClient?.keyEvents.length ?? 0) >= 2);
		expect(server.lastClient?.keyEvents).toEqual([
			{ down: true, keysym: 0x61, scancode: 0x1e },
			{ down: false, keysym: 0x61, scancode: 0x1e },
		]);
	});

	test("an abort in the middle of a long sequence: every key pressed is released", async () => {
		const { server, session } = await setup({}, { keyEventDelayMs: 2 });
		const abort = new AbortController();
		setTimeout(() => abort.abort(), 60);
		const error = await failure(session.sendKeys(typed("ABCDEFGHIJ".repeat(30)), standaloneContext(abort.signal)));
		expect(error.code).toBe("CANCELLED");
		expect(error.message).toContain("went out before this");
		await Bun.sleep(50);
		const events = server.lastClient?.keyEvents ?? [];
		expect(events.length).toBeGreaterThan(4);
		expect(events.length).toBeLessThan(1200);
		const held = new Set<number>();
		for (const e of events) e.down ? held.add(e.keysym) : held.delete(e.keysym);
		expect([...held]).toEqual([]);
		expect((await session.sendKeys(typed("x"), testContext()))?.status).toBe("delivered");
	});

	test("pointer: moves and buttons as sent, a scroll is the wheel button pressed and released", async () => {
		const { server, session } = await setup();
		await session.pointer(
			[
				{ kind: "pointer", x: 10, y: 20, buttons: POINTER_BUTTON.left },
				{ kind: "pointer", x: 10, y: 20, buttons: 0 },
				{ kind: "pointer", x: 63, y: 47, buttons: POINTER_BUTTON.wheelDown },
				{ kind: "pointer", x: 63, y: 47, buttons: 0 },
			],
			testContext(),
		);
		await settled(() => (server.lastClient?.pointerEvents.length ?? 0) >= 4);
		expect(server.lastClient?.pointerEvents).toEqual([
			{ buttons: 1, x: 10, y: 20 },
			{ buttons: 0, x: 10, y: 20 },
			{ buttons: 16, x: 63, y: 47 },
			{ buttons: 0, x: 63, y: 47 },
		]);
		const error = await failure(session.pointer([{ kind: "pointer", x: 64, y: 0, buttons: 1 }], testContext()));
		expect(error.code).toBe("BAD_INPUT");
	});

	test("a button left down by a failing step is released", async () => {
		const { server, session } = await setup();
		await failure(
			session.pointer(
				[
					{ kind: "pointer", x: 5, y: 5, buttons: POINTER_BUTTON.left },
					{ kind: "pointer", x: 500, y: 5, buttons: POINTER_BUTTON.left },
				],
				testContext(),
			),
		);
		await settled(() => (server.lastClient?.pointerEvents.length ?? 0) >= 2);
		expect(server.lastClient?.pointerEvents.at(-1)).toEqual({ buttons: 0, x: 5, y: 5 });
	});

	test("a view-only target: not delivered, nothing sent", async () => {
		const { server, session } = await setup({}, {}, true);
		const outcome = await session.sendKeys(typed("ls"), testContext());
		expect(outcome?.status).toBe("not-delivered");
		expect(outcome?.reason).toContain("view-only");
		expect((await session.pointer([{ kind: "pointer", x: 1, y: 1, buttons: 1 }], testContext()))?.status).toBe(
			"not-delivered",
		);
		await Bun.sleep(30);
		expect(server.lastClient?.keyEvents).toEqual([]);
		expect(server.lastClient?.pointerEvents).toEqual([]);
	});

	test("power: NOT_SUPPORTED without XVP; with XVP a reset is the XVP reset message", async () => {
		const plain = await setup();
		const runner = <R>(op: (s: ConsoleSession, c: ReturnType<typeof testContext>) => Promise<R>) =>
			op(plain.session, testContext());
		const error = await failure(vncPower({ kind: "vnc" }, "reset", testContext(), runner));
		expect(error.code).toBe("NOT_SUPPORTED");
		expect(error.message).toContain("XVP");
		expect((await failure(vncPower({ kind: "vnc" }, "status", testContext(), runner))).code).toBe("NOT_SUPPORTED");

		const xvp = await setup({ xvp: true });
		const result = await vncPower({ kind: "vnc" }, "reset", testContext(), (op) => op(xvp.session, testContext()));
		expect(result.source).toBe("VNC XVP");
		await settled(() => (xvp.server.lastClient?.xvpCodes.length ?? 0) > 0);
		expect(xvp.server.lastClient?.xvpCodes).toEqual([4]);
	});
});
