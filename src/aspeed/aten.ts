/**
 * The ATEN (Supermicro) front end of the ASPEED codec: RFB encoding 0x57
 * "AST2100". Each rectangle's payload is a 4-byte header (luma table
 * selector, chroma table selector, u16 big-endian sampling mode: 422 means
 * 4:2:0, 444 means 4:4:4) followed by the same bit stream the AST2500
 * decoder reads, decoded here with the decoder's ATEN dialect.
 *
 * Pure and incremental: one decoder per KVM session keeps the picture, and
 * each rectangle is painted over it (incremental frames carry only the
 * blocks that changed). Nothing here blocks or does I/O.
 */
import { IkvmError } from "../errors.ts";
import type { ColorMatrix } from "./color.ts";
import { Ast2500Decoder, type BitstreamInfo, type DecodedPicture } from "./decoder.ts";
import { ATEN_MAX_SELECTOR } from "./quant.ts";

/** RFB encoding number of ATEN's ASPEED video. */
export const ATEN_AST2100_ENCODING = 0x57;
export const ATEN_HEADER_LENGTH = 4;
/** The sampling-mode values of the header. ATEN calls 4:2:0 "422". */
export const ATEN_MODE_420 = 422;
export const ATEN_MODE_444 = 444;

export interface AtenDecoderLimits {
	/** Largest picture accepted (refused before allocating). Default 4096x4096. */
	maxWidth?: number;
	maxHeight?: number;
	/** Default "bt601", the colours of the BMC's own viewer. */
	colorMatrix?: ColorMatrix;
}

/** The parts of the rectangle header the decoder needs: the size is the current screen resolution. */
export interface AtenRectSize {
	width: number;
	height: number;
	/** Bytes of payload the rectangle header announced (dataLen); default: the payload's length. */
	dataLength?: number;
}

export interface AtenPayloadHeader {
	lumaSelector: number;
	chromaSelector: number;
	/** 4:2:0 (16x16 macroblocks) or 4:4:4 (8x8 blocks). */
	subsampling: "420" | "444";
}

export type AtenDecodeResult =
	| {
			kind: "picture";
			/** The persistent picture after this rectangle: a view, valid until the next decode (copy with `snapshot()`). */
			picture: DecodedPicture;
			header: AtenPayloadHeader;
			/** The resolution differs from the previous rectangle's: the picture restarted from black. */
			resized: boolean;
			/**
			 * A frame with at least one block per grid position (a full frame) has been
			 * decoded since the last resize, so the picture holds no leftover black.
			 */
			complete: boolean;
			info: BitstreamInfo;
	  }
	/** The payload is shorter than the rectangle announced: give the whole dataLen bytes. */
	| { kind: "need-more"; missing: number }
	/** dataLen 0 on a normal-sized rectangle: the host's screen is off or rebooting. */
	| { kind: "no-signal" };

export interface AtenDecoder {
	/** Paints one 0x57 rectangle's payload over the picture. Bad data throws an IkvmError (stage "decode"). */
	decode(payload: Uint8Array, rect: AtenRectSize): AtenDecodeResult;
	/** A copy of the current picture, or undefined before the first frame. */
	snapshot(): DecodedPicture | undefined;
	/** Forgets the picture, as a new KVM session would. */
	reset(): void;
}

function protocolError(message: string, hint?: string): IkvmError {
	return new IkvmError("PROTOCOL", message, { stage: "decode", hint });
}

/** Reads and validates the 4-byte payload header. */
export function parseAtenPayloadHeader(payload: Uint8Array): AtenPayloadHeader {
	if (payload.length < ATEN_HEADER_LENGTH + 4) {
		throw protocolError(
			`ATEN 0x57 payload too short: ${payload.length} bytes (a 4-byte header and at least one word of bit stream are needed).`,
		);
	}
	const lumaSelector = payload[0] ?? 0;
	const chromaSelector = payload[1] ?? 0;
	const mode = ((payload[2] ?? 0) << 8) | (payload[3] ?? 0);
	if (lumaSelector > ATEN_MAX_SELECTOR || chromaSelector > ATEN_MAX_SELECTOR) {
		throw protocolError(
			`ATEN 0x57 table selector out of range (luma ${lumaSelector}, chroma ${chromaSelector}; expected 0..${ATEN_MAX_SELECTOR}).`,
		);
	}
	if (mode !== ATEN_MODE_420 && mode !== ATEN_MODE_444) {
		throw protocolError(`ATEN 0x57 sampling mode ${mode} is unknown (422 = 4:2:0, 444 = 4:4:4).`);
	}
	return { lumaSelector, chromaSelector, subsampling: mode === ATEN_MODE_420 ? "420" : "444" };
}

