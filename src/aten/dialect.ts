/**
 * The ATEN/Insyde RFB dialect that Supermicro BMCs speak on their HTML5 KVM
 * WebSocket, as a pure state machine: bytes in, events out. It never blocks;
 * a message that has not fully arrived waits in the queue until the next push.
 *
 * Handshake: the banner (`RFB 055.008` on HTML5 firmware) is echoed unchanged
 * (a downgraded answer makes the BMC hang up), security type 16, a 24-byte
 * block that is read and thrown away, then the one-time `entry_value` token in
 * a 24-byte field followed by 24 zero bytes, SecurityResult, ClientInit at
 * once (slow BMCs drop a client that waits), and a ServerInit whose size and
 * pixel format are placeholders and whose name is followed by 12 ATEN bytes.
 *
 * After that the server's message types overlap standard RFB numbers with other
 * meanings and lengths, so they are dispatched on the ATEN table; a type not in
 * it has an unknown length and ends the connection.
 */
import { IkvmError, type Stage } from "../errors.ts";
import { ByteQueue } from "../vnc/byte-queue.ts";
import { printable } from "../vnc/errors.ts";

/** The security type of the ATEN/Insyde token handshake. */
export const ATEN_SECURITY_TYPE = 16;
/** Bytes of each credential field (user, password) in the handshake. */
export const CREDENTIAL_FIELD = 24;
/** Screen-off / no-signal sentinel: −640 × −480 as unsigned 16-bit. */
export const NO_SIGNAL_WIDTH = 0xfd80;
export const NO_SIGNAL_HEIGHT = 0xfe20;

export const ENCODING = { AST2100: 0x57, HERMON: 0x59, HERMON_OLD: 0 } as const;

/** Server → client message types of the ATEN table. */
export const SERVER_MSG = {
	FRAMEBUFFER_UPDATE: 0x00,
	CURSOR: 0x04,
	KEEP_ALIVE: 0x16,
	VIDEO_INFO: 0x33,
	KM_STATUS: 0x35,
	MOUSE_INFO: 0x37,
	SESSION: 0x39,
	SCREEN_STATUS: 0x3c,
} as const;

/** Client → server message types this client may send (0x32 quality and 0x36 mouse mode are never sent). */
export const CLIENT_MSG = {
	FRAMEBUFFER_UPDATE_REQUEST: 0x03,
	KEY_EVENT: 0x04,
	POINTER_EVENT: 0x05,
	KEEP_ALIVE: 0x15,
	POWER: 0x1a,
} as const;

/** The 0x1A action byte. */
export const POWER_CODE = { off: 0, on: 1, reset: 2, softOff: 3 } as const;

/** Fixed body length (after the type byte) of the server messages that have one. */
const FIXED_BODY: Record<number, number> = {
	[SERVER_MSG.KEEP_ALIVE]: 1,
	[SERVER_MSG.VIDEO_INFO]: 4,
	[SERVER_MSG.KM_STATUS]: 5,
	[SERVER_MSG.SESSION]: 264,
	[SERVER_MSG.SCREEN_STATUS]: 8,
};

/** What ServerInit says about this KVM session. */
export interface AtenServerInit {
	/** The placeholder size of ServerInit (not the screen's; that comes with every rectangle). */
	readonly placeholderWidth: number;
	readonly placeholderHeight: number;
	readonly name: string;
	readonly videoEnabled: boolean;
	/** False: a video-only session, the BMC ignores keyboard and mouse. */
	readonly keyboardMouseEnabled: boolean;
	readonly kickEnabled: boolean;
	readonly virtualMediaEnabled: boolean;
}

/** One rectangle of a FramebufferUpdate, payload copied out of the queue. */
export interface AtenRect {
	readonly x: number;
	readonly y: number;
	readonly width: number;
	readonly height: number;
	readonly encoding: number;
	readonly mode: number;
	readonly payload: Uint8Array;
}

