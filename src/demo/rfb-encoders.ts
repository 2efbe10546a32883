/**
 * Server-side RFB encoders for the demo/test RFB server: they turn an RGBA
 * picture into rectangles of Raw, CopyRect, Hextile or ZRLE, choosing per tile
 * among the forms each encoding allows, so a client meets every form.
 *
 * Pixels are written in the pixel format the client asked for (32 bits per
 * pixel, any shifts and byte order).
 */
import zlib from "node:zlib";
import type { PixelFormat, RgbaImage } from "../vnc/types.ts";

/** The picture converted to the client's wire pixels, plus a colour key per pixel for comparisons. */
export interface WirePicture {
	width: number;
	height: number;
	/** 4 bytes per pixel, in the client's pixel format. */
	wire: Uint8Array;
	/** 0xRRGGBB per pixel. */
	keys: Uint32Array;
	/** Bytes of a compact pixel (ZRLE CPIXEL): 3 or 4. */
	cpixelBytes: 3 | 4;
	/** Offset of the compact pixel within the 4 wire bytes. */
	cpixelOffset: number;
}

export function toWirePicture(image: RgbaImage, pf: PixelFormat): WirePicture {
	if (pf.bitsPerPixel !== 32)
		throw new Error(`test server supports 32 bits per pixel only (asked: ${pf.bitsPerPixel})`);
	const n = image.width * image.height;
	const wire = new Uint8Array(n * 4);
	const keys = new Uint32Array(n);
	const view = new DataView(wire.buffer);
	const scale = (v: number, max: number) => Math.round((v * max) / 255);
	for (let i = 0; i < n; i++) {
		const r = image.rgba[i * 4] as number;
		const g = image.rgba[i * 4 + 1] as number;
		const b = image.rgba[i * 4 + 2] as number;
		keys[i] = (r << 16) | (g << 8) | b;
		const value =
			((scale(r, pf.redMax) << pf.redShift) |
				(scale(g, pf.greenMax) << pf.greenShift) |
				(scale(b, pf.blueMax) << pf.blueShift)) >>>
			0;
		view.setUint32(i * 4, value, !pf.bigEndian);
	}
	// RFC 6143 §7.7.6: a CPIXEL is 3 bytes when all colour bits fit in the low or the high 3 bytes.
	const topBit = (max: number, shift: number) => shift + Math.ceil(Math.log2(max + 1));
	const highest = Math.max(
		topBit(pf.redMax, pf.redShift),
		topBit(pf.greenMax, pf.greenShift),
		topBit(pf.blueMax, pf.blueShift),
	);
	const lowest = Math.min(pf.redShift, pf.greenShift, pf.blueShift);
	let cpixelBytes: 3 | 4 = 4;
	let cpixelOffset = 0;
	if (pf.trueColour && pf.depth <= 24) {
		if (highest <= 24) {
			cpixelBytes = 3;
			cpixelOffset = pf.bigEndian ? 1 : 0;
		} else if (lowest >= 8) {
			cpixelBytes = 3;
			cpixelOffset = pf.bigEndian ? 0 : 1;
		}
	}
	return { width: image.width, height: image.height, wire, keys, cpixelBytes, cpixelOffset };
}

/** Names of the encoding forms used ("hextile:raw", "zrle:packed-palette", …), so tests can check coverage. */
export type FormLog = Set<string>;

/** A rectangle ready to send: header fields and payload. */
export interface EncodedRect {
	x: number;
	y: number;
	width: number;
	height: number;
	encoding: number;
	payload: Uint8Array;
}

export function rectMessage(rect: EncodedRect): Uint8Array {
	const m = new Uint8Array(12 + rect.payload.length);
	const v = new DataView(m.buffer);
	v.setUint16(0, rect.x);
	v.setUint16(2, rect.y);
	v.setUint16(4, rect.width);
	v.setUint16(6, rect.height);
	v.setInt32(8, rect.encoding);
	m.set(rect.payload, 12);
	return m;
}

/** Growable byte writer. */
class Writer {
	private buf = new Uint8Array(4096);
	length = 0;

	private ensure(n: number): void {
		if (this.length + n <= this.buf.length) return;
		const grown = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
		grown.set(this.buf.subarray(0, this.length));
		this.buf = grown;
	}

	u8(v: number): void {
		this.ensure(1);
		this.buf[this.length++] = v;
	}

	bytes(b: Uint8Array): void {
		this.ensure(b.length);
		this.buf.set(b, this.length);
		this.length += b.length;
	}

