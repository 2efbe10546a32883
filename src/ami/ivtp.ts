/**
 * IVTP, the AMI KVM protocol carried over `wss://<bmc>/kvm`.
 *
 * Three pure pieces, no I/O (the socket lives in socket.ts, the session in session.ts):
 * - `IvtpParser`: bytes in any chunking → packets. Each message is an 8-byte
 *   header (type u16 LE, payload size u32 LE, status u16 LE) and its payload.
 * - `VideoAssembler`: VIDEO_PACKETS payloads → complete frames (86-byte video
 *   header + CompressSize bytes), the format the AST2500 decoder takes.
 * - `IvtpProtocol`: the client state machine, packets in → steps out (bytes to
 *   send, "ready", frames), with typed errors for rejection, power off, busy.
 */
import { IkvmError } from "../errors.ts";
import type { AssembledFrame } from "./types.ts";

export const IvtpType = {
	HID_PACKET: 0x01,
	RESUME_REDIRECTION: 0x06,
	STOP_SESSION_IMMEDIATE: 0x08,
	PAINT_BLANK_SCREEN: 0x09,
	GET_FULL_SCREEN: 0x0b,
	VALIDATE_VIDEO_SESSION: 0x12,
	VALIDATED_VIDEO_SESSION: 0x13,
	MAX_SESSION_CLOSE: 0x16,
	CONNECTION_ALLOWED: 0x17,
	VIDEO_PACKETS: 0x19,
	KVM_SHARING: 0x20,
	POWER_STATUS: 0x22,
	POWER_CONTROL_REQUEST: 0x23,
	POWER_CONTROL_RESPONSE: 0x24,
	SET_NEXT_MASTER: 0x32,
	KEEP_ALIVE: 0x39,
	CONNECTION_COMPLETE: 0x3a,
	CONNECTION_FAILED: 0x3b,
} as const;

export const IVTP_HEADER_BYTES = 8;
export const VIDEO_HEADER_BYTES = 86;
export const VALIDATE_PAYLOAD_BYTES = 373;
/** Fragment numbers precede every VIDEO_PACKETS payload. */
const FRAGMENT_NUMBER_BYTES = 2;
/** A header length field outside this range is not trusted; the AMI viewer always assumes 86. */
const MAX_VIDEO_HEADER_BYTES = 512;

// ---------------------------------------------------------------------------
// Encoding

export function encodeIvtp(type: number, status = 0, payload?: Uint8Array): Uint8Array {
	const size = payload?.length ?? 0;
	const out = new Uint8Array(IVTP_HEADER_BYTES + size);
	const view = new DataView(out.buffer);
	view.setUint16(0, type, true);
	view.setUint32(2, size, true);
	view.setUint16(6, status, true);
	if (payload) out.set(payload, IVTP_HEADER_BYTES);
	return out;
}

export function concatBytes(parts: Uint8Array[]): Uint8Array {
	let length = 0;
	for (const p of parts) length += p.length;
	const out = new Uint8Array(length);
	let at = 0;
	for (const p of parts) {
		out.set(p, at);
		at += p.length;
	}
	return out;
}

export interface ValidateFields {
	/** The one-time token from /api/kvm/token. */
	token: string;
	clientIp: string;
	/** The AMI HTML5 viewer sends the placeholder "domain/username". */
	username?: string;
	mac?: string;
	/** 0 = first connection. */
	flag?: number;
}

/** VALIDATE_VIDEO_SESSION payload: flag u8, token 129, client ip 65, user 129, MAC 49; NUL-terminated, zero-padded. */
export function buildValidatePayload(fields: ValidateFields): Uint8Array {
	const out = new Uint8Array(VALIDATE_PAYLOAD_BYTES);
	out[0] = fields.flag ?? 0;
	writeCString(out, 1, 129, fields.token, "KVM token");
	writeCString(out, 130, 65, fields.clientIp, "client IP");
	writeCString(out, 195, 129, fields.username ?? "domain/username", "user name");
	writeCString(out, 324, 49, fields.mac ?? "00-00-00-00-00-00", "MAC");
	return out;
}

