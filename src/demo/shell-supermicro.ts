/**
 * A mock Supermicro BMC whose host is a DemoShell: its 0x57 video is the
 * shell's screen (ATEN-encoded once per change), its ATEN key events (one per
 * key, modifiers included) and absolute pointer feed the shell, and its 0x1A
 * power switches the shell off, on, or resets it.
 */
import { encodeAtenPayload } from "./aten-encoder.ts";
import { DemoShell } from "./shell.ts";
import { HidReportFeeder } from "./shell-input.ts";
import { MockSupermicroBmc, type MockSupermicroOptions, type SupermicroFrame } from "./supermicro-bmc.ts";

export async function startShellSupermicro(
	options: Partial<MockSupermicroOptions> & { hostname?: string; bootMs?: number } = {},
): Promise<{ bmc: MockSupermicroBmc; shell: DemoShell }> {
	const shell = new DemoShell({ hostname: options.hostname ?? "smc-shell", bootMs: options.bootMs });
	const keyboard = new HidReportFeeder(shell);
	// The BMC's virtual USB keyboard: key events in, a report of what is held out.
	const held: number[] = [];
	let cached: { version: number; frame: SupermicroFrame } | undefined;
	const frames = () => {
		if (cached?.version !== shell.pictureVersion) {
			const picture = shell.render();
			cached = {
				version: shell.pictureVersion,
				frame: { width: picture.width, height: picture.height, payload: encodeAtenPayload(picture) },
			};
		}
		return cached.frame;
	};
	const bmc = await new MockSupermicroBmc({
		allowPower: true,
		...options,
		frames,
		onInput: (event) => {
			if (event.kind === "key") {
				const at = held.indexOf(event.usage);
				if (event.down && at < 0) held.push(event.usage);
				if (!event.down && at >= 0) held.splice(at, 1);
				let modifiers = 0;
				for (const usage of held) if (usage >= 0xe0 && usage <= 0xe7) modifiers |= 1 << (usage - 0xe0);
				keyboard.report(
					modifiers,
					held.filter((u) => u < 0xe0),
				);
			} else {
				shell.pointer(Math.min(event.x, shell.width - 1), Math.min(event.y, shell.height - 1), event.buttons);
			}
			options.onInput?.(event);
		},
		onPower: (action) => {
			if (action === 0 || action === 3) shell.powerOff();
			else if (action === 1) shell.powerOn();
			else if (shell.state === "off") shell.powerOn();
			else shell.reboot("reset");
			options.onPower?.(action);
		},
	}).start();
	return { bmc, shell };
}
