/**
 * The encodings this client understands and the decoder for each. A set of
 * decoders belongs to one connection (ZRLE keeps its zlib stream in it).
 */
import { CopyRectDecoder } from "./decoders/copyrect.ts";
import type { RectDecoder } from "./decoders/decoder.ts";
import { HextileDecoder } from "./decoders/hextile.ts";
import { RawDecoder } from "./decoders/raw.ts";
import { ZrleDecoder } from "./decoders/zrle.ts";
import { Encoding } from "./types.ts";

export type { RectDecoder } from "./decoders/decoder.ts";

/** Pixel encodings in the order we prefer them: the most compact first, Raw last (every server has it). */
export const PIXEL_ENCODINGS: readonly number[] = [Encoding.ZRLE, Encoding.Hextile, Encoding.CopyRect, Encoding.Raw];

/** Pseudo-encodings we announce after the pixel encodings. */
export const PSEUDO_ENCODINGS: readonly number[] = [
	Encoding.DesktopSize,
	Encoding.ExtendedDesktopSize,
	Encoding.LastRect,
	// Asking for the cursor shape stops servers painting the pointer into the picture,
	// where it can hide a character of a text console.
	Encoding.Cursor,
	Encoding.DesktopName,
];

export function createDecoder(encoding: number): RectDecoder | undefined {
	switch (encoding) {
		case Encoding.Raw:
			return new RawDecoder();
		case Encoding.CopyRect:
			return new CopyRectDecoder();
		case Encoding.Hextile:
			return new HextileDecoder();
		case Encoding.ZRLE:
			return new ZrleDecoder();
		default:
			return undefined;
	}
}

/** Fresh decoders for one connection, keyed by encoding number. */
export function createDecoders(encodings: readonly number[] = PIXEL_ENCODINGS): Map<number, RectDecoder> {
	const decoders = new Map<number, RectDecoder>();
	for (const e of encodings) {
		const decoder = createDecoder(e);
		if (decoder) decoders.set(e, decoder);
	}
	return decoders;
}
