/**
 * What the input layer hands a console session: keys already parsed from the
 * key notation and resolved for the host's keyboard layout, and pointer steps in
 * framebuffer pixels. Each protocol turns these into its own wire messages
 * (VNC KeyEvent/PointerEvent or QEMU extended key events, AMI IUSB HID reports,
 * ATEN key and pointer events); none of them sees the notation or a secret's name.
 */

/** USB HID keyboard-page (0x07) usages of the modifier keys. */
export const HID_MODIFIER = {
	leftCtrl: 0xe0,
	leftShift: 0xe1,
	leftAlt: 0xe2,
	leftMeta: 0xe3,
	rightCtrl: 0xe4,
	rightShift: 0xe5,
	rightAlt: 0xe6,
	rightMeta: 0xe7,
} as const;

/** One key press and release, with the modifiers held around it. */
export interface KeyStroke {
	readonly kind: "stroke";
	/** USB HID usage (page 0x07) of the key on the host's keyboard layout. */
	readonly usage: number;
	/** HID usages of the modifiers held while the key is pressed, in press order (e.g. [0xe1] for Shift). */
	readonly modifiers: readonly number[];
	/** X keysym of what the stroke types (VNC KeyEvent), e.g. 0x41 for "A", 0xff0d for Enter. */
	readonly keysym: number;
	/** X keysyms of `modifiers`, same order (e.g. 0xffe1 Shift_L). */
	readonly modifierKeysyms: readonly number[];
	/**
	 * What the audit log may say about this stroke: a key name or chord ("Enter", "Ctrl+Alt+Delete"),
	 * or "char" for a printable character and "secret" for a character of a secret (never the character).
	 */
	readonly label: string;
}

/** A pause inside a key or pointer sequence (`{wait 500}`). */
export interface InputWait {
	readonly kind: "wait";
	readonly ms: number;
}

export type KeyStep = KeyStroke | InputWait;

/** Pointer buttons as a bit mask, as RFB numbers them. */
export const POINTER_BUTTON = { left: 1, middle: 2, right: 4, wheelUp: 8, wheelDown: 16 } as const;

/** The pointer at (x, y) framebuffer pixels with these buttons down (a mask of POINTER_BUTTON). */
export interface PointerMove {
	readonly kind: "pointer";
	readonly x: number;
	readonly y: number;
	readonly buttons: number;
}

export type PointerStep = PointerMove | InputWait;

/** What a console can say about input it was given. */
export interface InputOutcome {
	/**
	 * "delivered": sent and, where the protocol can tell, accepted. "not-delivered": known not to reach
	 * the host (a view-only session, another viewer holds control); `reason` says why and what to do.
	 */
	readonly status: "delivered" | "not-delivered";
	readonly reason?: string;
	/** Strokes or pointer steps that went out. */
	readonly sent: number;
}

export type PowerAction = "status" | "on" | "off" | "shutdown" | "reset" | "cycle";

export interface PowerResult {
	/** The power state observed after the action (or now, for status). */
	readonly state: "on" | "off" | "unknown";
	/** Where the state was read, e.g. "BMC web API", "IVTP power status", "OVH task 12345", "Redfish PowerState". */
	readonly source: string;
	/** One line for the user: what was done and what was observed. */
	readonly message: string;
}
