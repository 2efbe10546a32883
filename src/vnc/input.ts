/**
 * RFB input messages, pure: KeyEvent (X keysyms), the QEMU extended key event
 * (keysym plus XT scan code), PointerEvent, and the XVP power message, and the
 * order in which a stroke's keys go down and up. The session (session.ts) sends
 * them at its pace and releases whatever is still held when it stops.
 */
import { qemuKeycode } from "../input/scancodes.ts";
import type { KeyStroke } from "../input/types.ts";
import { ClientMessage } from "./types.ts";

/** The QEMU client message (255) and its extended key event sub-type (0). */
export const QEMU_CLIENT_MESSAGE = 255;
export const QEMU_EXTENDED_KEY_EVENT = 0;
/** The XVP client/server message (250). */
export const XVP_MESSAGE = 250;

/** XVP message codes (RFB community extension "xvp"). */
export const XvpCode = { FAIL: 0, INIT: 1, SHUTDOWN: 2, REBOOT: 3, RESET: 4 } as const;

/** One key as it goes on the wire: its keysym, and its XT scan code when the server takes QEMU key events. */
export interface VncKey {
	readonly keysym: number;
	readonly scancode?: number;
}

export interface VncKeyEvent {
	readonly down: boolean;
	readonly key: VncKey;
}

/** KeyEvent: type 4, down-flag u8, 2 bytes padding, keysym u32 (big-endian, as all of RFB). */
export function keyEventMessage(down: boolean, keysym: number): Uint8Array {
	const m = new Uint8Array(8);
	m[0] = ClientMessage.KeyEvent;
	m[1] = down ? 1 : 0;
	new DataView(m.buffer).setUint32(4, keysym >>> 0);
	return m;
}

/** QEMU extended key event: type 255, sub-type 0, down-flag u16, keysym u32, XT keycode u32. */
export function qemuKeyEventMessage(down: boolean, keysym: number, scancode: number): Uint8Array {
	const m = new Uint8Array(12);
	const v = new DataView(m.buffer);
	m[0] = QEMU_CLIENT_MESSAGE;
	m[1] = QEMU_EXTENDED_KEY_EVENT;
	v.setUint16(2, down ? 1 : 0);
	v.setUint32(4, keysym >>> 0);
	v.setUint32(8, scancode >>> 0);
	return m;
}

/** The message for one key going down or up: a QEMU key event when the key has a scan code, else a KeyEvent. */
export function keyMessage(event: VncKeyEvent): Uint8Array {
	const { down, key } = event;
	return key.scancode !== undefined
		? qemuKeyEventMessage(down, key.keysym, key.scancode)
		: keyEventMessage(down, key.keysym);
}

/** PointerEvent: type 5, button mask u8, x u16, y u16. */
export function pointerEventMessage(buttons: number, x: number, y: number): Uint8Array {
	const m = new Uint8Array(6);
	const v = new DataView(m.buffer);
	m[0] = ClientMessage.PointerEvent;
	m[1] = buttons & 0xff;
	v.setUint16(2, clampU16(x));
	v.setUint16(4, clampU16(y));
	return m;
}

/** XVP client message: type 250, padding, version 1, code. */
export function xvpMessage(code: number): Uint8Array {
	return Uint8Array.of(XVP_MESSAGE, 0, 1, code);
}

function clampU16(n: number): number {
	return Math.max(0, Math.min(0xffff, Math.round(n)));
}

/**
 * The key events of one stroke, as a real client sends them: each modifier
 * goes down in order, then the key down and up, then the modifiers up in
 * reverse order. With `scancodes` every key carries its XT scan code (for the
 * QEMU extended key event) when it has one.
 */
export function strokeEvents(stroke: KeyStroke, scancodes: boolean): VncKeyEvent[] {
	const mods = stroke.modifiers.map((usage, i) =>
		vncKey(stroke.modifierKeysyms[i] ?? modifierKeysym(usage), usage, scancodes),
	);
	const key = vncKey(stroke.keysym, stroke.usage, scancodes);
	return [
		...mods.map((k) => ({ down: true, key: k })),
		{ down: true, key },
		{ down: false, key },
		...[...mods].reverse().map((k) => ({ down: false, key: k })),
	];
}

function vncKey(keysym: number, usage: number, scancodes: boolean): VncKey {
	const scancode = scancodes ? qemuKeycode(usage) : undefined;
	return scancode === undefined ? { keysym } : { keysym, scancode };
}

/** X keysyms of the HID modifier usages, for a stroke that leaves modifierKeysyms short. */
const MODIFIER_KEYSYMS: Readonly<Record<number, number>> = {
	224: 0xffe3, // Control_L
	225: 0xffe1, // Shift_L
	226: 0xffe9, // Alt_L
	227: 0xffeb, // Super_L
	228: 0xffe4, // Control_R
	229: 0xffe2, // Shift_R
	230: 0xffea, // Alt_R
	231: 0xffec, // Super_R
};

export function modifierKeysym(usage: number): number {
	return MODIFIER_KEYSYMS[usage] ?? 0;
}

/**
 * Tracks what is held down so every exit can release it: keys in press order,
 * and the pointer's last position and buttons.
 */
export class HeldInput {
	private readonly keys: VncKey[] = [];
	private pointerAt: { x: number; y: number; buttons: number } | undefined;

	/** Records a key event (call after it was sent). */
	key(event: VncKeyEvent): void {
		const i = this.keys.findIndex((k) => sameKey(k, event.key));
		if (event.down) {
			if (i < 0) this.keys.push(event.key);
		} else if (i >= 0) {
			this.keys.splice(i, 1);
		}
	}

	pointer(x: number, y: number, buttons: number): void {
		this.pointerAt = { x, y, buttons };
	}

	get anyHeld(): boolean {
		return this.keys.length > 0 || (this.pointerAt?.buttons ?? 0) !== 0;
	}

	/** Messages that release everything held, keys in reverse press order; clears the record. */
	releaseMessages(): Uint8Array[] {
		const out = [...this.keys].reverse().map((key) => keyMessage({ down: false, key }));
		this.keys.length = 0;
		if (this.pointerAt && this.pointerAt.buttons !== 0) {
			out.push(pointerEventMessage(0, this.pointerAt.x, this.pointerAt.y));
			this.pointerAt = { ...this.pointerAt, buttons: 0 };
		}
		return out;
	}
}

function sameKey(a: VncKey, b: VncKey): boolean {
	return a.keysym === b.keysym && a.scancode === b.scancode;
}
