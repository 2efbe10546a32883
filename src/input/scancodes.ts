/**
 * USB HID usage (keyboard page 0x07) → PC XT scan code set 1, which QEMU's
 * extended key event (RFB pseudo-encoding -258) carries. Extended keys are
 * written 0xe0xx; `qemuKeycode` folds the 0xe0 prefix into bit 7 as QEMU expects.
 */

const LETTERS = [
	0x1e, 0x30, 0x2e, 0x20, 0x12, 0x21, 0x22, 0x23, 0x17, 0x24, 0x25, 0x26, 0x32, 0x31, 0x18, 0x19, 0x10, 0x13, 0x1f,
	0x14, 0x16, 0x2f, 0x11, 0x2d, 0x15, 0x2c,
];

const TABLE = new Map<number, number>();
for (const [i, code] of LETTERS.entries()) TABLE.set(0x04 + i, code);
// 1..9, 0
for (let i = 0; i < 10; i++) TABLE.set(0x1e + i, 0x02 + i);
// F1..F10 are contiguous; F11, F12 are not.
for (let i = 0; i < 10; i++) TABLE.set(0x3a + i, 0x3b + i);
const rest: Array<[number, number]> = [
	[0x28, 0x1c], // Enter
	[0x29, 0x01], // Esc
	[0x2a, 0x0e], // Backspace
	[0x2b, 0x0f], // Tab
	[0x2c, 0x39], // Space
	[0x2d, 0x0c], // - _
	[0x2e, 0x0d], // = +
	[0x2f, 0x1a], // [ {
	[0x30, 0x1b], // ] }
	[0x31, 0x2b], // \ |
	[0x32, 0x2b], // ISO key left of Enter (same position as \ on ANSI boards)
	[0x33, 0x27], // ; :
	[0x34, 0x28], // ' "
	[0x35, 0x29], // ` ~
	[0x36, 0x33], // , <
	[0x37, 0x34], // . >
	[0x38, 0x35], // / ?
	[0x39, 0x3a], // CapsLock
	[0x44, 0x57], // F11
	[0x45, 0x58], // F12
	[0x46, 0xe037], // PrintScreen / SysRq
	[0x47, 0x46], // ScrollLock
	[0x48, 0xe046], // Pause (QEMU's single-code form)
	[0x49, 0xe052], // Insert
	[0x4a, 0xe047], // Home
	[0x4b, 0xe049], // PageUp
	[0x4c, 0xe053], // Delete
	[0x4d, 0xe04f], // End
	[0x4e, 0xe051], // PageDown
	[0x4f, 0xe04d], // Right
	[0x50, 0xe04b], // Left
	[0x51, 0xe050], // Down
	[0x52, 0xe048], // Up
	[0x53, 0x45], // NumLock
	[0x64, 0x56], // ISO key right of left Shift (< > on de/fr, \ | on uk)
	[0x65, 0xe05d], // Menu
	[0xe0, 0x1d], // Left Ctrl
	[0xe1, 0x2a], // Left Shift
	[0xe2, 0x38], // Left Alt
	[0xe3, 0xe05b], // Left Meta
	[0xe4, 0xe01d], // Right Ctrl
	[0xe5, 0x36], // Right Shift
	[0xe6, 0xe038], // Right Alt (AltGr)
	[0xe7, 0xe05c], // Right Meta
];
for (const [usage, code] of rest) TABLE.set(usage, code);

/** Set-1 scan code of a HID usage (0xe0xx for extended keys), or undefined when the table has none. */
export function xtScancode(usage: number): number | undefined {
	return TABLE.get(usage);
}

/** The keycode of a QEMU extended key event: the set-1 code with 0xe0 folded into bit 7. */
export function qemuKeycode(usage: number): number | undefined {
	const code = TABLE.get(usage);
	if (code === undefined) return undefined;
	return code > 0xff ? 0x80 | (code & 0x7f) : code;
}

/** Every HID usage the table covers (tests check each resolves). */
export const SCANCODE_USAGES: readonly number[] = [...TABLE.keys()];
