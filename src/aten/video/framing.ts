/**
 * ATEN FramebufferUpdate framing, common to 0x57 and 0x59 (pure parsers that
 * return "need more bytes" instead of waiting):
 *
 *   u8 type (0), u8 pad, u16 nRects (0 = nothing changed, accepted)
 *   per rectangle: u16 x, y, w, h; s32 encoding; u32 mode (ignored);
 *                  u32 dataLen; dataLen bytes of payload
 *
 * w × h is the host's current screen resolution. The BMC signals a screen
 * that is off (or has no signal) with w = −640, h = −480 as int16
 * (0xFD80 × 0xFE20) and no data; a 0x57 rectangle of normal size with no data
 * means the same. Neither may resize the picture.
 */
import { IkvmError } from "../../errors.ts";

export const ATEN_RECT_HEADER_LENGTH = 20;
/** −640 × −480 as unsigned 16-bit values. */
export const NO_SIGNAL_WIDTH = 0xfd80;
export const NO_SIGNAL_HEIGHT = 0xfe20;
/** The sane range of a real resolution (ATEN notes §5). */
export const MAX_ATEN_DIMENSION = 4096;

export interface AtenRectHeader {
	x: number;
	y: number;
	width: number;
	height: number;
	/** Signed: 0x57 AST2100, 0x59 Hermon, 0 Hermon on old firmware. */
	encoding: number;
	/** Per-rectangle word of unknown meaning (0 in text mode); kept for logs. */
	mode: number;
	dataLength: number;
}

export interface AtenRect {
	header: AtenRectHeader;
	/** Exactly dataLength bytes (a view into the input). */
	payload: Uint8Array;
}

export type Parsed<T> = { kind: "ok"; value: T; length: number } | { kind: "need-more"; missing: number };

/** Parses a 20-byte rectangle header at `offset`. */
export function parseAtenRectHeader(bytes: Uint8Array, offset = 0): Parsed<AtenRectHeader> {
	const have = bytes.length - offset;
	if (have < ATEN_RECT_HEADER_LENGTH) return { kind: "need-more", missing: ATEN_RECT_HEADER_LENGTH - have };
	const view = new DataView(bytes.buffer, bytes.byteOffset + offset, ATEN_RECT_HEADER_LENGTH);
	return {
		kind: "ok",
		value: {
			x: view.getUint16(0),
			y: view.getUint16(2),
			width: view.getUint16(4),
			height: view.getUint16(6),
			encoding: view.getInt32(8),
			mode: view.getUint32(12),
			dataLength: view.getUint32(16),
		},
		length: ATEN_RECT_HEADER_LENGTH,
	};
}

/** Writes a rectangle header (mock BMC and tests). */
export function writeAtenRectHeader(header: AtenRectHeader): Uint8Array {
	const out = new Uint8Array(ATEN_RECT_HEADER_LENGTH);
	const view = new DataView(out.buffer);
	view.setUint16(0, header.x);
	view.setUint16(2, header.y);
	view.setUint16(4, header.width);
	view.setUint16(6, header.height);
	view.setInt32(8, header.encoding);
	view.setUint32(12, header.mode);
	view.setUint32(16, header.dataLength);
	return out;
}

export interface FramebufferUpdateLimits {
	/** Largest dataLen accepted for one rectangle (refused before waiting for it). Default 64 MiB. */
	maxRectBytes?: number;
	/** Largest nRects accepted. Default 4096. */
	maxRects?: number;
}

/**
 * Parses a whole FramebufferUpdate message starting at its type byte.
 * Returns the rectangles (payloads are views into `bytes`) and the message
 * length, or how many more bytes are needed at least.
 */
export function parseAtenFramebufferUpdate(
	bytes: Uint8Array,
	offset = 0,
	limits: FramebufferUpdateLimits = {},
): Parsed<AtenRect[]> {
	const maxRectBytes = limits.maxRectBytes ?? 64 * 1024 * 1024;
	const maxRects = limits.maxRects ?? 4096;
	const have = bytes.length - offset;
	if (have < 4) return { kind: "need-more", missing: 4 - have };
	if (bytes[offset] !== 0) {
		throw new IkvmError("PROTOCOL", `Not a FramebufferUpdate: message type ${bytes[offset]}.`, { stage: "decode" });
	}
	const count = ((bytes[offset + 2] ?? 0) << 8) | (bytes[offset + 3] ?? 0);
	if (count > maxRects) {
		throw new IkvmError("PROTOCOL", `ATEN FramebufferUpdate announces ${count} rectangles (limit ${maxRects}).`, {
			stage: "decode",
		});
	}
	const rects: AtenRect[] = [];
	let at = offset + 4;
	for (let i = 0; i < count; i++) {
		const parsed = parseAtenRectHeader(bytes, at);
		if (parsed.kind === "need-more") return parsed;
		const header = parsed.value;
		if (header.dataLength > maxRectBytes) {
			throw new IkvmError(
				"TOO_LARGE",
				`ATEN rectangle announces ${header.dataLength} bytes of data (limit ${maxRectBytes}).`,
				{ stage: "decode" },
			);
		}
		at += ATEN_RECT_HEADER_LENGTH;
		const missing = at + header.dataLength - bytes.length;
		if (missing > 0) return { kind: "need-more", missing };
		rects.push({ header, payload: bytes.subarray(at, at + header.dataLength) });
		at += header.dataLength;
	}
	return { kind: "ok", value: rects, length: at - offset };
}

/** What a rectangle means before any decoding. */
export type AtenRectClass =
	/** Host screen off or no signal: the sentinel size, or a 0x57 rectangle without data. Never resize on it. */
	| { kind: "no-signal"; reason: "sentinel" | "empty" }
	| { kind: "video"; codec: "ast2100" | "hermon"; resized: boolean };

/**
 * Classifies a rectangle against the current resolution (0 × 0 before the
 * first frame). An unknown encoding or an impossible size is an IkvmError;
 * a new size in 1..4096 is a resolution change: the caller resizes and asks
 * for a non-incremental update.
 */
export function classifyAtenRect(header: AtenRectHeader, current: { width: number; height: number }): AtenRectClass {
	if (header.width === NO_SIGNAL_WIDTH && header.height === NO_SIGNAL_HEIGHT) {
		return { kind: "no-signal", reason: "sentinel" };
	}
	const codec =
		header.encoding === 0x57 ? "ast2100" : header.encoding === 0x59 || header.encoding === 0 ? "hermon" : undefined;
	if (!codec) {
		throw new IkvmError(
			"NOT_SUPPORTED",
			`ATEN video encoding 0x${(header.encoding >>> 0).toString(16)} is not supported (0x57 AST2100 and 0x59 Hermon are).`,
			{
				stage: "decode",
				hint: "Report the BMC model and firmware version; this console sends a video format we cannot read.",
			},
		);
	}
	if (header.dataLength === 0) return { kind: "no-signal", reason: "empty" };
	if (
		header.width < 1 ||
		header.height < 1 ||
		header.width > MAX_ATEN_DIMENSION ||
		header.height > MAX_ATEN_DIMENSION
	) {
		throw new IkvmError(
			"PROTOCOL",
			`ATEN video rectangle has an impossible size ${header.width}x${header.height} (expected 1..${MAX_ATEN_DIMENSION}).`,
			{ stage: "decode" },
		);
	}
	return { kind: "video", codec, resized: header.width !== current.width || header.height !== current.height };
}
