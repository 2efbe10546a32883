/**
 * ZLIB (encoding 6): a u32 length and that many bytes of zlib data on one
 * stream that lasts the whole connection; they inflate to exactly the
 * rectangle's Raw pixels (4 bytes each in our pixel format).
 */
import type { ByteQueue } from "../byte-queue.ts";
import { protocolError } from "../errors.ts";
import type { Framebuffer } from "../framebuffer.ts";
import { BoundedInflater } from "../inflate.ts";
import type { RectHeader } from "../types.ts";
import type { RectDecoder } from "./decoder.ts";

export class ZlibDecoder implements RectDecoder {
	private readonly inflater = new BoundedInflater("ZLIB");
	/** Compressed bytes of the current rectangle not yet inflated; null between rectangles. */
	private left: number | null = null;

	decodeRect(rect: RectHeader, queue: ByteQueue, fb: Framebuffer): boolean {
		const size = rect.width * rect.height * 4;
		if (this.left === null) {
			if (!queue.has(4)) return false;
			const length = queue.u32();
			const maxIn = size + (size >> 6) + 4096;
			if (length > maxIn) {
				throw protocolError(
					`ZLIB rectangle ${rect.width}x${rect.height} claims ${length} bytes of data; at most ${maxIn} can be valid.`,
				);
			}
			this.left = length;
			this.inflater.begin(size);
		}
		const n = Math.min(this.left, queue.length);
		if (n > 0) {
			this.left -= n;
			try {
				this.inflater.push(queue.take(n));
			} catch (error) {
				this.left = null;
				throw error;
			}
		}
		if (this.left > 0) return false;
		this.left = null;
		const pixels = this.inflater.output();
		if (pixels.length !== size) {
			throw protocolError(
				`ZLIB data inflates to ${pixels.length} bytes; the ${rect.width}x${rect.height} rectangle needs ${size}.`,
			);
		}
		fb.putRgbx(rect.x, rect.y, rect.width, rect.height, pixels);
		return true;
	}
}
