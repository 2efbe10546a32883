/**
 * Named keys of the key notation: their USB HID usage (keyboard page 0x07) and
 * X keysym. Names are matched case-insensitively; aliases cover the spellings
 * people and models commonly use.
 */
import { HID_MODIFIER } from "./types.ts";

export interface NamedKey {
	/** The canonical name, as the audit log shows it. */
	readonly name: string;
	readonly usage: number;
	readonly keysym: number;
}

/** X keysyms (X11 keysymdef.h) of the keys the notation names. */
export const KEYSYM = {
	BackSpace: 0xff08,
	Tab: 0xff09,
	Return: 0xff0d,
	Pause: 0xff13,
	Scroll_Lock: 0xff14,
	Sys_Req: 0xff15,
	Escape: 0xff1b,
	Home: 0xff50,
	Left: 0xff51,
	Up: 0xff52,
	Right: 0xff53,
	Down: 0xff54,
	Page_Up: 0xff55,
	Page_Down: 0xff56,
	End: 0xff57,
	Print: 0xff61,
	Insert: 0xff63,
	Menu: 0xff67,
	Num_Lock: 0xff7f,
	F1: 0xffbe,
	Shift_L: 0xffe1,
	Shift_R: 0xffe2,
	Control_L: 0xffe3,
	Control_R: 0xffe4,
	Caps_Lock: 0xffe5,
	Alt_L: 0xffe9,
	Alt_R: 0xffea,
	Super_L: 0xffeb,
	Super_R: 0xffec,
	Delete: 0xffff,
	/** AltGr on ISO layouts. */
	ISO_Level3_Shift: 0xfe03,
	/** "No symbol": a stroke that exists only as a physical key (e.g. the space after a dead key). */
	VoidSymbol: 0xffffff,
	space: 0x20,
} as const;

const named: Array<[string, number, number, ...string[]]> = [
	["Enter", 0x28, KEYSYM.Return, "Return"],
	["Esc", 0x29, KEYSYM.Escape, "Escape"],
	["Backspace", 0x2a, KEYSYM.BackSpace, "BS"],
	["Tab", 0x2b, KEYSYM.Tab],
	["Space", 0x2c, KEYSYM.space],
	["CapsLock", 0x39, KEYSYM.Caps_Lock],
	["PrintScreen", 0x46, KEYSYM.Print, "Print", "PrtSc", "PrtScn"],
	["ScrollLock", 0x47, KEYSYM.Scroll_Lock],
	["Pause", 0x48, KEYSYM.Pause, "Break"],
	["Insert", 0x49, KEYSYM.Insert, "Ins"],
	["Home", 0x4a, KEYSYM.Home],
	["PageUp", 0x4b, KEYSYM.Page_Up, "PgUp"],
	["Delete", 0x4c, KEYSYM.Delete, "Del"],
	["End", 0x4d, KEYSYM.End],
	["PageDown", 0x4e, KEYSYM.Page_Down, "PgDn"],
	["Right", 0x4f, KEYSYM.Right],
	["Left", 0x50, KEYSYM.Left],
	["Down", 0x51, KEYSYM.Down],
	["Up", 0x52, KEYSYM.Up],
	["NumLock", 0x53, KEYSYM.Num_Lock],
	["Menu", 0x65, KEYSYM.Menu, "Application"],
];
for (let i = 0; i < 12; i++) {
	// F1–F12 are HID 0x3a–0x45 and keysyms F1 (0xffbe) onwards.
	named.push([`F${i + 1}`, 0x3a + i, KEYSYM.F1 + i]);
}

const byName = new Map<string, NamedKey>();
for (const [name, usage, keysym, ...aliases] of named) {
	const key = { name, usage, keysym };
	for (const n of [name, ...aliases]) byName.set(n.toLowerCase(), key);
}

/** The named key `name` (case-insensitive), or undefined. */
export function namedKey(name: string): NamedKey | undefined {
	return byName.get(name.toLowerCase());
}

/** The canonical names, for error hints and the README. */
export const NAMED_KEYS: readonly string[] = named.map(([name]) => name);

export interface Modifier {
	readonly name: "Ctrl" | "Shift" | "Alt" | "Meta" | "AltGr" | "SysRq";
	/** HID usage held while the chord's key is pressed. SysRq is the PrintScreen key held like a modifier. */
	readonly usage: number;
	readonly keysym: number;
}

const MODIFIERS: Record<string, Modifier> = {};
const mods: Array<[Modifier, ...string[]]> = [
	[{ name: "Ctrl", usage: HID_MODIFIER.leftCtrl, keysym: KEYSYM.Control_L }, "Control", "Ctl"],
	[{ name: "Shift", usage: HID_MODIFIER.leftShift, keysym: KEYSYM.Shift_L }],
	[{ name: "Alt", usage: HID_MODIFIER.leftAlt, keysym: KEYSYM.Alt_L }, "Option"],
	[{ name: "Meta", usage: HID_MODIFIER.leftMeta, keysym: KEYSYM.Super_L }, "Win", "Super", "Cmd", "Windows"],
	[{ name: "AltGr", usage: HID_MODIFIER.rightAlt, keysym: KEYSYM.ISO_Level3_Shift }],
	// Linux's magic SysRq is Alt held with PrintScreen held, then the command key.
	[{ name: "SysRq", usage: 0x46, keysym: KEYSYM.Print }],
];
for (const [m, ...aliases] of mods) for (const n of [m.name, ...aliases]) MODIFIERS[n.toLowerCase()] = m;

/** The modifier `name` (case-insensitive), or undefined. */
export function modifier(name: string): Modifier | undefined {
	return MODIFIERS[name.toLowerCase()];
}

/** The modifiers themselves typed as keys (`{Shift}` alone): usage and keysym of the left-hand key. */
export const MODIFIER_NAMES: readonly string[] = mods.map(([m]) => m.name);