function writeCString(out: Uint8Array, offset: number, field: number, value: string, what: string): void {
	const bytes = new TextEncoder().encode(value);
	// A silently truncated token would be rejected with a misleading "session rejected".
	if (bytes.length > field - 1) {
		throw new IkvmError(
			"PROTOCOL",
			`The BMC's ${what} is ${bytes.length} bytes, longer than IVTP allows (${field - 1}).`,
			{
				stage: "handshake",
			},
		);
	}
	out.set(bytes, offset);
}

/** The bundle the AMI viewer sends after CONNECTION_ALLOWED: CONNECTION_COMPLETE + VALIDATE_VIDEO_SESSION + RESUME_REDIRECTION. */
export function buildAuthBundle(fields: ValidateFields): Uint8Array {
	return concatBytes([
		encodeIvtp(IvtpType.CONNECTION_COMPLETE, 1),
		encodeIvtp(IvtpType.VALIDATE_VIDEO_SESSION, 1, buildValidatePayload(fields)),
		encodeIvtp(IvtpType.RESUME_REDIRECTION, 0),
	]);
}

// ---------------------------------------------------------------------------
// Framing

export interface IvtpPacket {
	readonly type: number;
	readonly status: number;
	readonly payload: Uint8Array;
}

export interface IvtpParserOptions {
	/** Largest payload accepted; a larger size is refused before anything is allocated. */
	maxPayloadBytes: number;
	/** Packet types whose payload the caller needs; others are skipped without buffering. Default: all. */
	keep?: (type: number) => boolean;
}

interface PacketInProgress {
	type: number;
	status: number;
	size: number;
	received: number;
	/** Undefined for skipped packets: their bytes are counted, not stored. */
	payload?: Uint8Array;
}

/**
 * Incremental IVTP framing: feed chunks split anywhere, get whole packets.
 * Memory is bounded by one 8-byte header plus one payload of at most
 * `maxPayloadBytes`.
 */
export class IvtpParser {
	private readonly header = new Uint8Array(IVTP_HEADER_BYTES);
	private headerFill = 0;
	private current: PacketInProgress | undefined;
	private skippedCount = 0;

	constructor(private readonly options: IvtpParserOptions) {}

	/** Packets skipped because the caller did not want their type. */
	get skipped(): number {
		return this.skippedCount;
	}

	/** The packet being received, if one is incomplete. */
	get partial(): { type: number; received: number; size: number } | undefined {
		const c = this.current;
		if (c) return { type: c.type, received: c.received, size: c.size };
		return this.headerFill > 0 ? { type: -1, received: this.headerFill, size: IVTP_HEADER_BYTES } : undefined;
	}

	push(chunk: Uint8Array): IvtpPacket[] {
		const packets: IvtpPacket[] = [];
		let at = 0;
		while (at < chunk.length) {
			if (!this.current) {
				const take = Math.min(IVTP_HEADER_BYTES - this.headerFill, chunk.length - at);
				this.header.set(chunk.subarray(at, at + take), this.headerFill);
				this.headerFill += take;
				at += take;
				if (this.headerFill < IVTP_HEADER_BYTES) break;
				this.headerFill = 0;
				this.current = this.startPacket();
				if (this.current.size > 0) continue;
			} else {
				const c = this.current;
				const take = Math.min(c.size - c.received, chunk.length - at);
				c.payload?.set(chunk.subarray(at, at + take), c.received);
				c.received += take;
				at += take;
			}
			const done = this.current;
			if (done && done.received === done.size) {
				this.current = undefined;
				if (done.payload) packets.push({ type: done.type, status: done.status, payload: done.payload });
				else this.skippedCount++;
			}
		}
		return packets;
	}

	private startPacket(): PacketInProgress {
		const view = new DataView(this.header.buffer);
		const type = view.getUint16(0, true);
		const size = view.getUint32(2, true);
		const status = view.getUint16(6, true);
		if (size > this.options.maxPayloadBytes) {
			throw new IkvmError(
				"PROTOCOL",
				`The BMC sent an IVTP packet (type 0x${type.toString(16)}) of ${size} bytes, more than the ${this.options.maxPayloadBytes} allowed; the stream is corrupt or not IVTP.`,
			);
		}
		const keep = this.options.keep?.(type) ?? true;
		return { type, status, size, received: 0, payload: keep ? new Uint8Array(size) : undefined };
	}
}