	/** Copies `n` bytes of `src` from `start` (no intermediate view: this runs once per pixel). */
	copy(src: Uint8Array, start: number, n: number): void {
		this.ensure(n);
		const buf = this.buf;
		for (let i = 0; i < n; i++) buf[this.length + i] = src[start + i] as number;
		this.length += n;
	}

	result(): Uint8Array {
		return this.buf.slice(0, this.length);
	}
}

function pixelAt(pic: WirePicture, x: number, y: number): Uint8Array {
	const i = (y * pic.width + x) * 4;
	return pic.wire.subarray(i, i + 4);
}

function keyAt(pic: WirePicture, x: number, y: number): number {
	return pic.keys[y * pic.width + x] as number;
}

// ------------------------------------------------------------------ Raw

export function encodeRaw(pic: WirePicture, x: number, y: number, w: number, h: number): Uint8Array {
	const out = new Uint8Array(w * h * 4);
	for (let row = 0; row < h; row++) {
		const from = ((y + row) * pic.width + x) * 4;
		out.set(pic.wire.subarray(from, from + w * 4), row * w * 4);
	}
	return out;
}

// ------------------------------------------------------------------ CopyRect

/**
 * The picture as 16x16 tiles: a tile identical to one sent earlier becomes a
 * CopyRect from there, every other tile is Raw.
 */
export function encodeCopyRectUpdate(pic: WirePicture, forms?: FormLog, tile = 16): EncodedRect[] {
	const rects: EncodedRect[] = [];
	const seen = new Map<string, Array<{ x: number; y: number }>>();
	for (let y = 0; y < pic.height; y += tile) {
		const h = Math.min(tile, pic.height - y);
		for (let x = 0; x < pic.width; x += tile) {
			const w = Math.min(tile, pic.width - x);
			const key = tileKey(pic, x, y, w, h);
			const earlier = seen.get(key)?.find((p) => sameTile(pic, p.x, p.y, x, y, w, h));
			if (earlier) {
				const payload = new Uint8Array(4);
				new DataView(payload.buffer).setUint16(0, earlier.x);
				new DataView(payload.buffer).setUint16(2, earlier.y);
				rects.push({ x, y, width: w, height: h, encoding: 1, payload });
				forms?.add("copyrect:copy");
			} else {
				rects.push({ x, y, width: w, height: h, encoding: 0, payload: encodeRaw(pic, x, y, w, h) });
				forms?.add("copyrect:raw");
				const list = seen.get(key) ?? [];
				list.push({ x, y });
				seen.set(key, list);
			}
		}
	}
	return rects;
}

function tileKey(pic: WirePicture, x: number, y: number, w: number, h: number): string {
	let hash = 2166136261;
	for (let row = y; row < y + h; row++) {
		for (let col = x; col < x + w; col++) hash = Math.imul(hash ^ keyAt(pic, col, row), 16777619);
	}
	return `${w}x${h}:${hash >>> 0}`;
}

function sameTile(pic: WirePicture, ax: number, ay: number, bx: number, by: number, w: number, h: number): boolean {
	for (let row = 0; row < h; row++) {
		for (let col = 0; col < w; col++) {
			if (keyAt(pic, ax + col, ay + row) !== keyAt(pic, bx + col, by + row)) return false;
		}
	}
	return true;
}

// ------------------------------------------------------------------ Hextile

interface Run {
	x: number;
	y: number;
	w: number;
	h: number;
	key: number;
	px: Uint8Array;
}

/** Runs of equal non-background pixels per row, merged downwards when the row below repeats them. */
function subrects(pic: WirePicture, tx: number, ty: number, tw: number, th: number, bg: number): Run[] {
	const done: Run[] = [];
	let open: Run[] = [];
	for (let row = 0; row < th; row++) {
		const next: Run[] = [];
		let col = 0;
		while (col < tw) {
			const key = keyAt(pic, tx + col, ty + row);
			if (key === bg) {
				col++;
				continue;
			}
			let end = col + 1;
			while (end < tw && keyAt(pic, tx + end, ty + row) === key) end++;
			const above = open.find((r) => r.x === col && r.w === end - col && r.key === key);
			if (above) {
				above.h++;
				next.push(above);
				open = open.filter((r) => r !== above);
			} else {
				next.push({ x: col, y: row, w: end - col, h: 1, key, px: pixelAt(pic, tx + col, ty + row) });
			}
			col = end;
		}
		done.push(...open);
		open = next;
	}
	done.push(...open);
	return done;
}

