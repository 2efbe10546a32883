/**
 * The one table of encodings this client knows: pixel encodings with their
 * decoders, pseudo-encodings (state, not pixels), and settings that are only
 * announced (Tight JPEG quality, compression level). Everything else — what
 * to announce, in which order, which decoders a connection gets — is derived
 * from it. A set of decoders belongs to one connection (ZRLE, ZLIB and Tight
 * keep zlib streams in theirs).
 */
import { CopyRectDecoder } from "./decoders/copyrect.ts";
import type { RectDecoder, ServerState } from "./decoders/decoder.ts";
import { HextileDecoder } from "./decoders/hextile.ts";
import { CursorDecoder, CursorWithAlphaDecoder, DesktopNameDecoder, PointerPosDecoder } from "./decoders/pseudo.ts";
import { RawDecoder } from "./decoders/raw.ts";
import { TightDecoder } from "./decoders/tight.ts";
import { ZlibDecoder } from "./decoders/zlib.ts";
import { ZrleDecoder } from "./decoders/zrle.ts";
import { Encoding } from "./types.ts";

export type {
	CursorShape,
	DecodeResult,
	RectDecoder,
	ScreenLayout,
	ServerState,
} from "./decoders/decoder.ts";

export interface EncodingEntry {
	readonly encoding: number;
	readonly name: string;
	/**
	 * pixel: paints rectangles; pseudo: a rectangle carries state; setting:
	 * announced only, never seen in a rectangle; client: a pseudo-encoding the
	 * RFB client handles itself (size changes, end of update).
	 */
	readonly kind: "pixel" | "pseudo" | "setting" | "client";
	/** Pixels may differ from the server's (JPEG). */
	readonly lossy?: boolean;
	readonly create?: (state: ServerState) => RectDecoder;
}

const QUALITY_LEVELS: EncodingEntry[] = Array.from({ length: 10 }, (_, level) => ({
	encoding: Encoding.QualityLevel0 + level,
	name: `JPEG quality ${level}`,
	kind: "setting",
	lossy: true,
}));

const COMPRESSION_LEVELS: EncodingEntry[] = Array.from({ length: 10 }, (_, level) => ({
	encoding: Encoding.CompressLevel0 + level,
	name: `compression level ${level}`,
	kind: "setting",
}));

export const ENCODINGS: readonly EncodingEntry[] = [
	{ encoding: Encoding.Raw, name: "Raw", kind: "pixel", create: () => new RawDecoder() },
	{ encoding: Encoding.CopyRect, name: "CopyRect", kind: "pixel", create: () => new CopyRectDecoder() },
	{ encoding: Encoding.Hextile, name: "Hextile", kind: "pixel", create: () => new HextileDecoder() },
	{ encoding: Encoding.ZLIB, name: "ZLIB", kind: "pixel", create: () => new ZlibDecoder() },
	// Lossy only when a quality level is announced too: without one servers never send JPEG.
	{ encoding: Encoding.Tight, name: "Tight", kind: "pixel", create: () => new TightDecoder() },
	{ encoding: Encoding.ZRLE, name: "ZRLE", kind: "pixel", create: () => new ZrleDecoder() },
	{ encoding: Encoding.TightPNG, name: "TightPNG", kind: "pixel", create: () => new TightDecoder(true) },
	{ encoding: Encoding.DesktopSize, name: "DesktopSize", kind: "client" },
	{ encoding: Encoding.LastRect, name: "LastRect", kind: "client" },
	{ encoding: Encoding.ExtendedDesktopSize, name: "ExtendedDesktopSize", kind: "client" },
	// Announcements of what the server takes (keys by XT scan code, power over XVP); the client handles them.
	{ encoding: Encoding.QemuExtendedKeyEvent, name: "QEMU Extended Key Event", kind: "client" },
	{ encoding: Encoding.Xvp, name: "XVP", kind: "client" },
	{
		encoding: Encoding.CursorWithAlpha,
		name: "CursorWithAlpha",
		kind: "pseudo",
		create: (s) => new CursorWithAlphaDecoder(s),
	},
	{ encoding: Encoding.Cursor, name: "Cursor", kind: "pseudo", create: (s) => new CursorDecoder(s) },
	{ encoding: Encoding.PointerPos, name: "PointerPos", kind: "pseudo", create: (s) => new PointerPosDecoder(s) },
	{ encoding: Encoding.DesktopName, name: "DesktopName", kind: "pseudo", create: (s) => new DesktopNameDecoder(s) },
	...QUALITY_LEVELS,
	...COMPRESSION_LEVELS,
];