// ---------------------------------------------------------------------------
// Video reassembly

export interface VideoLimits {
	maxWidth: number;
	maxHeight: number;
	/** Absolute cap on one frame's compressed data. */
	maxFrameBytes: number;
}

/** Worst-case compressed size of a frame: DCT blocks can exceed raw size, about 10 bytes a pixel at most. */
export function frameByteBound(width: number, height: number, cap: number): number {
	return Math.min(cap, width * height * 12 + 65_536);
}

interface FrameInProgress {
	index: number;
	width: number;
	height: number;
	compressSize: number;
	bytes: Uint8Array;
	filled: number;
}

/**
 * VIDEO_PACKETS payloads → frames. Like the AMI viewer, a fragment that arrives
 * when no frame is in progress starts one: fragment number, the video header,
 * then data; later fragments carry data until CompressSize bytes are in.
 */
export class VideoAssembler {
	private current: FrameInProgress | undefined;
	private started = 0;

	constructor(private readonly limits: VideoLimits) {}

	/** Frames whose first fragment has arrived; the next frame gets this index. */
	get framesStarted(): number {
		return this.started;
	}

	get progress(): { received: number; expected: number } | undefined {
		const c = this.current;
		return c ? { received: c.filled - VIDEO_HEADER_BYTES, expected: c.compressSize } : undefined;
	}

	push(payload: Uint8Array): AssembledFrame | undefined {
		if (payload.length < FRAGMENT_NUMBER_BYTES) {
			throw new IkvmError(
				"PROTOCOL",
				`The BMC sent a video packet of ${payload.length} bytes, too short to hold a fragment number.`,
			);
		}
		let data: Uint8Array;
		if (!this.current) {
			const { frame, rest } = this.begin(payload.subarray(FRAGMENT_NUMBER_BYTES));
			this.current = frame;
			data = rest;
		} else {
			data = payload.subarray(FRAGMENT_NUMBER_BYTES);
		}
		const c = this.current;
		// Bytes past CompressSize belong to no frame; the AMI viewer drops them too.
		const take = Math.min(data.length, c.bytes.length - c.filled);
		c.bytes.set(data.subarray(0, take), c.filled);
		c.filled += take;
		if (c.filled < c.bytes.length) return undefined;
		this.current = undefined;
		return { index: c.index, width: c.width, height: c.height, bytes: c.bytes };
	}

	private begin(body: Uint8Array): { frame: FrameInProgress; rest: Uint8Array } {
		if (body.length < VIDEO_HEADER_BYTES) {
			throw new IkvmError(
				"PROTOCOL",
				`The first video fragment holds ${body.length} bytes, less than the ${VIDEO_HEADER_BYTES}-byte video header.`,
			);
		}
		const view = new DataView(body.buffer, body.byteOffset, body.length);
		const declaredHeader = view.getUint16(2, true);
		const headerBytes =
			declaredHeader >= VIDEO_HEADER_BYTES && declaredHeader <= Math.min(MAX_VIDEO_HEADER_BYTES, body.length)
				? declaredHeader
				: VIDEO_HEADER_BYTES;
		const width = view.getUint16(4, true);
		const height = view.getUint16(6, true);
		const compressSize = view.getUint32(69, true);
		if (width === 0 || height === 0) {
			throw new IkvmError("PROTOCOL", `The BMC sent a video frame of size ${width}x${height}.`, {
				hint: "The server may have no video signal; check its display output.",
			});
		}
		if (width > this.limits.maxWidth || height > this.limits.maxHeight) {
			throw new IkvmError(
				"TOO_LARGE",
				`The console frame is ${width}x${height}, larger than the ${this.limits.maxWidth}x${this.limits.maxHeight} limit.`,
				{ hint: "Raise MAX_FRAMEBUFFER if this resolution is real." },
			);
		}
		const bound = frameByteBound(width, height, this.limits.maxFrameBytes);
		if (compressSize > bound) {
			throw new IkvmError(
				"PROTOCOL",
				`The BMC announced ${compressSize} bytes of video data for a ${width}x${height} frame, more than the ${bound} possible.`,
			);
		}
		const bytes = new Uint8Array(VIDEO_HEADER_BYTES + compressSize);
		bytes.set(body.subarray(0, VIDEO_HEADER_BYTES));
		// The decoder reads a fixed 86-byte header; say so if the BMC's was longer.
		new DataView(bytes.buffer).setUint16(2, VIDEO_HEADER_BYTES, true);
		const frame = { index: this.started++, width, height, compressSize, bytes, filled: VIDEO_HEADER_BYTES };
		return { frame, rest: body.subarray(headerBytes) };
	}
}