/** Writes the 4-byte payload header (encoder side). */
export function writeAtenPayloadHeader(header: AtenPayloadHeader): Uint8Array {
	const mode = header.subsampling === "420" ? ATEN_MODE_420 : ATEN_MODE_444;
	return Uint8Array.of(header.lumaSelector, header.chromaSelector, mode >> 8, mode & 0xff);
}

class AtenDecoderImpl implements AtenDecoder {
	private readonly codec: Ast2500Decoder;
	private width = 0;
	private height = 0;
	private complete = false;

	constructor(limits: AtenDecoderLimits) {
		this.codec = new Ast2500Decoder({
			dialect: "aten",
			maxWidth: limits.maxWidth ?? 4096,
			maxHeight: limits.maxHeight ?? 4096,
			colorMatrix: limits.colorMatrix ?? "bt601",
		});
	}

	decode(payload: Uint8Array, rect: AtenRectSize): AtenDecodeResult {
		const expected = rect.dataLength ?? payload.length;
		if (payload.length < expected) return { kind: "need-more", missing: expected - payload.length };
		const data = payload.subarray(0, expected);
		if (data.length === 0) return { kind: "no-signal" };
		const header = parseAtenPayloadHeader(data);
		const { maxWidth, maxHeight } = this.codec.limits;
		if (!Number.isInteger(rect.width) || !Number.isInteger(rect.height) || rect.width < 1 || rect.height < 1) {
			throw protocolError(`ATEN 0x57 rectangle has an empty size ${rect.width}x${rect.height}.`);
		}
		if (rect.width > maxWidth || rect.height > maxHeight) {
			throw new IkvmError(
				"TOO_LARGE",
				`ATEN video size ${rect.width}x${rect.height} exceeds the limit ${maxWidth}x${maxHeight}.`,
				{ stage: "decode", hint: "Raise MAX_FRAMEBUFFER if this resolution is genuine." },
			);
		}
		const mode420 = header.subsampling === "420";
		const bs = mode420 ? 16 : 8;
		// Block positions are 8-bit: a grid wider or taller than 256 blocks cannot be addressed.
		if (Math.ceil(rect.width / bs) > 256 || Math.ceil(rect.height / bs) > 256) {
			throw protocolError(
				`ATEN 0x57 ${rect.width}x${rect.height} in ${mode420 ? "4:2:0" : "4:4:4"} needs block positions beyond 255.`,
			);
		}
		const resized = rect.width !== this.width || rect.height !== this.height;
		this.width = rect.width;
		this.height = rect.height;
		if (resized) this.complete = false;
		let info: BitstreamInfo;
		try {
			info = this.codec.applyBitstream(
				{
					width: rect.width,
					height: rect.height,
					gridWidth: rect.width,
					gridHeight: rect.height,
					mode420,
					tables: {
						luma: header.lumaSelector,
						chroma: header.chromaSelector,
						// Not in the header; the BMC's viewer uses selector 0 (only 0x4/0xC blocks use them).
						advanceLuma: 0,
						advanceChroma: 0,
						chromaFromLuma: false,
					},
				},
				data.subarray(ATEN_HEADER_LENGTH),
			);
		} catch (error) {
			// Blocks before the error are painted: the picture is not whole again until a full frame.
			this.complete = false;
			throw error;
		}
		if (info.blocks >= Math.ceil(rect.width / bs) * Math.ceil(rect.height / bs)) this.complete = true;
		const picture = this.codec.view() as DecodedPicture;
		return { kind: "picture", picture, header, resized, complete: this.complete, info };
	}

	snapshot(): DecodedPicture | undefined {
		return this.codec.snapshot();
	}

	reset(): void {
		this.codec.reset();
		this.width = 0;
		this.height = 0;
		this.complete = false;
	}
}

/** A decoder for one KVM session's 0x57 rectangles. */
export function createAtenDecoder(limits: AtenDecoderLimits = {}): AtenDecoder {
	return new AtenDecoderImpl(limits);
}