/** What a 0x39 session message means, as far as the readings in the field agree. */
export type SessionNotice =
	| "joined"
	| "left"
	| "web-logout"
	| "too-many-users"
	| "bios-update"
	| "firmware-update"
	| "other";

export interface AtenSessionMessage {
	readonly a: number;
	readonly b: number;
	/** The decimal code the four bytes of `b` spell (0 when they spell none). */
	readonly code: number;
	readonly notice: SessionNotice;
	/** "<id> <user or role> <client ip>" as the BMC wrote it. */
	readonly text: string;
}

export type AtenEvent =
	/** Bytes the protocol itself must answer with (banner echo, security type, credentials, ClientInit). */
	| { readonly kind: "send"; readonly bytes: Uint8Array }
	| { readonly kind: "ready"; readonly init: AtenServerInit }
	/** A rectangle with video (encoding 0x57, 0x59 or 0) at its real size. */
	| { readonly kind: "rect"; readonly rect: AtenRect }
	/** The screen is off or has no signal (sentinel size or an empty rectangle). */
	| { readonly kind: "no-signal"; readonly width: number; readonly height: number }
	/** A rectangle at (0,0) of another size than the last: the host changed resolution. */
	| { readonly kind: "resize"; readonly width: number; readonly height: number }
	/** The end of one FramebufferUpdate with this many rectangles (0 = nothing changed). */
	| { readonly kind: "update-end"; readonly rects: number }
	| { readonly kind: "session"; readonly message: AtenSessionMessage };

export interface AtenDialectOptions {
	/** The `entry_value` token (the RFB "user"); the password field is sent as zeros. */
	token: string;
	maxWidth: number;
	maxHeight: number;
	/** Cap on one rectangle's payload. */
	maxPayloadBytes: number;
}

type State =
	| "banner"
	| "security-count"
	| "security-types"
	| "security-reason"
	| "challenge"
	| "security-result"
	| "server-init"
	| "message"
	| "fbu-header"
	| "rect-header"
	| "rect-payload"
	| "failed";

const RECT_HEADER = 20;
const SERVER_INIT_FIXED = 24;
const SERVER_INIT_EXTRA = 12;
const MAX_NAME = 4096;
const MAX_CURSOR_BYTES = 1024 * 1024;
/** Largest resolution treated as real; bigger sizes are garbage, not a resize. */
const SANE_MAX = 4096;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function dialectError(message: string, stage: Stage, hint?: string): IkvmError {
	return new IkvmError("PROTOCOL", message, {
		stage,
		hint:
			hint ??
			"The BMC sent data this client cannot parse; check that the target is a Supermicro BMC with the HTML5 iKVM.",
	});
}

/** The 48 credential bytes: token NUL-padded to 24 bytes, then a zero password field. */
export function credentialBlock(token: string): Uint8Array {
	const bytes = encoder.encode(token);
	if (bytes.length === 0 || bytes.length >= CREDENTIAL_FIELD || bytes.length !== token.length) {
		throw new IkvmError(
			"PROTOCOL",
			`The BMC's KVM token (entry_value) has ${bytes.length} bytes; the handshake takes 1 to 23 ASCII characters.`,
			{ stage: "aten-token", hint: "Is this a Supermicro HTML5 iKVM page? A fresh token is fetched on retry." },
		);
	}
	const block = new Uint8Array(CREDENTIAL_FIELD * 2);
	block.set(bytes);
	return block;
}

/** Reads the decimal code MP's reading finds in `b`: its four bytes as digits (values or ASCII). */
export function sessionCode(b: number): number {
	if (b >= 0 && b <= 9) return b;
	const bytes = [(b >>> 24) & 255, (b >>> 16) & 255, (b >>> 8) & 255, b & 255];
	let code = 0;
	for (const byte of bytes) {
		const digit = byte >= 0x30 && byte <= 0x39 ? byte - 0x30 : byte <= 9 ? byte : -1;
		if (digit < 0) return 0;
		code = code * 10 + digit;
	}
	return code;
}

