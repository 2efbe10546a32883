/**
 * Hextile (RFC 6143 §7.7.4): the rectangle is cut into 16x16 tiles, left to
 * right, top to bottom. Each tile starts with a subencoding mask:
 *   1 Raw               tile pixels follow; the other bits are ignored
 *   2 BackgroundSpecified, 4 ForegroundSpecified (both persist to later tiles of the rectangle)
 *   8 AnySubrects       a count and that many subrectangles follow
 *  16 SubrectsColoured  each subrectangle carries its own pixel
 * A tile is consumed only once all of its bytes are queued.
 */
import type { ByteQueue } from "../byte-queue.ts";
import { protocolError } from "../errors.ts";
import { type Framebuffer, rgb } from "../framebuffer.ts";
import type { RectHeader } from "../types.ts";
import type { RectDecoder } from "./decoder.ts";

const RAW = 1;
const BACKGROUND = 2;
const FOREGROUND = 4;
const ANY_SUBRECTS = 8;
const SUBRECTS_COLOURED = 16;
const TILE = 16;

export class HextileDecoder implements RectDecoder {
	/** Index of the next tile within the current rectangle. */
	private tile = 0;
	private background = rgb(0, 0, 0);
	private foreground = rgb(255, 255, 255);

	decodeRect(rect: RectHeader, queue: ByteQueue, fb: Framebuffer): boolean {
		const cols = Math.ceil(rect.width / TILE);
		const tiles = cols * Math.ceil(rect.height / TILE);
		while (this.tile < tiles) {
			const tx = rect.x + (this.tile % cols) * TILE;
			const ty = rect.y + Math.floor(this.tile / cols) * TILE;
			const tw = Math.min(TILE, rect.x + rect.width - tx);
			const th = Math.min(TILE, rect.y + rect.height - ty);
			if (!this.decodeTile(tx, ty, tw, th, queue, fb)) return false;
			this.tile++;
		}
		this.tile = 0;
		return true;
	}

	private decodeTile(tx: number, ty: number, tw: number, th: number, queue: ByteQueue, fb: Framebuffer): boolean {
		if (!queue.has(1)) return false;
		const mask = queue.peekU8();
		if (mask > 31) throw protocolError(`Hextile tile at ${tx},${ty} has an invalid subencoding ${mask}.`);
		if (mask & RAW) {
			const bytes = tw * th * 4;
			if (!queue.has(1 + bytes)) return false;
			queue.skip(1);
			fb.putRgbx(tx, ty, tw, th, queue.take(bytes));
			return true;
		}
		// Work out the tile's length before consuming anything.
		let length = 1;
		if (mask & BACKGROUND) length += 4;
		if (mask & FOREGROUND) length += 4;
		let count = 0;
		const subrectBytes = mask & SUBRECTS_COLOURED ? 6 : 2;
		if (mask & ANY_SUBRECTS) {
			if (!queue.has(length + 1)) return false;
			count = queue.peekU8(length);
			length += 1 + count * subrectBytes;
		}
		if (!queue.has(length)) return false;

		const data = queue.take(length);
		let p = 1;
		if (mask & BACKGROUND) {
			this.background = rgb(data[p] as number, data[p + 1] as number, data[p + 2] as number);
			p += 4;
		}
		if (mask & FOREGROUND) {
			this.foreground = rgb(data[p] as number, data[p + 1] as number, data[p + 2] as number);
			p += 4;
		}
		fb.fillRect(tx, ty, tw, th, this.background);
		if (!(mask & ANY_SUBRECTS)) return true;
		p += 1;
		const coloured = (mask & SUBRECTS_COLOURED) !== 0;
		for (let i = 0; i < count; i++) {
			let colour = this.foreground;
			if (coloured) {
				colour = rgb(data[p] as number, data[p + 1] as number, data[p + 2] as number);
				p += 4;
			}
			const xy = data[p] as number;
			const wh = data[p + 1] as number;
			p += 2;
			const sx = xy >> 4;
			const sy = xy & 15;
			const sw = (wh >> 4) + 1;
			const sh = (wh & 15) + 1;
			if (sx + sw > tw || sy + sh > th) {
				throw protocolError(
					`Hextile subrectangle ${sw}x${sh}+${sx}+${sy} does not fit its ${tw}x${th} tile at ${tx},${ty}.`,
				);
			}
			fb.fillRect(tx + sx, ty + sy, sw, sh, colour);
		}
		return true;
	}
}
