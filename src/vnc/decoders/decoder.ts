/**
 * One decoder per encoding, all behind this interface (the shape noVNC's
 * core/decoders use): a decoder reads one rectangle's bytes from the queue and
 * paints the framebuffer. When the queue does not yet hold enough bytes it
 * returns false ("need more bytes") without consuming a partial unit, and is
 * called again with the same rectangle when more data has arrived. Bad data
 * throws an IkvmError (PROTOCOL, or TOO_LARGE for compressed data that would
 * inflate past what the rectangle can hold). Decoders never touch the network.
 *
 * A step that cannot run synchronously (JPEG and PNG through sharp) returns a
 * promise instead of true: by then the decoder has consumed all of the
 * rectangle's bytes, and the promise paints the framebuffer (or rejects with
 * an IkvmError). The client stops parsing until it settles, so rectangles are
 * painted in the order the server sent them; the event loop stays free and
 * arriving bytes are queued meanwhile.
 */
import type { ByteQueue } from "../byte-queue.ts";
import type { Framebuffer } from "../framebuffer.ts";
import type { RectHeader } from "../types.ts";

/** true = painted; false = need more bytes; a promise = all bytes taken, painting once it resolves. */
export type DecodeResult = boolean | Promise<void>;

export interface RectDecoder {
	/**
	 * Pseudo-encodings carry state, not pixels: their rectangle is not checked
	 * against the framebuffer and does not count as painted.
	 */
	readonly pseudo?: boolean;
	/** Paints `rect` (already checked to lie inside `fb` unless pseudo) from `queue`. */
	decodeRect(rect: RectHeader, queue: ByteQueue, fb: Framebuffer): DecodeResult;
}

/** The pointer shape a server sent (Cursor, Cursor With Alpha): straight (not premultiplied) RGBA. */
export interface CursorShape {
	width: number;
	height: number;
	hotX: number;
	hotY: number;
	/** width * height * 4 bytes; alpha 0 = transparent. */
	rgba: Uint8Array;
}

/** One screen of an ExtendedDesktopSize layout. */
export interface ScreenLayout {
	id: number;
	x: number;
	y: number;
	width: number;
	height: number;
	flags: number;
}

/**
 * What pseudo-encodings tell a connection about the server beyond pixels;
 * one object per connection, written by the pseudo decoders.
 */
export interface ServerState {
	cursor?: CursorShape;
	/** Where the pointer is, when known (PointerPos from the server, or where we last moved it). */
	pointer?: { x: number; y: number };
	/** From DesktopName; the ServerInit name until then. */
	desktopName?: string;
	/** The last ExtendedDesktopSize layout. */
	screens?: ScreenLayout[];
}
