/**
 * Keyboard and mouse on the AMI KVM, pure: USB HID reports wrapped in the
 * 32-byte IUSB header and sent as IVTP HID packets (type 0x01, status 0).
 *
 * IUSB header: "IUSB" and four spaces, version 1.0, header length 32, a
 * checksum byte that makes the 32 header bytes sum to 0 mod 256, the data
 * length (1 + report length), device type (0x30 keyboard, 0x31 mouse),
 * protocol (0x10 keyboard data, 0x20 mouse data), direction 0x80 (from the
 * remote client), device number 2, interface number (0 keyboard, 1 mouse) and
 * a sequence number that grows by one per packet. The length byte and the
 * report follow the header.
 */
import type { KeyStroke } from "../input/types.ts";
import { POINTER_BUTTON } from "../input/types.ts";
import { encodeIvtp } from "./ivtp.ts";

export const IVTP_HID_PACKET = 0x01;
export const IUSB_HEADER_BYTES = 32;
export const KEYBOARD_REPORT_BYTES = 8;
export const ABSOLUTE_MOUSE_REPORT_BYTES = 6;
/** Absolute coordinates span 0..32767 across the screen. */
export const ABSOLUTE_MAX = 32767;

export const IusbDevice = {
	keyboard: { type: 0x30, protocol: 0x10, iface: 0 },
	mouse: { type: 0x31, protocol: 0x20, iface: 1 },
} as const;

export type IusbDeviceKind = keyof typeof IusbDevice;

/** The 32-byte IUSB header for a report of `reportLength` bytes. */
export function iusbHeader(kind: IusbDeviceKind, sequence: number, reportLength: number): Uint8Array {
	const h = new Uint8Array(IUSB_HEADER_BYTES);
	const v = new DataView(h.buffer);
	h.set(new TextEncoder().encode("IUSB    "), 0);
	h[8] = 1;
	h[9] = 0;
	h[10] = IUSB_HEADER_BYTES;
	v.setUint32(12, 1 + reportLength, true);
	const device = IusbDevice[kind];
	h[17] = device.type;
	h[18] = device.protocol;
	h[19] = 0x80;
	h[20] = 2;
	h[21] = device.iface;
	v.setUint32(24, sequence >>> 0, true);
	h[11] = iusbChecksum(h);
	return h;
}

/** The byte that makes the header sum to 0 mod 256, computed with the checksum byte (offset 11) at 0. */
export function iusbChecksum(header: Uint8Array): number {
	let sum = 0;
	for (let i = 0; i < IUSB_HEADER_BYTES; i++) if (i !== 11) sum += header[i] ?? 0;
	return (256 - (sum & 0xff)) & 0xff;
}

/** One IVTP HID packet: IUSB header, report length, report. */
export function hidPacket(kind: IusbDeviceKind, sequence: number, report: Uint8Array): Uint8Array {
	const payload = new Uint8Array(IUSB_HEADER_BYTES + 1 + report.length);
	payload.set(iusbHeader(kind, sequence, report.length), 0);
	payload[IUSB_HEADER_BYTES] = report.length;
	payload.set(report, IUSB_HEADER_BYTES + 1);
	return encodeIvtp(IVTP_HID_PACKET, 0, payload);
}

/** Boot-protocol keyboard report: modifier mask, a reserved byte, up to six usages held down. */
export function keyboardReport(modifierMask: number, usages: readonly number[] = []): Uint8Array {
	if (usages.length > 6) throw new RangeError("a keyboard report holds at most six keys");
	const r = new Uint8Array(KEYBOARD_REPORT_BYTES);
	r[0] = modifierMask & 0xff;
	r.set(usages, 2);
	return r;
}

/** The modifier-mask bit of a HID modifier usage (0xe0 left Ctrl → bit 0 … 0xe7 right GUI → bit 7), else 0. */
export function modifierBit(usage: number): number {
	return usage >= 0xe0 && usage <= 0xe7 ? 1 << (usage - 0xe0) : 0;
}

/**
 * The keyboard reports of one stroke, as a physical keyboard produces them:
 * modifiers go down one by one, the key goes down and up with them held, then
 * the modifiers come up in reverse order. A modifier pressed as the key itself
 * (e.g. a lone Shift) is a mask bit, not a usage.
 */
export function strokeReports(stroke: KeyStroke): Uint8Array[] {
	const reports: Uint8Array[] = [];
	let mask = 0;
	for (const m of stroke.modifiers) {
		mask |= modifierBit(m);
		reports.push(keyboardReport(mask));
	}
	const keyBit = modifierBit(stroke.usage);
	reports.push(keyBit ? keyboardReport(mask | keyBit) : keyboardReport(mask, [stroke.usage]));
	reports.push(keyboardReport(mask));
	for (const m of [...stroke.modifiers].reverse()) {
		mask &= ~modifierBit(m);
		reports.push(keyboardReport(mask));
	}
	return reports;
}

/** HID mouse buttons: bit 0 left, bit 1 right, bit 2 middle (RFB numbers middle 2 and right 4). */
export function hidButtons(rfbMask: number): number {
	return (
		(rfbMask & POINTER_BUTTON.left ? 1 : 0) |
		(rfbMask & POINTER_BUTTON.right ? 2 : 0) |
		(rfbMask & POINTER_BUTTON.middle ? 4 : 0)
	);
}

/** Wheel movement of an RFB mask: +1 for wheel up (away from the user), -1 for down. */
export function wheelOf(rfbMask: number): number {
	if (rfbMask & POINTER_BUTTON.wheelUp) return 1;
	if (rfbMask & POINTER_BUTTON.wheelDown) return -1;
	return 0;
}

/** Scales a framebuffer pixel to 0..32767 across a screen of `size` pixels. */
export function absoluteCoordinate(pixel: number, size: number): number {
	if (size <= 1) return 0;
	return Math.max(0, Math.min(ABSOLUTE_MAX, Math.round((pixel * ABSOLUTE_MAX) / (size - 1))));
}

/** Absolute mouse report: buttons, x u16 LE, y u16 LE (0..32767), wheel i8. */
export function absoluteMouseReport(buttons: number, x: number, y: number, wheel: number): Uint8Array {
	const r = new Uint8Array(ABSOLUTE_MOUSE_REPORT_BYTES);
	const v = new DataView(r.buffer);
	r[0] = buttons & 0x07;
	v.setUint16(1, x, true);
	v.setUint16(3, y, true);
	v.setInt8(5, Math.max(-127, Math.min(127, wheel)));
	return r;
}

/** Numbers HID packets: one sequence per KVM connection, incremented per packet. */
export class HidSequencer {
	private next = 0;

	keyboard(report: Uint8Array): Uint8Array {
		return hidPacket("keyboard", this.next++, report);
	}

	mouse(report: Uint8Array): Uint8Array {
		return hidPacket("mouse", this.next++, report);
	}

	get sent(): number {
		return this.next;
	}
}
