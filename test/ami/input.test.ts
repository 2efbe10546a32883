/**
 * Keyboard, mouse and power on the AMI KVM against the mock BMC, which checks
 * every IUSB header (signature, version, checksum, lengths, device fields,
 * sequence numbers) and keeps the USB key state the host would see.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { hidPacket, iusbChecksum, iusbHeader, keyboardReport, strokeReports } from "../../src/ami/input.ts";
import { amiPower } from "../../src/ami/power.ts";
import { type AmiConsoleSession, createAmiOpener } from "../../src/ami/session.ts";
import { standaloneContext } from "../../src/call-context.ts";
import type { ConsoleSession, ConsoleTarget } from "../../src/console/types.ts";
import { iusbProblem } from "../../src/demo/bmc.ts";
import { POINTER_BUTTON } from "../../src/input/types.ts";
import { MockBmc, type MockBmcOptions, mockBmcLogin } from "../mocks/bmc.ts";
import { solidColourDecoder } from "../support/fake-decoder.ts";
import { CTRL_ALT_DELETE, ctrl, ENTER, typed, usKey } from "../support/keystrokes.ts";
import { videoFrame } from "../support/video-frame.ts";

const LIMITS = { maxWidth: 4096, maxHeight: 4096 };
let cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
	for (const c of cleanup.reverse()) await c();
	cleanup = [];
});

async function mock(options: Partial<MockBmcOptions> = {}): Promise<MockBmc> {
	const bmc = await new MockBmc({ frames: () => videoFrame(640, 480, new Uint8Array(8)), ...options }).start();
	cleanup.push(() => bmc.stop());
	return bmc;
}

async function open(bmc: MockBmc, delayMs = 1): Promise<AmiConsoleSession> {
	const target: ConsoleTarget = { kind: "ami-viewer", viewerUrl: bmc.viewerUrl(), tls: { insecure: true } };
	const session = await createAmiOpener({
		decoder: solidColourDecoder().factory,
		keepAliveMs: 0,
		keyReportDelayMs: delayMs,
		mouseReportDelayMs: delayMs,
	})(target, standaloneContext(), LIMITS);
	cleanup.push(() => session.close());
	await session.capture(standaloneContext());
	return session as AmiConsoleSession;
}

const ctx = () => standaloneContext(AbortSignal.timeout(10_000));

describe("IUSB packets", () => {
	test("the header sums to 0 mod 256 and carries the fields of the input notes", () => {
		const h = iusbHeader("keyboard", 0x01020304, 8);
		expect(new TextDecoder().decode(h.subarray(0, 8))).toBe("IUSB    ");
		expect([h[8], h[9], h[10]]).toEqual([1, 0, 32]);
		expect(h.reduce((a, b) => a + b, 0) % 256).toBe(0);
		expect([...h.subarray(12, 16)]).toEqual([9, 0, 0, 0]);
		expect([h[17], h[18], h[19], h[20], h[21]]).toEqual([0x30, 0x10, 0x80, 2, 0]);
		expect([...h.subarray(24, 28)]).toEqual([4, 3, 2, 1]);
		const m = iusbHeader("mouse", 7, 6);
		expect([m[17], m[18], m[21]]).toEqual([0x31, 0x20, 1]);
		expect(iusbChecksum(m)).toBe(m[11] as number);
	});

	test("an IVTP HID packet: type 1, status 0, size 32 + 1 + n", () => {
		const p = hidPacket("keyboard", 0, keyboardReport(2, [0x04]));
		const v = new DataView(p.buffer);
		expect([v.getUint16(0, true), v.getUint32(2, true), v.getUint16(6, true)]).toEqual([1, 41, 0]);
		expect(p[8 + 32]).toBe(8);
		expect([...p.subarray(8 + 33)]).toEqual([2, 0, 4, 0, 0, 0, 0, 0]);
		expect(iusbProblem(0, p.subarray(8), undefined)).toBeUndefined();
	});

	test("the mock's checker finds each kind of damage", () => {
		const good = hidPacket("keyboard", 5, keyboardReport(0, [4])).subarray(8);
		const damaged = (at: number, value: number) => {
			const copy = new Uint8Array(good);
			copy[at] = value;
			return copy;
		};
		expect(iusbProblem(0, good, 4)).toBeUndefined();
		expect(iusbProblem(0, good, 5)).toContain("sequence number 5 after 5");
		expect(iusbProblem(0, damaged(11, (good[11] as number) ^ 1), 4)).toContain("checksum");
		expect(iusbProblem(0, damaged(0, 0x41), 4)).toContain("signature");
		expect(iusbProblem(0, good.subarray(0, 40), 4)).toContain("payload of 40 bytes");
		expect(iusbProblem(1, good, 4)).toContain("status");
	});

	test("a stroke: modifiers down one by one, the key, then up in reverse", () => {
		expect(strokeReports(CTRL_ALT_DELETE).map((r) => [r[0], r[2]])).toEqual([
			[1, 0],
			[5, 0],
			[5, 0x4c],
			[5, 0],
			[1, 0],
			[0, 0],
		]);
	});
});

describe("AMI KVM input against the mock BMC", () => {
	test("typed text, Enter and chords arrive as exactly the keys sent, and nothing stays held", async () => {
		const bmc = await mock();
		const session = await open(bmc);
		expect(session.isMaster).toBe(true);
		const text = "Hello, World! 42 ~ {x}";
		const outcome = await session.sendKeys([...typed(text), ENTER, ctrl("c"), CTRL_ALT_DELETE], ctx());
		expect(outcome).toEqual({ status: "delivered", sent: text.length + 3 });
		const expected = [
			...[...text].map((ch) => ({ usage: usKey(ch).usage, modifiers: usKey(ch).shift ? 0x02 : 0 })),
			{ usage: 0x28, modifiers: 0 },
			{ usage: 0x06, modifiers: 0x01 },
			{ usage: 0x4c, modifiers: 0x05 },
		];
		expect(bmc.keyPresses()).toEqual(expected);
		expect(bmc.stats.hidErrors).toEqual([]);
		expect(bmc.held).toEqual({ modifiers: 0, keys: [], buttons: 0 });
		expect(bmc.stats.hidPackets).toBe(session.hidPacketsSent);
	});

	test("a click lands at the scaled position with the left button, then is released; scroll is the wheel", async () => {
		const bmc = await mock();
		const session = await open(bmc);
		const outcome = await session.pointer(
			[
				{ kind: "pointer", x: 320, y: 240, buttons: 0 },
				{ kind: "pointer", x: 320, y: 240, buttons: POINTER_BUTTON.left },
				{ kind: "pointer", x: 320, y: 240, buttons: 0 },
				{ kind: "pointer", x: 639, y: 479, buttons: POINTER_BUTTON.right },
				{ kind: "pointer", x: 639, y: 479, buttons: POINTER_BUTTON.wheelDown },
				{ kind: "pointer", x: 639, y: 479, buttons: 0 },
			],
			ctx(),
		);
		expect(outcome).toEqual({ status: "delivered", sent: 6 });
		// 320 of 0..639 and 240 of 0..479, scaled to 0..32767.
		const mouse = bmc.inputEvents.filter((e) => e.kind === "mouse");
		expect(mouse.map((e) => (e.kind === "mouse" ? [e.buttons, e.x, e.y, e.wheel] : []))).toEqual([
			[0, 16409, 16418, 0],
			[1, 16409, 16418, 0],
			[0, 16409, 16418, 0],
			[2, 32767, 32767, 0],
			[0, 32767, 32767, -1],
			[0, 32767, 32767, 0],
		]);
		expect(bmc.held.buttons).toBe(0);
		await expect(session.pointer([{ kind: "pointer", x: 640, y: 0, buttons: 0 }], ctx())).rejects.toMatchObject({
			code: "BAD_INPUT",
		});
	});

	test("a BMC in relative mouse mode: pointer input is refused with what to change; keys still work", async () => {
		const bmc = await mock({ mouseMode: 1 });
		const session = await open(bmc);
		const error = await session.pointer([{ kind: "pointer", x: 1, y: 1, buttons: 1 }], ctx()).catch((e) => e);
		expect(error.code).toBe("NOT_SUPPORTED");
		expect(error.hint).toContain("Absolute");
		expect(bmc.inputEvents).toEqual([]);
		expect((await session.sendKeys(typed("a"), ctx())).status).toBe("delivered");
	});

	test("a slave session (another viewer holds control) reports not-delivered and sends nothing", async () => {
		const bmc = await mock({ slave: true });
		const session = await open(bmc);
		expect(session.isMaster).toBe(false);
		const outcome = await session.sendKeys(typed("rm -rf"), ctx());
		expect(outcome.status).toBe("not-delivered");
		expect(outcome.sent).toBe(0);
		expect(outcome.reason).toContain("Another KVM viewer");
		expect(outcome.reason).toContain("Close the other viewer");
		expect((await session.pointer([{ kind: "pointer", x: 1, y: 1, buttons: 1 }], ctx())).status).toBe("not-delivered");
		expect(bmc.stats.hidPackets + bmc.stats.ignoredHidPackets).toBe(0);
	});

	test("the second session of the same BMC is a slave; after the master closes (stop session), a new one is master", async () => {
		const bmc = await mock();
		const first = await open(bmc);
		const second = await open(bmc);
		expect([first.isMaster, second.isMaster]).toEqual([true, false]);
		await first.close();
		expect(bmc.stats.stopSessions).toBe(1);
		const third = await open(bmc);
		expect(third.isMaster).toBe(true);
	});

	test("an abort in the middle of a long sequence releases every key (all-zero report)", async () => {
		const bmc = await mock();
		const session = await open(bmc, 5);
		const abort = new AbortController();
		const long = typed("The Quick Brown Fox ".repeat(20));
		// Stop while a shifted letter is down: Shift and the key are held at that moment.
		const stop = setInterval(() => {
			if (bmc.held.modifiers !== 0 && bmc.held.keys.length > 0) abort.abort();
		}, 1);
		try {
			await expect(session.sendKeys(long, standaloneContext(abort.signal))).rejects.toMatchObject({
				code: "CANCELLED",
			});
		} finally {
			clearInterval(stop);
		}
		await Bun.sleep(50);
		expect(bmc.keyPresses().length).toBeLessThan(long.length);
		expect(bmc.held).toEqual({ modifiers: 0, keys: [], buttons: 0 });
		const last = bmc.inputEvents.at(-1);
		expect(last).toMatchObject({ kind: "keyboard", modifiers: 0, keys: [] });
		expect(bmc.stats.hidErrors).toEqual([]);
		// The session stays usable after the abort.
		expect((await session.sendKeys(typed("ok"), ctx())).status).toBe("delivered");
	});

	test("a bad packet is rejected loudly: the BMC records it and closes the connection", async () => {
		const bmc = await mock();
		const session = (await open(bmc)) as ConsoleSession;
		const raw = hidPacket("keyboard", 99, keyboardReport(0, [4]));
		raw[8 + 11] = (raw[8 + 11] as number) ^ 0xff;
		// Through the session's socket: the only way onto the wire is the public interface, so poke one field.
		(session as unknown as { socket: { send(b: Uint8Array): void } }).socket.send(raw);
		const until = Date.now() + 2000;
		while (!session.closed && Date.now() < until) await Bun.sleep(10);
		expect(bmc.stats.hidErrors[0]).toContain("checksum");
		expect(session.closed).toBe(true);
	});

	test("power: status, then reset and off reach the BMC as IVTP 0x23 with the action code", async () => {
		const bmc = await mock();
		const session = await open(bmc);
		expect(await session.power("status", ctx())).toEqual({ state: "on" });
		expect(await session.power("reset", ctx())).toEqual({ state: "on", answer: 0 });
		expect(await session.power("off", ctx())).toEqual({ state: "off", answer: 0 });
		expect(bmc.stats.powerCommands).toEqual([3, 0]);
		expect(bmc.options.poweredOn).toBe(false);
	});

	test("amiPower (the AMI driver's power) runs on the warm session: status, cycle", async () => {
		const bmc = await mock();
		const session = await open(bmc);
		const target: ConsoleTarget = { kind: "ami-viewer", viewerUrl: "https://unused", tls: { insecure: true } };
		const runner = <R>(op: (s: ConsoleSession, c: ReturnType<typeof ctx>) => Promise<R>) => op(session, ctx());
		const status = await amiPower(target as never, "status", ctx(), runner);
		expect(status).toMatchObject({ state: "on", source: "IVTP power status (BMC KVM connection)" });
		const cycled = await amiPower(target as never, "cycle", ctx(), runner);
		expect(cycled.message).toContain("power-cycled");
		expect(bmc.stats.powerCommands).toEqual([2]);
	});

	test("a powered-off host: no KVM session opens, status says off, and on goes through the web API", async () => {
		const bmc = await mock({ poweredOn: false });
		const target = mockBmcLogin(bmc);
		const open = createAmiOpener({ decoder: solidColourDecoder().factory, keepAliveMs: 0 });
		// What the pool's use does for a cold target: open, run, close.
		const runner = async <R>(op: (s: ConsoleSession, c: ReturnType<typeof ctx>) => Promise<R>) => {
			const s = await open(target, ctx(), LIMITS);
			try {
				return await op(s, ctx());
			} finally {
				await s.close();
			}
		};
		expect(await amiPower(target, "status", ctx(), runner)).toMatchObject({ state: "off" });
		const on = await amiPower(target, "on", ctx(), runner);
		expect(on).toMatchObject({ state: "on", source: "BMC web API (chassis-status)" });
		expect(bmc.stats.powerCommands).toEqual([1]);
		expect(bmc.stats.webPowerCommands).toBe(1);
		expect(bmc.stats.webSessions).toBe(0);
		// Now a KVM session opens, and power goes over IVTP again.
		expect(await amiPower(target, "reset", ctx(), runner)).toMatchObject({ state: "on" });
		expect(bmc.stats.powerCommands).toEqual([1, 3]);
		expect(bmc.stats.webPowerCommands).toBe(1);
	});
});