function noticeOf(code: number): SessionNotice {
	switch (code) {
		case 0:
		case 1:
			return "joined";
		case 2:
			return "left";
		case 3:
			return "web-logout";
		case 4:
			return "too-many-users";
		case 8:
			return "bios-update";
		case 9:
			return "firmware-update";
		default:
			return "other";
	}
}

export class AtenDialect {
	private readonly queue = new ByteQueue(16 * 1024);
	private state: State = "banner";
	private securityCount = 0;
	private rectsLeft = 0;
	private rectsInUpdate = 0;
	private rectHeader: Omit<AtenRect, "payload"> & { dataLen: number } = {
		x: 0,
		y: 0,
		width: 0,
		height: 0,
		encoding: 0,
		mode: 0,
		dataLen: 0,
	};
	private width = 0;
	private height = 0;
	/** Body length of 0x37: 2 on most firmware, 3 on some (learned from a desync right after one). */
	private mouseInfoLength = 2;
	private lastType = -1;
	private bannerText = "";
	private init: AtenServerInit | undefined;

	constructor(private readonly options: AtenDialectOptions) {}

	get phase(): "handshake" | "streaming" | "failed" {
		if (this.state === "failed") return "failed";
		return this.init ? "streaming" : "handshake";
	}

	/** Where the handshake is, for timeouts ("banner", "security-result"...). */
	get where(): string {
		return this.state;
	}

	get banner(): string {
		return this.bannerText;
	}

	get serverInit(): AtenServerInit | undefined {
		return this.init;
	}

	/** The screen size of the last real rectangle (0 × 0 before the first). */
	get screen(): { width: number; height: number } {
		return { width: this.width, height: this.height };
	}

	/** Bytes of a message that has begun but not fully arrived. */
	get pending(): number {
		return this.queue.length;
	}

	/** Feeds received bytes; returns what happened. Throws an IkvmError on data it cannot parse (then stays failed). */
	push(chunk: Uint8Array): AtenEvent[] {
		if (this.state === "failed") return [];
		this.queue.push(chunk);
		const events: AtenEvent[] = [];
		try {
			while (this.step(events)) {
				// each step consumed a whole unit
			}
		} catch (error) {
			this.state = "failed";
			this.queue.clear();
			throw error;
		}
		return events;
	}