/** Hextile, one rectangle for the given area; each tile takes the smallest form that fits. */
export function encodeHextile(
	pic: WirePicture,
	x: number,
	y: number,
	w: number,
	h: number,
	forms?: FormLog,
): Uint8Array {
	const out = new Writer();
	let bg: number | undefined;
	let fg: number | undefined;
	for (let ty = y; ty < y + h; ty += 16) {
		const th = Math.min(16, y + h - ty);
		for (let tx = x; tx < x + w; tx += 16) {
			const tw = Math.min(16, x + w - tx);
			const counts = new Map<number, number>();
			for (let row = 0; row < th; row++) {
				for (let col = 0; col < tw; col++) {
					const k = keyAt(pic, tx + col, ty + row);
					counts.set(k, (counts.get(k) ?? 0) + 1);
				}
			}
			let tileBg = -1;
			let best = -1;
			for (const [k, c] of counts) {
				if (c > best) {
					best = c;
					tileBg = k;
				}
			}
			const bgPixel = findPixel(pic, tx, ty, tw, th, tileBg);
			const runs = counts.size === 1 ? [] : subrects(pic, tx, ty, tw, th, tileBg);
			const mono = counts.size === 2;
			const rawBytes = 1 + tw * th * 4;
			const subBytes = 1 + 4 + 4 + 1 + runs.length * (mono ? 2 : 6);
			if (runs.length > 255 || subBytes >= rawBytes) {
				out.u8(1);
				out.bytes(encodeRaw(pic, tx, ty, tw, th));
				forms?.add("hextile:raw");
				bg = undefined;
				fg = undefined;
				continue;
			}
			let mask = 0;
			if (bg !== tileBg) mask |= 2;
			const tileFg = mono ? (runs[0] as Run).key : undefined;
			if (runs.length > 0) {
				mask |= 8;
				if (mono) {
					if (fg !== tileFg) mask |= 4;
				} else {
					mask |= 16;
				}
			}
			out.u8(mask);
			forms?.add(runs.length === 0 ? "hextile:solid" : mono ? "hextile:mono" : "hextile:coloured");
			if (!(mask & 2)) forms?.add("hextile:background-kept");
			if (mono && !(mask & 4)) forms?.add("hextile:foreground-kept");
			if (runs.some((r) => r.h > 1)) forms?.add("hextile:tall-subrect");
			if (mask & 2) out.bytes(bgPixel);
			if (mask & 4) out.bytes((runs[0] as Run).px);
			bg = tileBg;
			if (mono) fg = tileFg;
			else if (runs.length > 0) fg = undefined;
			if (runs.length === 0) continue;
			out.u8(runs.length);
			for (const r of runs) {
				if (!mono) out.bytes(r.px);
				out.u8((r.x << 4) | r.y);
				out.u8(((r.w - 1) << 4) | (r.h - 1));
			}
		}
	}
	return out.result();
}

function findPixel(pic: WirePicture, tx: number, ty: number, tw: number, th: number, key: number): Uint8Array {
	for (let row = 0; row < th; row++) {
		for (let col = 0; col < tw; col++)
			if (keyAt(pic, tx + col, ty + row) === key) return pixelAt(pic, tx + col, ty + row);
	}
	throw new Error("colour not in tile");
}

// ------------------------------------------------------------------ ZRLE

function cpixel(pic: WirePicture, x: number, y: number): Uint8Array {
	const i = (y * pic.width + x) * 4 + pic.cpixelOffset;
	return pic.wire.subarray(i, i + pic.cpixelBytes);
}

function writeCpixel(out: Writer, pic: WirePicture, x: number, y: number): void {
	out.copy(pic.wire, (y * pic.width + x) * 4 + pic.cpixelOffset, pic.cpixelBytes);
}

function runLength(out: Writer, run: number): void {
	let left = run - 1;
	while (left >= 255) {
		out.u8(255);
		left -= 255;
	}
	out.u8(left);
}

/** The uncompressed ZRLE tile stream for an area (compress it with `ZrleStream`). */
export function zrleTiles(pic: WirePicture, x: number, y: number, w: number, h: number, forms?: FormLog): Uint8Array {
	const out = new Writer();
	for (let ty = y; ty < y + h; ty += 64) {
		const th = Math.min(64, y + h - ty);
		for (let tx = x; tx < x + w; tx += 64) {
			const tw = Math.min(64, x + w - tx);
			const tile = zrleTile(pic, tx, ty, tw, th);
			const kind = tile[0] as number;
			forms?.add(
				kind === 0
					? "zrle:raw"
					: kind === 1
						? "zrle:solid"
						: kind <= 16
							? "zrle:packed-palette"
							: kind === 128
								? "zrle:plain-rle"
								: "zrle:palette-rle",
			);
			out.bytes(tile);
		}
	}
	return out.result();
}

