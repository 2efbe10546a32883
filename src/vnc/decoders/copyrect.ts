/** CopyRect: the rectangle is a copy of another area of the framebuffer (source x, y: two u16). */
import type { ByteQueue } from "../byte-queue.ts";
import { protocolError } from "../errors.ts";
import type { Framebuffer } from "../framebuffer.ts";
import type { RectHeader } from "../types.ts";
import type { RectDecoder } from "./decoder.ts";

export class CopyRectDecoder implements RectDecoder {
	decodeRect(rect: RectHeader, queue: ByteQueue, fb: Framebuffer): boolean {
		if (!queue.has(4)) return false;
		const srcX = queue.u16();
		const srcY = queue.u16();
		if (!fb.contains(srcX, srcY, rect.width, rect.height)) {
			throw protocolError(
				`CopyRect source ${rect.width}x${rect.height}+${srcX}+${srcY} lies outside the ${fb.width}x${fb.height} framebuffer.`,
			);
		}
		fb.copyRect(srcX, srcY, rect.x, rect.y, rect.width, rect.height);
		return true;
	}
}