const BY_NUMBER = new Map(ENCODINGS.map((e) => [e.encoding, e]));

export function isPixelEncoding(encoding: number): boolean {
	return BY_NUMBER.get(encoding)?.kind === "pixel";
}

/** Pixel encodings for text consoles, exact pixels first; Raw last (every server has it). */
export const PIXEL_ENCODINGS: readonly number[] = [
	Encoding.ZRLE,
	Encoding.Hextile,
	Encoding.Tight,
	Encoding.TightPNG,
	Encoding.ZLIB,
	Encoding.CopyRect,
	Encoding.Raw,
];

/** Pseudo-encodings announced after the pixel encodings (the cursor ones make servers stop painting the pointer in). */
export const PSEUDO_ENCODINGS: readonly number[] = ENCODINGS.filter(
	(e) => e.kind === "pseudo" || e.kind === "client",
).map((e) => e.encoding);

export interface EncodingPreference {
	/**
	 * Tight JPEG quality 0..9. Unset (the default) announces no quality level,
	 * so servers send exact pixels only (what text reading needs).
	 */
	quality?: number;
	/** Tight/ZLIB compression level 0..9 (server default when unset). */
	compression?: number;
	/** Only these pixel encodings (tests pinning one); Raw is always added. */
	only?: readonly number[];
}

/**
 * The encodings to announce, in order: lossless first (ZRLE, Hextile, Tight
 * without JPEG), Tight first when JPEG is asked for, Raw always (RFC 6143
 * requires a client to accept it whatever it asked), then settings and
 * pseudo-encodings.
 */
export function preferredEncodings(preference: EncodingPreference = {}): number[] {
	let pixels = [...(preference.only ?? PIXEL_ENCODINGS)];
	const jpeg = preference.quality !== undefined;
	if (jpeg && !preference.only) pixels = [Encoding.Tight, ...pixels.filter((e) => e !== Encoding.Tight)];
	const out = [...pixels];
	if (jpeg) out.push(Encoding.QualityLevel0 + level(preference.quality as number, "quality"));
	if (preference.compression !== undefined) {
		out.push(Encoding.CompressLevel0 + level(preference.compression, "compression"));
	}
	return announcedEncodings(out);
}

/**
 * What SetEncodings carries for a list a caller asked for: its pixel
 * encodings and settings in order, Raw if missing, then every pseudo-encoding
 * this client handles. Unknown numbers are dropped (we could not decode them).
 */
export function announcedEncodings(wanted: readonly number[]): number[] {
	const known = wanted.filter((e) => {
		const kind = BY_NUMBER.get(e)?.kind;
		return kind === "pixel" || kind === "setting";
	});
	const pixels = known.filter(isPixelEncoding);
	const settings = known.filter((e) => !isPixelEncoding(e));
	return [...new Set([...pixels, Encoding.Raw, ...settings, ...PSEUDO_ENCODINGS])];
}

function level(value: number, what: string): number {
	if (!Number.isInteger(value) || value < 0 || value > 9)
		throw new RangeError(`${what} level must be 0..9 (got ${value})`);
	return value;
}

export function createDecoder(encoding: number, state: ServerState = {}): RectDecoder | undefined {
	return BY_NUMBER.get(encoding)?.create?.(state);
}

/**
 * Fresh decoders for one connection, keyed by encoding number: one for each
 * pixel encoding in `encodings` (plus Raw) and for every pseudo-encoding with
 * a decoder, all writing to `state`.
 */
export function createDecoders(
	encodings: readonly number[] = PIXEL_ENCODINGS,
	state: ServerState = {},
): Map<number, RectDecoder> {
	const decoders = new Map<number, RectDecoder>();
	for (const e of announcedEncodings(encodings)) {
		const decoder = createDecoder(e, state);
		if (decoder) decoders.set(e, decoder);
	}
	return decoders;
}