function zrleTile(pic: WirePicture, tx: number, ty: number, tw: number, th: number): Uint8Array {
	// Palette (in order of first appearance), up to 127 colours.
	const index = new Map<number, number>();
	const palette: Uint8Array[] = [];
	for (let row = 0; row < th && index.size <= 127; row++) {
		for (let col = 0; col < tw; col++) {
			const k = keyAt(pic, tx + col, ty + row);
			if (!index.has(k)) {
				index.set(k, index.size);
				palette.push(cpixel(pic, tx + col, ty + row));
				if (index.size > 127) break;
			}
		}
	}
	if (index.size === 1) {
		const out = new Writer();
		out.u8(1);
		out.bytes(palette[0] as Uint8Array);
		return out.result();
	}
	const candidates: Uint8Array[] = [];
	// raw
	{
		const out = new Writer();
		out.u8(0);
		for (let row = 0; row < th; row++) for (let col = 0; col < tw; col++) writeCpixel(out, pic, tx + col, ty + row);
		candidates.push(out.result());
	}
	// plain RLE
	{
		const out = new Writer();
		out.u8(128);
		forEachRun(pic, tx, ty, tw, th, (_key, run, x, y) => {
			writeCpixel(out, pic, x, y);
			runLength(out, run);
		});
		candidates.push(out.result());
	}
	if (index.size <= 127) {
		// palette RLE
		const out = new Writer();
		out.u8(128 + index.size);
		for (const p of palette) out.bytes(p);
		forEachRun(pic, tx, ty, tw, th, (k, run) => {
			const i = index.get(k) as number;
			if (run === 1) out.u8(i);
			else {
				out.u8(i | 128);
				runLength(out, run);
			}
		});
		candidates.push(out.result());
	}
	if (index.size <= 16) {
		// packed palette
		const out = new Writer();
		out.u8(index.size);
		for (const p of palette) out.bytes(p);
		const bits = index.size === 2 ? 1 : index.size <= 4 ? 2 : 4;
		for (let row = 0; row < th; row++) {
			let byte = 0;
			let used = 0;
			for (let col = 0; col < tw; col++) {
				byte = (byte << bits) | (index.get(keyAt(pic, tx + col, ty + row)) as number);
				used += bits;
				if (used === 8) {
					out.u8(byte);
					byte = 0;
					used = 0;
				}
			}
			if (used > 0) out.u8(byte << (8 - used));
		}
		candidates.push(out.result());
	}
	return candidates.reduce((a, b) => (b.length < a.length ? b : a));
}

/** Runs of equal pixels in tile order (row-major, runs continue across rows). */
function forEachRun(
	pic: WirePicture,
	tx: number,
	ty: number,
	tw: number,
	th: number,
	emit: (key: number, run: number, x: number, y: number) => void,
): void {
	let current = -1;
	let run = 0;
	let runX = 0;
	let runY = 0;
	for (let row = 0; row < th; row++) {
		for (let col = 0; col < tw; col++) {
			const k = keyAt(pic, tx + col, ty + row);
			if (k === current) {
				run++;
				continue;
			}
			if (run > 0) emit(current, run, runX, runY);
			current = k;
			run = 1;
			runX = tx + col;
			runY = ty + row;
		}
	}
	if (run > 0) emit(current, run, runX, runY);
}

/** A persistent zlib stream flushed after every rectangle, as ZRLE requires. */
export class ZrleStream {
	private readonly deflate = zlib.createDeflate({ level: 6 });
	private failure: Error | undefined;
	private output: Buffer[] = [];

	constructor() {
		// Flowing mode: output is drained as it is produced, so a large rectangle cannot stall the stream.
		this.deflate.on("data", (chunk: Buffer) => this.output.push(chunk));
		this.deflate.on("error", (error) => {
			this.failure = error;
		});
	}

	compress(data: Uint8Array): Promise<Uint8Array> {
		return new Promise((resolve, reject) => {
			if (this.failure) {
				reject(this.failure);
				return;
			}
			this.deflate.write(data);
			this.deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => {
				// 'data' events queued for the flushed bytes run before the next macrotask.
				setImmediate(() => {
					if (this.failure) {
						reject(this.failure);
						return;
					}
					const out = Buffer.concat(this.output);
					this.output = [];
					resolve(new Uint8Array(out));
				});
			});
		});
	}

	close(): void {
		this.deflate.destroy();
	}
}

/** A ZRLE rectangle's payload: tiles (from `zrleTiles`) compressed on the connection's stream, length-prefixed. */
export async function compressZrle(stream: ZrleStream, tiles: Uint8Array): Promise<Uint8Array> {
	const data = await stream.compress(tiles);
	const payload = new Uint8Array(4 + data.length);
	new DataView(payload.buffer).setUint32(0, data.length);
	payload.set(data, 4);
	return payload;
}
