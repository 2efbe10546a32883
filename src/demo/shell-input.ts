/**
 * Feeds a DemoShell from the two wire forms its consoles receive: X keysyms
 * (RFB KeyEvent) and USB HID keyboard reports (the mock BMC), on a US layout.
 */
import type { DemoShell } from "./shell.ts";

const US_UNSHIFTED: Record<number, string> = {};
const US_SHIFTED: Record<number, string> = {};
for (let i = 0; i < 26; i++) {
	US_UNSHIFTED[0x04 + i] = String.fromCharCode(97 + i);
	US_SHIFTED[0x04 + i] = String.fromCharCode(65 + i);
}
[..."1234567890"].forEach((c, i) => {
	US_UNSHIFTED[0x1e + i] = c;
	US_SHIFTED[0x1e + i] = "!@#$%^&*()"[i] as string;
});
const PUNCT = [0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38];
[..." -=[]\\;'`,./"].forEach((c, i) => {
	US_UNSHIFTED[PUNCT[i] as number] = c;
});
[...' _+{}|:"~<>?'].forEach((c, i) => {
	US_SHIFTED[PUNCT[i] as number] = c;
});

/** Keysym key state of one RFB connection. */
export class KeysymFeeder {
	private ctrl = false;
	private alt = false;

	constructor(private readonly shell: DemoShell) {}

	key(down: boolean, keysym: number): void {
		if (keysym === 0xffe3 || keysym === 0xffe4) this.ctrl = down;
		else if (keysym === 0xffe9 || keysym === 0xffea || keysym === 0xffe7 || keysym === 0xffe8) this.alt = down;
		if (!down) return;
		if (keysym === 0xffff && this.ctrl && this.alt) this.shell.reboot();
		else if (keysym === 0xff0d || keysym === 0xff8d) this.shell.enter();
		else if (keysym === 0xff08) this.shell.backspace();
		else if (keysym >= 0x20 && keysym <= 0x7e) {
			const ch = String.fromCharCode(keysym);
			if (this.ctrl && (ch === "c" || ch === "C")) this.shell.interrupt();
			else if (!this.ctrl && !this.alt) this.shell.typeChar(ch);
		}
	}
}

/** HID report state of the BMC's USB keyboard. */
export class HidReportFeeder {
	private held: number[] = [];

	constructor(private readonly shell: DemoShell) {}

	report(modifiers: number, keys: readonly number[]): void {
		const pressed = keys.filter((k) => !this.held.includes(k));
		this.held = [...keys];
		const ctrl = (modifiers & 0x11) !== 0;
		const shift = (modifiers & 0x22) !== 0;
		const alt = (modifiers & 0x44) !== 0;
		for (const usage of pressed) {
			if (usage === 0x4c && ctrl && alt) this.shell.reboot();
			else if (usage === 0x28 || usage === 0x58) this.shell.enter();
			else if (usage === 0x2a) this.shell.backspace();
			else if (ctrl && usage === 0x06) this.shell.interrupt();
			else if (!ctrl && !alt) {
				const ch = (shift ? US_SHIFTED : US_UNSHIFTED)[usage];
				if (ch) this.shell.typeChar(ch);
			}
		}
	}
}
