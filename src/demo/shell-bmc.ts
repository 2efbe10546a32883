/**
 * A mock BMC whose host is a DemoShell: its video is the shell's screen
 * (AST2500-encoded, once per change), its USB keyboard and absolute mouse feed
 * the shell, and its power control switches the shell off, on, or reboots it.
 */
import { encodeAst2500Frame } from "./ast2500-encoder.ts";
import { MockBmc, type MockBmcOptions } from "./bmc.ts";
import { DemoShell } from "./shell.ts";
import { HidReportFeeder } from "./shell-input.ts";

export async function startShellBmc(
	options: Partial<MockBmcOptions> & { hostname?: string; bootMs?: number } = {},
): Promise<{ bmc: MockBmc; shell: DemoShell }> {
	const shell = new DemoShell({ hostname: options.hostname ?? "rack-8", bootMs: options.bootMs });
	const keyboard = new HidReportFeeder(shell);
	let cached: { version: number; frame: Uint8Array } | undefined;
	const frames = () => {
		if (cached?.version !== shell.pictureVersion) {
			const picture = shell.render();
			cached = { version: shell.pictureVersion, frame: encodeAst2500Frame(picture, { mode: "444" }) };
		}
		return cached.frame;
	};
	const bmc = await new MockBmc({
		...options,
		frames,
		onInput: (event) => {
			if (event.kind === "keyboard") keyboard.report(event.modifiers, event.keys);
			else
				shell.pointer(
					Math.round((event.x * (shell.width - 1)) / 32767),
					Math.round((event.y * (shell.height - 1)) / 32767),
					event.buttons,
				);
			options.onInput?.(event);
		},
		onPower: (action, on) => {
			if (action === "off" || action === "shutdown") shell.powerOff();
			else if (action === "on") shell.powerOn();
			else if (shell.state === "off") shell.powerOn();
			else shell.reboot("reset");
			options.onPower?.(action, on);
		},
	}).start();
	return { bmc, shell };
}
