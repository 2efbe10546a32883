/**
 * The 86-byte AST2500 video header that precedes every compressed frame
 *. Parsing validates everything the decoder will size
 * buffers from, so a hostile header is refused before anything is allocated.
 */
import { IkvmError } from "../errors.ts";

/** Size of the header as AMI firmware sends it (wHeaderLen). */
export const VIDEO_HEADER_LENGTH = 86;
/** A header claiming more than this is refused rather than skipped over. */
const MAX_HEADER_LENGTH = 1024;

export interface VideoHeader {
	engineVersion: number;
	/** Bytes of header before the compressed data (86 on every BMC seen). */
	headerLength: number;
	/** Output picture size (Source.X / Source.Y). */
	width: number;
	height: number;
	/** Size the block grid is laid over (Destination.X / Destination.Y). */
	gridWidth: number;
	gridHeight: number;
	frameNumber: number;
	compressionMode: number;
	/** 0..7, quality of normal blocks (QT0/QT1). */
	jpegTableSelector: number;
	/** 1 = chroma uses the luma table set (AMI polarity). */
	yuvTableMapping: number;
	/** 0..7, quality of pass-2 / low blocks (QT2/QT3). */
	advanceTableSelector: number;
	numberOfBlocks: number;
	rc4Enable: number;
	/** false = YUV 4:4:4 in 8x8 blocks, true = YUV 4:2:0 in 16x16 macroblocks. */
	mode420: boolean;
	/** Number of compressed bytes after the header. */
	compressSize: number;
	cursorX: number;
	cursorY: number;
}

export interface HeaderLimits {
	maxWidth: number;
	maxHeight: number;
}

function protocolError(message: string, hint?: string): IkvmError {
	return new IkvmError("PROTOCOL", message, { stage: "decode", hint });
}

/**
 * Parses and validates the header at the start of `frame`.
 * Refuses: short input, an impossible header length, zero or oversized
 * pictures, table selectors outside 0..7, unknown sampling modes, RC4.
 */
export function parseVideoHeader(frame: Uint8Array, limits: HeaderLimits): VideoHeader {
	if (frame.length < VIDEO_HEADER_LENGTH) {
		throw protocolError(
			`AST2500 frame too short: ${frame.length} bytes, the video header alone is ${VIDEO_HEADER_LENGTH}.`,
		);
	}
	const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
	const u8 = (o: number) => view.getUint8(o);
	const u16 = (o: number) => view.getUint16(o, true);
	const u32 = (o: number) => view.getUint32(o, true);

	const declaredLength = u16(2);
	// 0 is tolerated as "the usual 86" (some encoders leave it unset); anything
	// else below 86 cannot hold the fields we rely on.
	const headerLength = declaredLength === 0 ? VIDEO_HEADER_LENGTH : declaredLength;
	if (headerLength < VIDEO_HEADER_LENGTH || headerLength > MAX_HEADER_LENGTH) {
		throw protocolError(
			`AST2500 video header length ${declaredLength} is invalid (expected ${VIDEO_HEADER_LENGTH}).`,
			"A frame file is the 86-byte AST2500 video header followed by the compressed data.",
		);
	}

	const width = u16(4);
	const height = u16(6);
	if (width === 0 || height === 0) {
		throw protocolError(`AST2500 frame has an empty picture size ${width}x${height}.`);
	}
	if (width > limits.maxWidth || height > limits.maxHeight) {
		throw new IkvmError(
			"TOO_LARGE",
			`AST2500 frame size ${width}x${height} exceeds the limit ${limits.maxWidth}x${limits.maxHeight}.`,
			{ stage: "decode", hint: "Raise MAX_FRAMEBUFFER if this resolution is genuine." },
		);
	}
	// The grid normally equals the picture; 0 means "not set", use the picture.
	const destX = u16(13);
	const destY = u16(15);
	const gridWidth = destX === 0 ? width : destX;
	const gridHeight = destY === 0 ? height : destY;
	if (gridWidth > limits.maxWidth || gridHeight > limits.maxHeight) {
		throw protocolError(`AST2500 block grid ${gridWidth}x${gridHeight} exceeds the picture limit.`);
	}

	const jpegTableSelector = u8(44);
	const advanceTableSelector = u8(47);
	if (jpegTableSelector > 7 || advanceTableSelector > 7) {
		throw protocolError(
			`AST2500 quantisation table selector out of range (JPEG ${jpegTableSelector}, advance ${advanceTableSelector}; expected 0..7).`,
		);
	}
	const mode = u8(55);
	if (mode > 1) throw protocolError(`AST2500 sampling mode ${mode} is unknown (0 = 4:4:4, 1 = 4:2:0).`);

	const rc4Enable = u8(53);
	if (rc4Enable !== 0) {
		throw new IkvmError("NOT_SUPPORTED", "AST2500 frame is RC4-encrypted (RC4Enable=1), which is not supported.", {
			stage: "decode",
			hint: "Disable KVM video encryption on the BMC; AMI's own viewer cannot decode such frames either.",
		});
	}

	return {
		engineVersion: u16(0),
		headerLength,
		width,
		height,
		gridWidth,
		gridHeight,
		frameNumber: u32(26),
		compressionMode: u8(42),
		jpegTableSelector,
		yuvTableMapping: u8(45),
		advanceTableSelector,
		numberOfBlocks: u32(49),
		rc4Enable,
		mode420: mode === 1,
		compressSize: u32(69),
		cursorX: u16(82),
		cursorY: u16(84),
	};
}

/** Fields an encoder sets; everything else is written as zero. */
export interface VideoHeaderFields {
	width: number;
	height: number;
	mode420: boolean;
	jpegTableSelector: number;
	advanceTableSelector: number;
	yuvTableMapping: number;
	compressSize: number;
	numberOfBlocks?: number;
	frameNumber?: number;
}

/** Builds an 86-byte header (used by the test/demo encoder and tests). */
export function writeVideoHeader(fields: VideoHeaderFields): Uint8Array {
	const out = new Uint8Array(VIDEO_HEADER_LENGTH);
	const view = new DataView(out.buffer);
	view.setUint16(2, VIDEO_HEADER_LENGTH, true);
	view.setUint16(4, fields.width, true);
	view.setUint16(6, fields.height, true);
	view.setUint16(13, fields.width, true);
	view.setUint16(15, fields.height, true);
	view.setUint32(26, fields.frameNumber ?? 0, true);
	view.setUint16(30, fields.width, true);
	view.setUint16(32, fields.height, true);
	view.setUint8(43, 16);
	view.setUint8(44, fields.jpegTableSelector);
	view.setUint8(45, fields.yuvTableMapping);
	view.setUint8(47, fields.advanceTableSelector);
	view.setUint8(48, 16);
	view.setUint32(49, fields.numberOfBlocks ?? 0, true);
	view.setUint8(55, fields.mode420 ? 1 : 0);
	view.setUint32(69, fields.compressSize, true);
	return out;
}
