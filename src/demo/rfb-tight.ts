/**
 * Server-side Tight, TightPNG and ZLIB encoders for the demo/test RFB server,
 * with real zlib streams and real JPEG/PNG (sharp). A picture is cut into
 * tiles and each tile takes the form that suits it, so a client meets every
 * form: fill (one colour), palette with two colours (a bit per pixel) or up
 * to 256 (a byte per pixel), copy and gradient filters (alternating on
 * many-colour tiles), JPEG when the client announced a quality level, PNG
 * for TightPNG. Streams: copy 0, two-colour palette 1, palette 2, gradient 3.
 *
 * Planning (filters, JPEG, PNG) depends only on the picture and is cached by
 * the server; the zlib streams belong to one connection (`TightStreams`).
 */
import sharp from "sharp";
import type { FormLog, WirePicture } from "./rfb-encoders.ts";
import { ZrleStream } from "./rfb-encoders.ts";

/** JPEG quality for Tight quality levels 0..9 (close to what TigerVNC uses). */
export const JPEG_QUALITY = [15, 29, 41, 42, 62, 77, 79, 86, 92, 100] as const;

/** One Tight rectangle before compression. */
export interface TightPlanRect {
	x: number;
	y: number;
	width: number;
	height: number;
	/** The compression-control byte without reset bits. */
	control: number;
	/** Bytes after the control byte: filter, palette, fill pixel, or a compact length and an image. */
	head: Uint8Array;
	/** Basic compression: the filtered data, sent as is under 12 bytes, else compressed on `stream`. */
	data?: Uint8Array;
	stream: number;
}

export interface TightPlanOptions {
	/** A Tight quality level 0..9 the client announced: many-colour tiles become JPEG. */
	quality?: number;
	/** TightPNG: only fill, JPEG and PNG rectangles. */
	png?: boolean;
	/** Tile size (default 64). */
	tile?: number;
	forms?: FormLog;
}

export function compactLength(n: number): number[] {
	if (n < 0x80) return [n];
	if (n < 0x4000) return [(n & 0x7f) | 0x80, n >> 7];
	if (n < 0x400000) return [(n & 0x7f) | 0x80, ((n >> 7) & 0x7f) | 0x80, n >> 14];
	throw new RangeError(`compact length ${n} too large`);
}

function tpixel(key: number): number[] {
	return [(key >> 16) & 255, (key >> 8) & 255, key & 255];
}

function rgbTile(pic: WirePicture, x: number, y: number, w: number, h: number): Uint8Array {
	const out = new Uint8Array(w * h * 3);
	let p = 0;
	for (let j = 0; j < h; j++) {
		for (let i = 0; i < w; i++) {
			const k = pic.keys[(y + j) * pic.width + x + i] as number;
			out[p++] = (k >> 16) & 255;
			out[p++] = (k >> 8) & 255;
			out[p++] = k & 255;
		}
	}
	return out;
}

/** The gradient filter: each component minus its prediction left + above - above-left, clamped. */
export function gradientFilter(rgb: Uint8Array, w: number, h: number): Uint8Array {
	const out = new Uint8Array(rgb.length);
	const row = w * 3;
	for (let j = 0; j < h; j++) {
		for (let i = 0; i < row; i++) {
			const at = j * row + i;
			const left = i >= 3 ? (rgb[at - 3] as number) : 0;
			const above = j > 0 ? (rgb[at - row] as number) : 0;
			const aboveLeft = i >= 3 && j > 0 ? (rgb[at - row - 3] as number) : 0;
			const predicted = Math.max(0, Math.min(255, left + above - aboveLeft));
			out[at] = ((rgb[at] as number) - predicted) & 255;
		}
	}
	return out;
}

async function image(kind: "jpeg" | "png", rgb: Uint8Array, w: number, h: number, quality = 90): Promise<Uint8Array> {
	const s = sharp(rgb, { raw: { width: w, height: h, channels: 3 } });
	// No chroma subsampling at the top qualities, as TigerVNC does at levels 8 and 9.
	const jpeg = { quality, chromaSubsampling: quality >= 86 ? "4:4:4" : "4:2:0" };
	const out = await (kind === "jpeg" ? s.jpeg(jpeg) : s.png({ compressionLevel: 6 })).toBuffer();
	return new Uint8Array(out);
}

function withLength(bytes: Uint8Array): Uint8Array {
	const len = compactLength(bytes.length);
	const out = new Uint8Array(len.length + bytes.length);
	out.set(len);
	out.set(bytes, len.length);
	return out;
}