	/** One unit of input; false = need more bytes. */
	private step(out: AtenEvent[]): boolean {
		const q = this.queue;
		switch (this.state) {
			case "banner": {
				if (!q.has(12)) return false;
				const banner = q.takeCopy(12);
				const text = decoder.decode(banner);
				const match = /^RFB (\d{3})\.(\d{3})\n$/.exec(text);
				if (!match) {
					throw dialectError(
						`The BMC did not start with an RFB banner (got "${printable(banner)}").`,
						"aten-banner",
						"Is this a Supermicro BMC's HTML5 iKVM? Something else answered on its WebSocket.",
					);
				}
				const major = Number(match[1]);
				const minor = Number(match[2]);
				if (major === 3 && minor < 7) {
					throw dialectError(
						`The BMC offers RFB ${match[1]}.${match[2]}, which has no security-type list; it is not an ATEN iKVM.`,
						"aten-banner",
						'Use a "vnc" target for a plain VNC server.',
					);
				}
				this.bannerText = text.trim();
				// Echoed as received: answering 003.008 to 055.008 makes the BMC hang up.
				out.push({ kind: "send", bytes: banner });
				this.state = "security-count";
				return true;
			}
			case "security-count": {
				if (!q.has(1)) return false;
				this.securityCount = q.u8();
				this.state = this.securityCount === 0 ? "security-reason" : "security-types";
				return true;
			}
			case "security-reason": {
				if (!q.has(4)) return false;
				const length = q.peekU32(0);
				if (length > MAX_NAME) {
					throw dialectError("The BMC refused the connection with an over-long reason.", "aten-auth");
				}
				if (!q.has(4 + length)) return false;
				q.skip(4);
				const reason = decoder.decode(q.take(length));
				throw new IkvmError(
					"ACCESS_DENIED",
					`The BMC refused the KVM connection: ${printable(encoder.encode(reason), 200)}`,
					{
						stage: "aten-auth",
						hint: "The BMC's KVM may be disabled or busy; check the BMC web UI (Remote Control).",
						retryable: true,
					},
				);
			}
			case "security-types": {
				if (!q.has(this.securityCount)) return false;
				const types = [...q.take(this.securityCount)];
				if (!types.includes(ATEN_SECURITY_TYPE)) {
					throw dialectError(
						`The BMC offers RFB security types [${types.join(", ")}] but not ${ATEN_SECURITY_TYPE} (ATEN token).`,
						"aten-auth",
						'This is not a Supermicro/ATEN iKVM; for a plain VNC server use a "vnc" target.',
					);
				}
				out.push({ kind: "send", bytes: Uint8Array.of(ATEN_SECURITY_TYPE) });
				this.state = "challenge";
				return true;
			}
			case "challenge": {
				if (!q.has(24)) return false;
				// Not a challenge to answer: its contents vary per connection and are ignored by every viewer.
				q.skip(24);
				out.push({ kind: "send", bytes: credentialBlock(this.options.token) });
				this.state = "security-result";
				return true;
			}
			case "security-result": {
				if (!q.has(4)) return false;
				const result = q.u32();
				if (result !== 0) {
					throw new IkvmError("AUTH_FAILED", `The BMC rejected the KVM token (SecurityResult ${result}).`, {
						stage: "aten-auth",
						hint: "The entry_value token is single-use and short-lived; a fresh one is fetched on retry. If it persists, the account may lack the remote-console privilege.",
						retryable: true,
					});
				}
				// ClientInit right away, shared: some BMCs drop a client that waits, and we must not kick other viewers.
				out.push({ kind: "send", bytes: Uint8Array.of(1) });
				this.state = "server-init";
				return true;
			}
			case "server-init": {
				if (!q.has(SERVER_INIT_FIXED)) return false;
				const nameLength = q.peekU32(20);
				if (nameLength > MAX_NAME) {
					throw dialectError(`The BMC's ServerInit names a ${nameLength}-byte desktop name.`, "aten-auth");
				}
				const total = SERVER_INIT_FIXED + nameLength + SERVER_INIT_EXTRA;
				if (!q.has(total)) return false;
				const placeholderWidth = q.u16();
				const placeholderHeight = q.u16();
				q.skip(16 + 4);
				const name = decoder.decode(q.take(nameLength));
				q.skip(8); // unknown, perhaps a session id: not needed
				const flags = q.take(4);
				this.init = {
					placeholderWidth,
					placeholderHeight,
					name,
					videoEnabled: flags[0] !== 0,
					keyboardMouseEnabled: flags[1] !== 0,
					kickEnabled: flags[2] !== 0,
					virtualMediaEnabled: flags[3] !== 0,
				};
				out.push({ kind: "ready", init: this.init });
				this.state = "message";
				return true;
			}
			case "message":
				return this.message(out);
			case "fbu-header": {
				if (!q.has(3)) return false;
				q.skip(1);
				this.rectsLeft = q.u16();
				this.rectsInUpdate = this.rectsLeft;
				if (this.rectsLeft === 0) {
					out.push({ kind: "update-end", rects: 0 });
					this.state = "message";
				} else {
					this.state = "rect-header";
				}
				return true;
			}
			case "rect-header": {
				if (!q.has(RECT_HEADER)) return false;
				const x = q.u16();
				const y = q.u16();
				const width = q.u16();
				const height = q.u16();
				const encoding = q.s32();
				const mode = q.u32();
				const dataLen = q.u32();
				if (dataLen > this.options.maxPayloadBytes) {
					throw new IkvmError(
						"TOO_LARGE",
						`The BMC announced a ${dataLen}-byte video rectangle, more than the ${this.options.maxPayloadBytes} allowed.`,
						{ stage: "aten-video", hint: "This is not a plausible iKVM frame; try again." },
					);
				}
				this.rectHeader = { x, y, width, height, encoding, mode, dataLen };
				this.state = "rect-payload";
				return true;
			}
			case "rect-payload": {
				const h = this.rectHeader;
				if (!q.has(h.dataLen)) return false;
				// Always consumed whole, whatever the rectangle turns out to be.
				const payload = q.takeCopy(h.dataLen);
				this.onRect({ ...h, payload }, out);
				this.rectsLeft--;
				if (this.rectsLeft === 0) {
					out.push({ kind: "update-end", rects: this.rectsInUpdate });
					this.state = "message";
				} else {
					this.state = "rect-header";
				}
				return true;
			}
			case "failed":
				return false;
		}
	}

