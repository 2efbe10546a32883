/**
 * An ATEN 0x57 ("AST2100") video encoder for the mock Supermicro BMC and the
 * tests: RGBA picture → rectangle payload (4-byte ATEN header + the ASPEED
 * bit stream), the bytes a Supermicro BMC puts in a FramebufferUpdate
 * rectangle. The block writer is the AST2500 encoder's (same bit stream);
 * what differs is ATEN's reading of it:
 * - two table selectors 0..11 (luma, chroma) and 16.16 dequantisation;
 * - DCT blocks are normal blocks only (0x0 / 0x8): the advance tables are not
 *   in the header;
 * - the decoder starts every frame from the default VQ colour cache, so
 *   colours are reused only within a frame;
 * - BT.601 colours (Cr→G 0.8125), as the BMC's own viewer shows them.
 *
 * Full frames paint every block; incremental frames carry only the blocks
 * that changed since the previous picture, with explicit positions.
 */

import { type AtenPayloadHeader, writeAtenPayloadHeader } from "../aspeed/aten.ts";
import type { ColorMatrix } from "../aspeed/color.ts";
import { ATEN_MAX_SELECTOR } from "../aspeed/quant.ts";
import { writeAtenRectHeader } from "../aten/video/framing.ts";
import {
	type EncodedFrameStats,
	encodeBitstream,
	quantSteps,
	type RgbaPicture,
	VQ_DEFAULT_SLOTS,
	validatePicture,
} from "./ast2500-encoder.ts";

export interface AtenEncodeOptions {
	/** "444" (default, ATEN's "Enhanced Text"): 8x8 blocks with VQ; "420" ("Normal"): 16x16 macroblocks, DCT only. */
	mode?: "444" | "420";
	/** 0 (coarsest) .. 11 (finest). Defaults 7 / 7 for 4:4:4 and 4 / 7 for 4:2:0, what HTML5 firmware sends. */
	lumaSelector?: number;
	chromaSelector?: number;
	/** 4:4:4 only: 8x8 blocks of at most four colours as VQ blocks (exact colours). Default true. */
	vq?: boolean;
	/** Incremental frame: only blocks whose pixels differ from this picture (same size) are sent. */
	previous?: RgbaPicture;
	/** Give every block an explicit position. */
	explicitPositions?: boolean;
	/** Matrix the decoder will use. Default "bt601". */
	colorMatrix?: ColorMatrix;
}

function header(options: AtenEncodeOptions): AtenPayloadHeader {
	const subsampling = options.mode === "420" ? "420" : "444";
	const lumaSelector = options.lumaSelector ?? (subsampling === "420" ? 4 : 7);
	const chromaSelector = options.chromaSelector ?? 7;
	for (const s of [lumaSelector, chromaSelector]) {
		if (!Number.isInteger(s) || s < 0 || s > ATEN_MAX_SELECTOR) {
			throw new RangeError(`ATEN table selector must be 0..${ATEN_MAX_SELECTOR}`);
		}
	}
	return { lumaSelector, chromaSelector, subsampling };
}

/** Encodes one 0x57 rectangle payload, with what was written. */
export function encodeAtenPayloadWithStats(
	image: RgbaPicture,
	options: AtenEncodeOptions = {},
): { payload: Uint8Array; stats: EncodedFrameStats } {
	const h = header(options);
	const mode420 = h.subsampling === "420";
	validatePicture(image, mode420);
	const { data, stats } = encodeBitstream(
		image,
		{
			mode420,
			vq: options.vq ?? true,
			stepsY: quantSteps(h.lumaSelector, false, "fixed16"),
			stepsC: quantSteps(h.chromaSelector, true, "fixed16"),
			low: false,
			lowExplicit: true,
			explicitPositions: options.explicitPositions === true,
			previous: options.previous,
			colorMatrix: options.colorMatrix ?? "bt601",
		},
		// The decoder resets its colour cache every frame: slots loaded earlier in this frame may be reused.
		{ slots: [...VQ_DEFAULT_SLOTS], reuse: true, next: 0 },
	);
	const payload = new Uint8Array(4 + data.length);
	payload.set(writeAtenPayloadHeader(h));
	payload.set(data, 4);
	return { payload, stats };
}

export function encodeAtenPayload(image: RgbaPicture, options: AtenEncodeOptions = {}): Uint8Array {
	return encodeAtenPayloadWithStats(image, options).payload;
}

/**
 * A whole FramebufferUpdate message with one rectangle: type 0, pad,
 * nRects 1, the 20-byte ATEN rectangle header (x = y = 0, w × h = the
 * resolution, encoding, mode 0, dataLen) and the payload.
 */
export function atenFramebufferUpdate(payload: Uint8Array, width: number, height: number, encoding = 0x57): Uint8Array {
	const rect = writeAtenRectHeader({ x: 0, y: 0, width, height, encoding, mode: 0, dataLength: payload.length });
	const out = new Uint8Array(4 + rect.length + payload.length);
	out.set([0, 0, 0, 1]);
	out.set(rect, 4);
	out.set(payload, 4 + rect.length);
	return out;
}

/** The "screen off / no signal" update: the −640 × −480 sentinel rectangle without data. */
export function atenNoSignalUpdate(encoding = 0x57): Uint8Array {
	return atenFramebufferUpdate(new Uint8Array(0), 0xfd80, 0xfe20, encoding);
}

/**
 * A BMC-like stream for one viewer: the first frame (and any after a
 * resolution change or `full: true`) is complete; later frames carry only
 * the blocks that changed. An unchanged picture gives a frame with no blocks.
 */
export class AtenStreamEncoder {
	private previous: RgbaPicture | undefined;

	constructor(private readonly options: Omit<AtenEncodeOptions, "previous"> = {}) {}

	encode(image: RgbaPicture, request: { full?: boolean } = {}): Uint8Array {
		const previous = request.full ? undefined : this.previous;
		const payload = encodeAtenPayload(image, { ...this.options, previous });
		this.previous = { width: image.width, height: image.height, rgba: image.rgba.slice() };
		return payload;
	}
}