// ---------------------------------------------------------------------------
// Protocol state machine

export type IvtpState = "awaiting-allowed" | "awaiting-validation" | "awaiting-power" | "streaming";

export type IvtpStep =
	| { kind: "send"; bytes: Uint8Array }
	/** Validated, powered on, and the first GET_FULL_SCREEN sent. */
	| { kind: "ready"; fullScreenFrom: number }
	| { kind: "frame"; frame: AssembledFrame }
	/** The BMC reports no video signal. */
	| { kind: "blank" }
	| { kind: "power"; on: boolean }
	/** The answer to a power control request (0x24); `status` as the BMC gave it. */
	| { kind: "power-control"; status: number };

const STOP_REASONS: Record<number, string> = {
	2: "the KVM service restarted",
	5: "the KVM configuration changed",
	7: "the web session was logged out",
	8: "the KVM licence expired",
	9: "the KVM session timed out",
	10: "another user terminated this session",
	11: "the BMC web server restarted",
};

export interface IvtpProtocolOptions extends VideoLimits {
	credentials: ValidateFields;
}

/** The client side of the IVTP handshake and video stream. Feed it packets; it says what to send and what arrived. */
export class IvtpProtocol {
	private stateValue: IvtpState = "awaiting-allowed";
	private index: number | undefined;
	readonly assembler: VideoAssembler;

	constructor(private readonly options: IvtpProtocolOptions) {
		this.assembler = new VideoAssembler(options);
	}

	get state(): IvtpState {
		return this.stateValue;
	}

	/**
	 * This session's index from VALIDATED_VIDEO_SESSION (payload byte 1): 0 is the master, whose input
	 * the BMC honours; above 0 another session holds control. Undefined before validation.
	 */
	get sessionIndex(): number | undefined {
		return this.index;
	}

	/** Parser options matching this protocol: the largest packet a legal frame can need. */
	parserOptions(): IvtpParserOptions {
		const { maxWidth, maxHeight, maxFrameBytes } = this.options;
		return {
			maxPayloadBytes:
				FRAGMENT_NUMBER_BYTES + MAX_VIDEO_HEADER_BYTES + frameByteBound(maxWidth, maxHeight, maxFrameBytes),
			keep: (type) => KNOWN_TYPES.has(type),
		};
	}

	/** GET_FULL_SCREEN, and the index from which frames answer it. */
	requestFullScreen(): { bytes: Uint8Array; from: number } {
		return { bytes: encodeIvtp(IvtpType.GET_FULL_SCREEN, 0), from: this.assembler.framesStarted };
	}

	keepAlive(): Uint8Array {
		return encodeIvtp(IvtpType.KEEP_ALIVE, 0);
	}

