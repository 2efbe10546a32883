/**
 * ZRLE (RFC 6143 §7.7.6): a u32 length and that many bytes of zlib data. All
 * ZRLE rectangles of a connection share one zlib stream, so the inflater lives
 * as long as the decoder. The inflated data is a sequence of 64x64 tiles, each
 * with a subencoding byte:
 *        0  raw compact pixels
 *        1  one compact pixel fills the tile
 *   2..16   packed palette: that many palette entries, then 1/2/4-bit indexes, rows padded to a byte
 *      128  plain RLE: (pixel, run length) pairs
 * 130..255  palette RLE: palette of (n - 128) entries, then indexes; top bit set = a run length follows
 * A run length is a sum of bytes up to and including the first one below 255, plus one.
 * With our pixel format a compact pixel (CPIXEL) is the three bytes R, G, B.
 *
 * The compressed data is inflated as it arrives, with the output capped at
 * what the rectangle can hold (src/vnc/inflate.ts).
 */
import type { ByteQueue } from "../byte-queue.ts";
import { protocolError } from "../errors.ts";
import { type Framebuffer, rgb } from "../framebuffer.ts";
import { BoundedInflater, LengthPrefixedInflate } from "../inflate.ts";
import type { RectHeader } from "../types.ts";
import type { RectDecoder } from "./decoder.ts";

const TILE = 64;

/** Largest inflated size a rectangle can legitimately need: every pixel as an RLE pair, plus tile headers and palettes. */
export function maxZrlePayload(width: number, height: number): number {
	const tiles = Math.ceil(width / TILE) * Math.ceil(height / TILE);
	return width * height * 4 + tiles * (1 + 127 * 3) + 1024;
}

export class ZrleDecoder implements RectDecoder {
	private readonly data = new LengthPrefixedInflate(new BoundedInflater("ZRLE"));
	private readonly tile = new Uint32Array(TILE * TILE);
	private readonly palette = new Uint32Array(127);

	decodeRect(rect: RectHeader, queue: ByteQueue, fb: Framebuffer): boolean {
		const maxOut = maxZrlePayload(rect.width, rect.height);
		const data = this.data.read(queue, maxOut, () => `ZRLE rectangle ${rect.width}x${rect.height}`);
		if (!data) return false;
		this.paintTiles(rect, data, fb);
		return true;
	}

	private paintTiles(rect: RectHeader, data: Uint8Array, fb: Framebuffer): void {
		const reader = new TileReader(data);
		for (let ty = rect.y; ty < rect.y + rect.height; ty += TILE) {
			const th = Math.min(TILE, rect.y + rect.height - ty);
			for (let tx = rect.x; tx < rect.x + rect.width; tx += TILE) {
				const tw = Math.min(TILE, rect.x + rect.width - tx);
				this.paintTile(reader, tx, ty, tw, th, fb);
			}
		}
	}

	private paintTile(r: TileReader, tx: number, ty: number, tw: number, th: number, fb: Framebuffer): void {
		const kind = r.u8();
		const tile = this.tile;
		const n = tw * th;
		if (kind === 0) {
			const d = r.bytes(n * 3);
			for (let i = 0, p = d.offset; i < n; i++, p += 3) {
				tile[i] = rgb(d.data[p] as number, d.data[p + 1] as number, d.data[p + 2] as number);
			}
		} else if (kind === 1) {
			fb.fillRect(tx, ty, tw, th, r.cpixel());
			return;
		} else if (kind <= 16) {
			const palette = r.palette(kind, this.palette);
			const bits = kind === 2 ? 1 : kind <= 4 ? 2 : 4;
			const mask = (1 << bits) - 1;
			const rowBytes = Math.ceil((tw * bits) / 8);
			const { data, offset } = r.bytes(rowBytes * th);
			let i = 0;
			for (let y = 0; y < th; y++) {
				let p = offset + y * rowBytes;
				let byte = 0;
				let left = 0;
				for (let x = 0; x < tw; x++) {
					if (left === 0) {
						byte = data[p++] as number;
						left = 8;
					}
					left -= bits;
					const index = (byte >> left) & mask;
					if (index >= kind) throw protocolError(`ZRLE palette index ${index} exceeds the palette of ${kind} colours.`);
					tile[i++] = palette[index] as number;
				}
			}
		} else if (kind === 128) {
			let i = 0;
			while (i < n) {
				const colour = r.cpixel();
				const run = r.runLength();
				if (i + run > n) throw protocolError(`ZRLE run of ${run} pixels overflows its ${tw}x${th} tile.`);
				tile.fill(colour, i, i + run);
				i += run;
			}
		} else if (kind >= 130) {
			const size = kind - 128;
			const palette = r.palette(size, this.palette);
			let i = 0;
			while (i < n) {
				const b = r.u8();
				const index = b & 127;
				if (index >= size) throw protocolError(`ZRLE palette index ${index} exceeds the palette of ${size} colours.`);
				const run = b & 128 ? r.runLength() : 1;
				if (i + run > n) throw protocolError(`ZRLE run of ${run} pixels overflows its ${tw}x${th} tile.`);
				tile.fill(palette[index] as number, i, i + run);
				i += run;
			}
		} else {
			throw protocolError(`ZRLE tile at ${tx},${ty} has an invalid subencoding ${kind}.`);
		}
		fb.putPixels(tx, ty, tw, th, tile);
	}
}

/** Bounds-checked reads from one rectangle's inflated data. */
class TileReader {
	private p = 0;
	constructor(private readonly data: Uint8Array) {}

	u8(): number {
		if (this.p >= this.data.length) throw truncated();
		return this.data[this.p++] as number;
	}

	cpixel(): number {
		const d = this.data;
		const p = this.p;
		if (p + 3 > d.length) throw truncated();
		this.p = p + 3;
		return rgb(d[p] as number, d[p + 1] as number, d[p + 2] as number);
	}

	/** `n` bytes, bounds-checked once, as the data and the offset where they start. */
	bytes(n: number): { data: Uint8Array; offset: number } {
		if (this.p + n > this.data.length) throw truncated();
		const offset = this.p;
		this.p += n;
		return { data: this.data, offset };
	}

	/** Reads `size` compact pixels into `into`, which is returned. */
	palette(size: number, into: Uint32Array): Uint32Array {
		for (let i = 0; i < size; i++) into[i] = this.cpixel();
		return into;
	}

	runLength(): number {
		let run = 1;
		let b: number;
		do {
			b = this.u8();
			run += b;
		} while (b === 255);
		return run;
	}
}

function truncated() {
	return protocolError("ZRLE data ends inside a tile.");
}