	private onRect(rect: AtenRect & { dataLen: number }, out: AtenEvent[]): void {
		const { width, height } = rect;
		const sentinel = width === NO_SIGNAL_WIDTH && height === NO_SIGNAL_HEIGHT;
		if (sentinel || rect.payload.length === 0) {
			out.push({ kind: "no-signal", width: sentinel ? 0 : width, height: sentinel ? 0 : height });
			return;
		}
		if (
			rect.encoding !== ENCODING.AST2100 &&
			rect.encoding !== ENCODING.HERMON &&
			rect.encoding !== ENCODING.HERMON_OLD
		) {
			throw dialectError(
				`The BMC sent video in encoding ${rect.encoding} (0x${(rect.encoding >>> 0).toString(16)}); only 0x57 (AST2100) and 0x59 (Hermon) are supported.`,
				"aten-video",
				"This BMC's video format is not supported yet; please report the board and firmware version.",
			);
		}
		if (width === 0 || height === 0 || width > SANE_MAX || height > SANE_MAX) {
			throw dialectError(`The BMC sent a ${width}x${height} video rectangle.`, "aten-video");
		}
		if (rect.x === 0 && rect.y === 0 && (width !== this.width || height !== this.height)) {
			if (width > this.options.maxWidth || height > this.options.maxHeight) {
				throw new IkvmError(
					"TOO_LARGE",
					`The host screen is ${width}x${height}, larger than the ${this.options.maxWidth}x${this.options.maxHeight} allowed.`,
					{ stage: "aten-video", hint: "Raise the console size limits or lower the host's resolution." },
				);
			}
			const first = this.width === 0;
			this.width = width;
			this.height = height;
			if (!first) out.push({ kind: "resize", width, height });
		}
		const { x, y, encoding, mode, payload } = rect;
		out.push({ kind: "rect", rect: { x, y, width, height, encoding, mode, payload } });
	}

	/** Whether a server message can start at `offset` of the queue (true when too few bytes tell). */
	private plausibleAt(offset: number): boolean {
		const q = this.queue;
		const type = q.peekU8(offset);
		if (type === SERVER_MSG.FRAMEBUFFER_UPDATE) {
			if (!q.has(offset + 4)) return true;
			return q.peekU8(offset + 1) === 0 && q.peekU16(offset + 2) <= 64;
		}
		return type === SERVER_MSG.CURSOR || type === SERVER_MSG.MOUSE_INFO || FIXED_BODY[type] !== undefined;
	}