	/** Throws IkvmError (without a stage: the session knows which one it is in). */
	handle(packet: IvtpPacket): IvtpStep[] {
		switch (packet.type) {
			case IvtpType.CONNECTION_ALLOWED:
				if (this.stateValue !== "awaiting-allowed") return [];
				this.stateValue = "awaiting-validation";
				return [{ kind: "send", bytes: buildAuthBundle(this.options.credentials) }];
			case IvtpType.VALIDATED_VIDEO_SESSION:
				return this.onValidated(packet);
			case IvtpType.POWER_STATUS:
				return this.onPower(packet.status === 1);
			case IvtpType.POWER_CONTROL_RESPONSE:
				return [{ kind: "power-control", status: packet.status }];
			case IvtpType.KVM_SHARING:
				// Status low byte: privilege request state; high byte: result (0 allowed, 1 denied, 2 partial,
				// 3 timeout). Its payload layout is not documented, so it changes nothing here.
				return [];
			case IvtpType.VIDEO_PACKETS: {
				if (this.stateValue === "awaiting-allowed" || this.stateValue === "awaiting-validation") return [];
				const frame = this.assembler.push(packet.payload);
				return frame ? [{ kind: "frame", frame }] : [];
			}
			case IvtpType.PAINT_BLANK_SCREEN:
				return [{ kind: "blank" }];
			case IvtpType.MAX_SESSION_CLOSE:
				throw new IkvmError(
					"BUSY",
					packet.status === 1
						? "The BMC refused the KVM session: a KVM session of this client is already running."
						: "The BMC refused the KVM session: the maximum number of KVM sessions is already open.",
					{
						hint: "Close other KVM viewers of this BMC (its web UI, other tools) or wait for them to time out, then try again.",
						retryable: true,
					},
				);
			case IvtpType.STOP_SESSION_IMMEDIATE:
				throw new IkvmError(
					"CONNECTION",
					`The BMC ended the KVM session: ${STOP_REASONS[packet.status] ?? `reason code ${packet.status}`}.`,
					{ retryable: true },
				);
			case IvtpType.CONNECTION_FAILED:
				throw new IkvmError("CONNECTION", "The BMC reported that the KVM connection failed.", { retryable: true });
			default:
				return [];
		}
	}

	private onValidated(packet: IvtpPacket): IvtpStep[] {
		if (this.stateValue !== "awaiting-validation") return [];
		const result = packet.payload[0];
		if (result === 1) {
			this.index = packet.payload[1] ?? 0;
			this.stateValue = "awaiting-power";
			return [{ kind: "send", bytes: encodeIvtp(IvtpType.POWER_STATUS, 0) }];
		}
		if (result === 2) {
			throw new IkvmError("ACCESS_DENIED", "The BMC rejected the KVM session: KVM access is disabled for this user.", {
				hint: "Use a BMC account with KVM (remote console) privilege.",
			});
		}
		const why =
			result === 3 ? "invalid session information" : result === 0 ? "invalid session" : `code ${result ?? "none"}`;
		throw new IkvmError("AUTH_FAILED", `The BMC rejected the KVM session (session rejected: ${why}).`, {
			hint: "The one-time KVM token was refused (used already, or the web session expired). Try again; a fresh login is made.",
			retryable: true,
		});
	}

	private onPower(on: boolean): IvtpStep[] {
		if (this.stateValue === "streaming") return [{ kind: "power", on }];
		if (this.stateValue !== "awaiting-power") return [];
		if (!on) throw poweredOffError();
		this.stateValue = "streaming";
		const { bytes, from } = this.requestFullScreen();
		return [
			{ kind: "send", bytes: concatBytes([encodeIvtp(IvtpType.RESUME_REDIRECTION, 0), bytes]) },
			{ kind: "ready", fullScreenFrom: from },
		];
	}
}

export function poweredOffError(): IkvmError {
	return new IkvmError("POWERED_OFF", "The server is powered off: its console has no picture.", {
		hint: "Power the server on (BMC web UI, `ipmitool chassis power on`, or your provider's panel) and try again.",
	});
}

const KNOWN_TYPES: ReadonlySet<number> = new Set([
	IvtpType.VALIDATED_VIDEO_SESSION,
	IvtpType.CONNECTION_ALLOWED,
	IvtpType.VIDEO_PACKETS,
	IvtpType.POWER_STATUS,
	IvtpType.POWER_CONTROL_RESPONSE,
	IvtpType.KVM_SHARING,
	IvtpType.PAINT_BLANK_SCREEN,
	IvtpType.MAX_SESSION_CLOSE,
	IvtpType.STOP_SESSION_IMMEDIATE,
	IvtpType.CONNECTION_FAILED,
]);