/** The Tight (or TightPNG) rectangles for an area, tile by tile. */
export async function planTight(
	pic: WirePicture,
	x: number,
	y: number,
	w: number,
	h: number,
	options: TightPlanOptions = {},
): Promise<TightPlanRect[]> {
	const size = options.tile ?? 64;
	const forms = options.forms;
	const rects: TightPlanRect[] = [];
	let manyColour = 0;
	for (let ty = y; ty < y + h; ty += size) {
		const th = Math.min(size, y + h - ty);
		for (let tx = x; tx < x + w; tx += size) {
			const tw = Math.min(size, x + w - tx);
			const index = new Map<number, number>();
			for (let j = 0; j < th && index.size <= 256; j++) {
				for (let i = 0; i < tw; i++) {
					const k = pic.keys[(ty + j) * pic.width + tx + i] as number;
					if (!index.has(k)) index.set(k, index.size);
				}
			}
			const base = { x: tx, y: ty, width: tw, height: th, stream: 0 };
			const colours = [...index.keys()];
			if (colours.length === 1) {
				rects.push({ ...base, control: 0x80, head: Uint8Array.from(tpixel(colours[0] as number)) });
				forms?.add("tight:fill");
				continue;
			}
			const rgb = rgbTile(pic, tx, ty, tw, th);
			const jpeg = options.quality !== undefined && colours.length > 16;
			if (jpeg || options.png) {
				const kind = jpeg ? "jpeg" : "png";
				const bytes = await image(kind, rgb, tw, th, JPEG_QUALITY[options.quality ?? 9]);
				rects.push({ ...base, control: jpeg ? 0x90 : 0xa0, head: withLength(bytes) });
				forms?.add(`${options.png ? "tightpng" : "tight"}:${kind}`);
				continue;
			}
			if (colours.length <= 256) {
				const mono = colours.length === 2;
				const head = [1, colours.length - 1, ...colours.flatMap(tpixel)];
				let data: Uint8Array;
				if (mono) {
					const rowBytes = Math.ceil(tw / 8);
					data = new Uint8Array(rowBytes * th);
					for (let j = 0; j < th; j++) {
						for (let i = 0; i < tw; i++) {
							if (index.get(pic.keys[(ty + j) * pic.width + tx + i] as number) === 1) {
								const at = j * rowBytes + (i >> 3);
								data[at] = (data[at] as number) | (0x80 >> (i & 7));
							}
						}
					}
				} else {
					data = new Uint8Array(tw * th);
					for (let j = 0; j < th; j++) {
						for (let i = 0; i < tw; i++)
							data[j * tw + i] = index.get(pic.keys[(ty + j) * pic.width + tx + i] as number) as number;
					}
				}
				const stream = mono ? 1 : 2;
				rects.push({ ...base, stream, control: 0x40 | (stream << 4), head: Uint8Array.from(head), data });
				forms?.add(mono ? "tight:mono" : "tight:palette");
				if (data.length < 12) forms?.add("tight:uncompressed");
				continue;
			}
			// Many colours: alternate the copy filter (implicit, no filter byte) and the gradient filter.
			if (manyColour++ % 2 === 0) {
				rects.push({ ...base, stream: 0, control: 0x00, head: new Uint8Array(0), data: rgb });
				forms?.add("tight:copy");
			} else {
				rects.push({
					...base,
					stream: 3,
					control: 0x40 | (3 << 4),
					head: Uint8Array.of(2),
					data: gradientFilter(rgb, tw, th),
				});
				forms?.add("tight:gradient");
			}
		}
	}
	return rects;
}

/** One connection's four Tight zlib streams; `reset(i)` starts stream i afresh and tells the client. */
export class TightStreams {
	private readonly streams: Array<ZrleStream | undefined> = [undefined, undefined, undefined, undefined];
	private resets = 0;

	reset(i: number): void {
		this.streams[i]?.close();
		this.streams[i] = undefined;
		this.resets |= 1 << i;
	}

	/** The rectangle's payload: control byte (with any pending reset bits), head, data. */
	async payload(rect: TightPlanRect, forms?: FormLog): Promise<Uint8Array> {
		let control = rect.control;
		const parts: Uint8Array[] = [rect.head];
		if (rect.data) {
			if (rect.data.length < 12) {
				parts.push(rect.data);
			} else {
				if (this.resets & (1 << rect.stream)) {
					control |= 1 << rect.stream;
					this.resets &= ~(1 << rect.stream);
					forms?.add("tight:reset");
				}
				let stream = this.streams[rect.stream];
				if (!stream) {
					stream = new ZrleStream();
					this.streams[rect.stream] = stream;
				}
				parts.push(withLength(await stream.compress(rect.data)));
			}
		}
		const total = 1 + parts.reduce((n, p) => n + p.length, 0);
		const out = new Uint8Array(total);
		out[0] = control;
		let at = 1;
		for (const p of parts) {
			out.set(p, at);
			at += p.length;
		}
		return out;
	}

	close(): void {
		for (const s of this.streams) s?.close();
	}
}

/** A ZLIB rectangle's payload: the Raw pixels compressed on the connection's stream, length-prefixed. */
export async function compressZlibRect(stream: ZrleStream, raw: Uint8Array): Promise<Uint8Array> {
	const data = await stream.compress(raw);
	const out = new Uint8Array(4 + data.length);
	new DataView(out.buffer).setUint32(0, data.length);
	out.set(data, 4);
	return out;
}
