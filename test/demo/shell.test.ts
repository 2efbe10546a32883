/**
 * The demo's hands: a login prompt and a tiny shell behind the demo RFB server
 * and behind a mock BMC, driven through the real VNC and AMI sessions.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { createAmiOpener } from "../../src/ami/session.ts";
import { startRfbServer } from "../../src/demo/rfb-server.ts";
import { DemoShell } from "../../src/demo/shell.ts";
import { startShellBmc } from "../../src/demo/shell-bmc.ts";
import { readScreenText } from "../../src/text/index.ts";
import { createVncOpener } from "../../src/vnc/session.ts";
import { CTRL_ALT_DELETE, line } from "../support/keystrokes.ts";
import { LIMITS, testContext, wsTarget } from "../support/vnc.ts";

let cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
	for (const c of cleanup.reverse()) await c();
	cleanup = [];
});

async function until(check: () => boolean, ms = 3000): Promise<void> {
	const end = Date.now() + ms;
	while (!check() && Date.now() < end) await Bun.sleep(20);
}

describe("demo shell", () => {
	test("over VNC: login, echo, help, a click draws the pointer, Ctrl+Alt+Delete reboots, XVP power", async () => {
		const shell = new DemoShell({ hostname: "lab", bootMs: 50 });
		const server = await startRfbServer({ image: shell.render(), shell, xvp: true });
		cleanup.push(() => server.close());
		cleanup.push(async () => shell.stop());
		await until(() => shell.state === "login");
		const session = await createVncOpener({ keyEventDelayMs: 1, pointerEventDelayMs: 1 })(
			wsTarget(server.wsUrl),
			testContext(),
			LIMITS,
		);
		cleanup.push(() => session.close());
		await session.capture(testContext());
		await session.sendKeys?.([...line("root"), ...line("secret"), ...line("echo hello from the demo")], testContext());
		await until(() => shell.screenLines().includes("hello from the demo"));
		const text = await readScreenText(await session.capture(testContext()), { ocr: false });
		expect(text.lines).toContain("hello from the demo");
		expect(text.lines.join("\n")).not.toContain("secret");

		await session.pointer?.(
			[
				{ kind: "pointer", x: 300, y: 200, buttons: 1 },
				{ kind: "pointer", x: 300, y: 200, buttons: 0 },
			],
			testContext(),
		);
		await until(() => server.lastClient?.pointerEvents.length === 2);
		const frame = await session.capture(testContext());
		const at = (x: number, y: number) => [
			...frame.rgba.subarray((y * frame.width + x) * 4, (y * frame.width + x) * 4 + 3),
		];
		expect(at(301, 205)).toEqual([255, 255, 255]);

		await session.sendKeys?.([CTRL_ALT_DELETE], testContext());
		await until(() => shell.state === "booting");
		expect(shell.screenLines().join("\n")).toContain("Rebooting");
		await until(() => shell.state === "login");
		expect(shell.screenLines().at(-1)).toBe("lab login: _");
		// Every key went down and came up again.
		const events = server.lastClient?.keyEvents ?? [];
		expect(events.filter((e) => e.down).length).toBe(events.filter((e) => !e.down).length);

		const vnc = session as unknown as { supportsXvp: boolean; power(a: string, c: unknown): Promise<void> };
		expect(vnc.supportsXvp).toBe(true);
		await vnc.power("shutdown", testContext());
		await until(() => shell.state === "off");
		expect(server.lastClient?.xvpCodes).toEqual([2]);
	});

	test("behind the mock BMC: typed over IUSB reports, power off shows no signal, on boots", async () => {
		const { bmc, shell } = await startShellBmc({ bootMs: 50 });
		cleanup.push(() => bmc.stop());
		cleanup.push(async () => shell.stop());
		await until(() => shell.state === "login");
		const session = await createAmiOpener({ keepAliveMs: 0, keyReportDelayMs: 1 })(
			{ kind: "ami-viewer", viewerUrl: bmc.viewerUrl(), tls: { insecure: true } },
			testContext(),
			LIMITS,
		);
		cleanup.push(() => session.close());
		await session.capture(testContext());
		await session.sendKeys?.([...line("admin"), ...line("pw"), ...line("echo $((6*7)) ~!")], testContext());
		await until(() => shell.screenLines().includes("$((6*7)) ~!"));
		expect(shell.screenLines()).toContain("$((6*7)) ~!");
		expect(bmc.held).toEqual({ modifiers: 0, keys: [], buttons: 0 });
		const ami = session as unknown as { power(a: string, c: unknown): Promise<{ state: string }> };
		expect((await ami.power("off", testContext())).state).toBe("off");
		expect(shell.state).toBe("off");
	});
});