	private message(out: AtenEvent[]): boolean {
		const q = this.queue;
		if (!q.has(1)) return false;
		const type = q.peekU8(0);
		if (type === SERVER_MSG.FRAMEBUFFER_UPDATE) {
			q.skip(1);
			this.lastType = type;
			this.state = "fbu-header";
			return true;
		}
		if (type === SERVER_MSG.CURSOR) {
			if (!q.has(21)) return false;
			const w = q.peekU32(9);
			const h = q.peekU32(13);
			const flag = q.peekU32(17);
			let total = 21;
			if (flag === 1) {
				const bitmap = w * h * 2;
				if (bitmap > MAX_CURSOR_BYTES) throw dialectError(`The BMC sent a ${w}x${h} cursor.`, "aten-video");
				total += 4 + bitmap;
			}
			if (!q.has(total)) return false;
			q.skip(total);
			this.lastType = type;
			return true;
		}
		if (type === SERVER_MSG.MOUSE_INFO) {
			if (!q.has(1 + this.mouseInfoLength)) return false;
			// Firmware differs (2 or 3 body bytes): when what follows reads as a message only after 3, it is 3.
			if (this.mouseInfoLength === 2 && q.has(5) && !this.plausibleAt(3) && this.plausibleAt(4)) {
				this.mouseInfoLength = 3;
			}
			q.skip(1 + this.mouseInfoLength);
			this.lastType = type;
			return true;
		}
		const body = FIXED_BODY[type];
		if (body === undefined) {
			if (this.lastType === SERVER_MSG.MOUSE_INFO && this.mouseInfoLength === 2) {
				// Firmware whose 0x37 carries 3 bytes: this byte was its last one.
				this.mouseInfoLength = 3;
				q.skip(1);
				this.lastType = -1;
				return true;
			}
			throw dialectError(
				`The BMC sent message type ${type} (0x${type.toString(16)}), unknown in the ATEN dialect; its length is unknown, so the stream cannot continue.`,
				"aten-video",
				"A fresh KVM connection is made on retry; if this persists, report the board and firmware version.",
			);
		}
		if (!q.has(1 + body)) return false;
		q.skip(1);
		const bytes = q.take(body);
		this.lastType = type;
		if (type === SERVER_MSG.SESSION) {
			const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
			const a = view.getUint32(0);
			const b = view.getUint32(4);
			const textBytes = bytes.subarray(8);
			const end = textBytes.indexOf(0);
			const text = decoder.decode(textBytes.subarray(0, end < 0 ? textBytes.length : end));
			const code = sessionCode(b);
			out.push({ kind: "session", message: { a, b, code, notice: noticeOf(code), text } });
		}
		return true;
	}
}

// ---------------------------------------------------------------- client messages

/** FramebufferUpdateRequest; the BMC ignores the rectangle, so it is the whole (unknown) screen. */
export function updateRequest(incremental: boolean): Uint8Array {
	return Uint8Array.of(CLIENT_MSG.FRAMEBUFFER_UPDATE_REQUEST, incremental ? 1 : 0, 0, 0, 0, 0, 0, 0, 0, 0);
}

/** ATEN KeyEvent (18 bytes): a USB HID keyboard usage, pressed or released. */
export function keyEvent(usage: number, down: boolean): Uint8Array {
	const m = new Uint8Array(18);
	m[0] = CLIENT_MSG.KEY_EVENT;
	m[2] = down ? 1 : 0;
	new DataView(m.buffer).setUint32(5, usage >>> 0);
	return m;
}

/** ATEN PointerEvent (18 bytes): absolute framebuffer pixels; bit 0 left, 1 middle, 2 right. */
export function pointerEvent(buttons: number, x: number, y: number): Uint8Array {
	const m = new Uint8Array(18);
	m[0] = CLIENT_MSG.POINTER_EVENT;
	m[2] = buttons & 0xff;
	const view = new DataView(m.buffer);
	view.setUint16(3, x & 0xffff);
	view.setUint16(5, y & 0xffff);
	return m;
}

/** Keep-alive (the BMC stops taking input from a client that sends none). */
export function keepAlive(): Uint8Array {
	return Uint8Array.of(CLIENT_MSG.KEEP_ALIVE, 0, 0, 0, 1, 0, 0, 0, 0);
}

/** 0x1A power control: acts on the real machine; only ever sent for an explicit power action. */
export function powerMessage(code: (typeof POWER_CODE)[keyof typeof POWER_CODE]): Uint8Array {
	return Uint8Array.of(CLIENT_MSG.POWER, code);
}
