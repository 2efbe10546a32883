/**
 * One decoder per encoding, all behind this interface (the shape noVNC's
 * core/decoders use): a decoder reads one rectangle's bytes from the queue and
 * paints the framebuffer. When the queue does not yet hold enough bytes it
 * returns false ("need more bytes") without consuming a partial unit, and is
 * called again with the same rectangle when more data has arrived. Bad data
 * throws a PROTOCOL error. Decoders never touch the network.
 */
import type { ByteQueue } from "../byte-queue.ts";
import type { Framebuffer } from "../framebuffer.ts";
import type { RectHeader } from "../types.ts";

export interface RectDecoder {
	/** Paints `rect` (already checked to lie inside `fb`) from `queue`; false = need more bytes. */
	decodeRect(rect: RectHeader, queue: ByteQueue, fb: Framebuffer): boolean;
}
