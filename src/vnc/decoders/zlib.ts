/**
 * ZLIB (encoding 6): a u32 length and that many bytes of zlib data on one
 * stream that lasts the whole connection; they inflate to exactly the
 * rectangle's Raw pixels (4 bytes each in our pixel format).
 */
import type { ByteQueue } from "../byte-queue.ts";
import { protocolError } from "../errors.ts";
import type { Framebuffer } from "../framebuffer.ts";
import { BoundedInflater, LengthPrefixedInflate } from "../inflate.ts";
import type { RectHeader } from "../types.ts";
import type { RectDecoder } from "./decoder.ts";

export class ZlibDecoder implements RectDecoder {
	private readonly data = new LengthPrefixedInflate(new BoundedInflater("ZLIB"));

	decodeRect(rect: RectHeader, queue: ByteQueue, fb: Framebuffer): boolean {
		const size = rect.width * rect.height * 4;
		const pixels = this.data.read(queue, size, () => `ZLIB rectangle ${rect.width}x${rect.height}`);
		if (!pixels) return false;
		if (pixels.length !== size) {
			throw protocolError(
				`ZLIB data inflates to ${pixels.length} bytes; the ${rect.width}x${rect.height} rectangle needs ${size}.`,
			);
		}
		fb.putRgbx(rect.x, rect.y, rect.width, rect.height, pixels);
		return true;
	}
}
