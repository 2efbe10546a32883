/**
 * KeyStroke values for tests, built by hand for a US keyboard (the notation
 * parser lives in src/input and has its own tests): printable ASCII, a few
 * named keys and chords.
 */
import { HID_MODIFIER, type KeyStep, type KeyStroke } from "../../src/input/types.ts";

const SHIFT_L = 0xffe1;
const CONTROL_L = 0xffe3;
const ALT_L = 0xffe9;

const UNSHIFTED = "-=[]\\;'`,./";
const SHIFTED = '_+{}|:"~<>?';
const PUNCT_USAGE = [0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38];
const DIGITS = "1234567890";
const SHIFTED_DIGITS = "!@#$%^&*()";

/** HID usage and whether Shift is needed, for one printable ASCII character on a US keyboard. */
export function usKey(ch: string): { usage: number; shift: boolean } {
	const c = ch.charCodeAt(0);
	if (ch >= "a" && ch <= "z") return { usage: 0x04 + c - 97, shift: false };
	if (ch >= "A" && ch <= "Z") return { usage: 0x04 + c - 65, shift: true };
	if (DIGITS.includes(ch)) return { usage: 0x1e + DIGITS.indexOf(ch), shift: false };
	if (SHIFTED_DIGITS.includes(ch)) return { usage: 0x1e + SHIFTED_DIGITS.indexOf(ch), shift: true };
	if (ch === " ") return { usage: 0x2c, shift: false };
	if (UNSHIFTED.includes(ch)) return { usage: PUNCT_USAGE[UNSHIFTED.indexOf(ch)] as number, shift: false };
	if (SHIFTED.includes(ch)) return { usage: PUNCT_USAGE[SHIFTED.indexOf(ch)] as number, shift: true };
	throw new Error(`no US key for ${JSON.stringify(ch)}`);
}

export function charStroke(ch: string): KeyStroke {
	const { usage, shift } = usKey(ch);
	return {
		kind: "stroke",
		usage,
		modifiers: shift ? [HID_MODIFIER.leftShift] : [],
		keysym: ch.charCodeAt(0),
		modifierKeysyms: shift ? [SHIFT_L] : [],
		label: "char",
	};
}

export function typed(text: string): KeyStroke[] {
	return [...text].map(charStroke);
}

export const ENTER: KeyStroke = {
	kind: "stroke",
	usage: 0x28,
	modifiers: [],
	keysym: 0xff0d,
	modifierKeysyms: [],
	label: "Enter",
};

export const CTRL_ALT_DELETE: KeyStroke = {
	kind: "stroke",
	usage: 0x4c,
	modifiers: [HID_MODIFIER.leftCtrl, HID_MODIFIER.leftAlt],
	keysym: 0xffff,
	modifierKeysyms: [CONTROL_L, ALT_L],
	label: "Ctrl+Alt+Delete",
};

export function ctrl(ch: string): KeyStroke {
	return {
		kind: "stroke",
		usage: usKey(ch).usage,
		modifiers: [HID_MODIFIER.leftCtrl],
		keysym: ch.charCodeAt(0),
		modifierKeysyms: [CONTROL_L],
		label: `Ctrl+${ch.toUpperCase()}`,
	};
}

/** A line typed and Enter. */
export function line(text: string): KeyStep[] {
	return [...typed(text), ENTER];
}
