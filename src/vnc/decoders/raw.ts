/** Raw: width × height wire pixels. Painted row by row as rows arrive, so a large rectangle is never buffered whole. */
import type { ByteQueue } from "../byte-queue.ts";
import type { Framebuffer } from "../framebuffer.ts";
import type { RectHeader } from "../types.ts";
import type { RectDecoder } from "./decoder.ts";

export class RawDecoder implements RectDecoder {
	private rowsDone = 0;

	decodeRect(rect: RectHeader, queue: ByteQueue, fb: Framebuffer): boolean {
		const rowBytes = rect.width * 4;
		if (rowBytes === 0 || rect.height === 0) return true;
		const rows = Math.min(Math.floor(queue.length / rowBytes), rect.height - this.rowsDone);
		if (rows > 0) {
			fb.putRgbx(rect.x, rect.y + this.rowsDone, rect.width, rows, queue.take(rows * rowBytes));
			this.rowsDone += rows;
		}
		if (this.rowsDone < rect.height) return false;
		this.rowsDone = 0;
		return true;
	}
}
