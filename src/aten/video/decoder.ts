/**
 * The video side of one ATEN KVM session: each FramebufferUpdate rectangle
 * goes to the 0x57 decoder (the shared ASPEED codec, ATEN dialect) or the
 * Hermon decoder, and the no-signal cases come back as a typed result rather
 * than a black picture. One instance per session: pictures persist and
 * incremental rectangles paint over them.
 */
import { createAtenDecoder } from "../../aspeed/aten.ts";
import { IkvmError } from "../../errors.ts";
import { type AtenRect, classifyAtenRect } from "./framing.ts";
import { createHermonDecoder } from "./hermon.ts";

export interface AtenVideoLimits {
	maxWidth?: number;
	maxHeight?: number;
}

export interface AtenVideoPicture {
	width: number;
	height: number;
	rgba: Uint8Array;
}

export type AtenVideoResult =
	| {
			kind: "picture";
			codec: "ast2100" | "hermon";
			/** A view of the session's picture, valid until the next rectangle (copy with `snapshot()`). */
			picture: AtenVideoPicture;
			/** New resolution: the picture restarted from black; ask the BMC for a non-incremental update. */
			resized: boolean;
			/** A full picture has been painted since the last resize (safe to show). */
			complete: boolean;
	  }
	/** The host screen is off, rebooting or has no signal. The picture is left as it was. */
	| { kind: "no-signal"; reason: "sentinel" | "empty" };

/** A rectangle as a dialect parser hands it over: the header fields and exactly dataLen bytes of payload. */
export interface AtenRectWithPayload {
	readonly x?: number;
	readonly y?: number;
	readonly width: number;
	readonly height: number;
	readonly encoding: number;
	readonly mode?: number;
	readonly payload: Uint8Array;
}

export interface AtenVideoDecoder {
	/** Decodes one rectangle (header + exactly dataLength bytes). Bad data throws an IkvmError. */
	decodeRect(rect: AtenRect): AtenVideoResult;
	/** Same, for a rectangle whose payload is exactly its data (dataLength = payload.length). */
	decode(rect: AtenRectWithPayload): AtenVideoResult;
	/** A copy of the latest picture, or undefined before the first one. */
	snapshot(): AtenVideoPicture | undefined;
	/** Current resolution (0 × 0 before the first picture). */
	readonly size: { width: number; height: number };
}

export function createAtenVideoDecoder(limits: AtenVideoLimits = {}): AtenVideoDecoder {
	const ast = createAtenDecoder(limits);
	const hermon = createHermonDecoder(limits);
	let last: "ast2100" | "hermon" | undefined;
	const size = { width: 0, height: 0 };

	const decoder: AtenVideoDecoder = {
		get size() {
			return { ...size };
		},
		decode(rect: AtenRectWithPayload): AtenVideoResult {
			const { x = 0, y = 0, width, height, encoding, mode = 0, payload } = rect;
			return decoder.decodeRect({
				header: { x, y, width, height, encoding, mode, dataLength: payload.length },
				payload,
			});
		},
		decodeRect(rect: AtenRect): AtenVideoResult {
			const cls = classifyAtenRect(rect.header, size);
			if (cls.kind === "no-signal") return cls;
			const target = { width: rect.header.width, height: rect.header.height, dataLength: rect.header.dataLength };
			const result = cls.codec === "ast2100" ? ast.decode(rect.payload, target) : hermon.decode(rect.payload, target);
			if (result.kind === "need-more") {
				throw new IkvmError(
					"PROTOCOL",
					`ATEN rectangle payload is ${rect.payload.length} bytes, its header announced ${rect.header.dataLength}.`,
					{ stage: "decode" },
				);
			}
			if (result.kind === "no-signal") return { kind: "no-signal", reason: "empty" };
			const resized = cls.resized || last !== cls.codec;
			last = cls.codec;
			size.width = result.picture.width;
			size.height = result.picture.height;
			return { kind: "picture", codec: cls.codec, picture: result.picture, resized, complete: result.complete };
		},
		snapshot(): AtenVideoPicture | undefined {
			if (last === "ast2100") return ast.snapshot();
			if (last === "hermon") return hermon.snapshot();
			return undefined;
		},
	};
	return decoder;
}
