/**
 * Tight (encoding 7) and TightPNG (-260). A rectangle starts with a
 * compression-control byte: its low four bits ask to reset zlib streams 0..3
 * before this rectangle, its high four bits say what follows:
 *   0x0-0x7  basic compression: bits 4-5 pick one of four persistent zlib
 *            streams, bit 6 says a filter id byte follows (0 copy, 1 palette,
 *            2 gradient; without it: copy)
 *   0x8      fill: one TPIXEL paints the whole rectangle
 *   0x9      JPEG: a compact length and a JPEG image of the rectangle
 *   0xA      PNG (TightPNG only): a compact length and a PNG image
 * Basic data shorter than 12 bytes is sent as is; longer data is a compact
 * length and that many bytes of zlib data on the chosen stream. A compact
 * length is 1 to 3 bytes, 7 bits each, low bits first, the top bit of the
 * first two meaning "another byte follows" (the third byte counts 8 bits).
 * With our pixel format a TPIXEL is the three bytes R, G, B.
 *
 * Filters: palette = a colour count minus one, that many TPIXELs, then one
 * bit per pixel for two colours (rows padded to a byte, most significant bit
 * first) or one byte per pixel otherwise; gradient = each byte is the
 * difference from the prediction left + above - above-left (clamped to 0..255),
 * per colour component, with zero outside the rectangle.
 *
 * JPEG and PNG are decoded by sharp (libjpeg-turbo, libpng), which is
 * asynchronous: the rectangle's bytes are consumed at once and a promise paints it.
 * TightPNG servers send only fill, JPEG and PNG rectangles.
 */
import sharp from "sharp";
import type { ByteQueue } from "../byte-queue.ts";
import { protocolError } from "../errors.ts";
import { type Framebuffer, rgb } from "../framebuffer.ts";
import { BoundedInflater, InflateOutput } from "../inflate.ts";
import type { RectHeader } from "../types.ts";
import type { DecodeResult, RectDecoder } from "./decoder.ts";

const FILL = 0x8;
const JPEG = 0x9;
const PNG = 0xa;
const EXPLICIT_FILTER = 0x4;
const FILTER_COPY = 0;
const FILTER_PALETTE = 1;
const FILTER_GRADIENT = 2;
/** Basic data shorter than this is sent uncompressed. */
const MIN_TO_COMPRESS = 12;

/** What the bytes before a rectangle's data say. */
interface Header {
	/** Bytes of the header (control byte, filter, palette, compact length). */
	length: number;
	resets: number;
	kind: "fill" | "jpeg" | "png" | "basic";
	stream: number;
	filter: number;
	palette: Uint32Array;
	/** Bytes of data that follow: raw when under MIN_TO_COMPRESS, else zlib. */
	dataLength: number;
	/** Bytes the data inflates to (basic). */
	rawSize: number;
	compressed: boolean;
}

export class TightDecoder implements RectDecoder {
	private readonly streams: BoundedInflater[];
	private header: Header | null = null;
	/** Compressed bytes of the current rectangle not yet inflated. */
	private left = 0;
	private previousRow = new Uint8Array(0);
	private row = new Uint8Array(0);

	constructor(private readonly png = false) {
		const name = png ? "TightPNG" : "Tight";
		// One rectangle is inflated at a time: the four streams share its output memory.
		const output = new InflateOutput();
		this.streams = [0, 1, 2, 3].map((i) => new BoundedInflater(`${name} stream ${i}`, output));
	}

	private get name(): string {
		return this.png ? "TightPNG" : "Tight";
	}

	decodeRect(rect: RectHeader, queue: ByteQueue, fb: Framebuffer): DecodeResult {
		let h = this.header;
		if (!h) {
			const read = this.readHeader(rect, queue);
			if (!read) return false;
			h = read;
			for (let i = 0; i < 4; i++) if (h.resets & (1 << i)) this.streams[i]?.reset();
			queue.skip(h.length);
			this.header = h;
			this.left = h.dataLength;
			if (h.kind === "basic" && h.compressed) this.streams[h.stream]?.begin(h.rawSize);
		}
		switch (h.kind) {
			case "fill":
				this.header = null;
				fb.fillRect(rect.x, rect.y, rect.width, rect.height, h.palette[0] as number);
				return true;
			case "jpeg":
			case "png": {
				if (!queue.has(h.dataLength)) return false;
				this.header = null;
				const image = queue.takeCopy(h.dataLength);
				return paintImage(`${this.name} ${h.kind === "jpeg" ? "JPEG" : "PNG"}`, image, rect, fb);
			}
			case "basic":
				return this.basic(h, rect, queue, fb);
		}
	}

	/** The header, if all of it is queued (nothing is consumed). */
	private readHeader(rect: RectHeader, q: ByteQueue): Header | null {
		if (!q.has(1)) return null;
		const control = q.peekU8();
		const type = control >> 4;
		const header: Header = {
			length: 1,
			resets: control & 0xf,
			kind: "basic",
			stream: type & 3,
			filter: FILTER_COPY,
			palette: new Uint32Array(1),
			dataLength: 0,
			rawSize: 0,
			compressed: false,
		};
		if (type === FILL) {
			if (!q.has(4)) return null;
			header.kind = "fill";
			header.length = 4;
			header.palette[0] = rgb(q.peekU8(1), q.peekU8(2), q.peekU8(3));
			return header;
		}
		if (type === JPEG || (type === PNG && this.png)) {
			const len = compactLength(q, 1);
			if (!len) return null;
			header.kind = type === JPEG ? "jpeg" : "png";
			header.length = 1 + len.bytes;
			header.dataLength = len.value;
			return header;
		}
		if (type > 7) {
			throw protocolError(`${this.name} rectangle has an invalid compression type ${type} (control byte ${control}).`);
		}
		if (this.png) {
			throw protocolError("TightPNG rectangle uses basic compression, which TightPNG servers never send.");
		}
		let p = 1;
		if (type & EXPLICIT_FILTER) {
			if (!q.has(2)) return null;
			header.filter = q.peekU8(1);
			p = 2;
		}
		const { width: w, height: h } = rect;
		if (header.filter === FILTER_PALETTE) {
			if (!q.has(p + 1)) return null;
			const colours = q.peekU8(p) + 1;
			if (colours < 2) throw protocolError(`${this.name} palette of ${colours} colour (at least 2 are needed).`);
			p += 1;
			if (!q.has(p + colours * 3)) return null;
			header.palette = new Uint32Array(colours);
			for (let i = 0; i < colours; i++, p += 3) {
				header.palette[i] = rgb(q.peekU8(p), q.peekU8(p + 1), q.peekU8(p + 2));
			}
			header.rawSize = colours === 2 ? Math.ceil(w / 8) * h : w * h;
		} else if (header.filter === FILTER_COPY || header.filter === FILTER_GRADIENT) {
			header.rawSize = w * h * 3;
		} else {
			throw protocolError(`${this.name} rectangle has an unknown filter ${header.filter}.`);
		}
		if (header.rawSize < MIN_TO_COMPRESS) {
			header.length = p;
			header.dataLength = header.rawSize;
			return header;
		}
		const len = compactLength(q, p);
		if (!len) return null;
		// zlib never grows data by more than a few bytes per 16 KiB block.
		const maxIn = header.rawSize + (header.rawSize >> 6) + 4096;
		if (len.value > maxIn) {
			throw protocolError(
				`${this.name} rectangle ${w}x${h} claims ${len.value} bytes of zlib data; at most ${maxIn} can be valid.`,
			);
		}
		header.length = p + len.bytes;
		header.dataLength = len.value;
		header.compressed = true;
		return header;
	}

	private basic(h: Header, rect: RectHeader, queue: ByteQueue, fb: Framebuffer): boolean {
		let data: Uint8Array;
		if (!h.compressed) {
			if (!queue.has(h.dataLength)) return false;
			data = queue.take(h.dataLength);
		} else {
			const inflater = this.streams[h.stream] as BoundedInflater;
			const n = Math.min(this.left, queue.length);
			if (n > 0) {
				this.left -= n;
				try {
					inflater.push(queue.take(n));
				} catch (error) {
					this.header = null;
					throw error;
				}
			}
			if (this.left > 0) return false;
			data = inflater.output();
			if (data.length !== h.rawSize) {
				this.header = null;
				throw protocolError(
					`${this.name} data inflates to ${data.length} bytes; the ${rect.width}x${rect.height} rectangle needs ${h.rawSize}.`,
				);
			}
		}
		this.header = null;
		if (h.filter === FILTER_PALETTE) this.paintPalette(h.palette, data, rect, fb);
		else if (h.filter === FILTER_GRADIENT) this.paintGradient(data, rect, fb);
		else paintRgb(data, rect, fb);
		return true;
	}

	private paintPalette(palette: Uint32Array, data: Uint8Array, rect: RectHeader, fb: Framebuffer): void {
		const { x, y, width: w, height: h } = rect;
		const px = fb.pixels;
		const stride = fb.width;
		if (palette.length === 2) {
			const rowBytes = Math.ceil(w / 8);
			const c0 = palette[0] as number;
			const c1 = palette[1] as number;
			for (let j = 0; j < h; j++) {
				let out = (y + j) * stride + x;
				const from = j * rowBytes;
				for (let i = 0; i < w; i++) {
					const bit = ((data[from + (i >> 3)] as number) >> (7 - (i & 7))) & 1;
					px[out++] = bit ? c1 : c0;
				}
			}
			return;
		}
		const n = palette.length;
		let p = 0;
		for (let j = 0; j < h; j++) {
			let out = (y + j) * stride + x;
			for (let i = 0; i < w; i++) {
				const index = data[p++] as number;
				if (index >= n) throw protocolError(`${this.name} palette index ${index} exceeds the palette of ${n} colours.`);
				px[out++] = palette[index] as number;
			}
		}
	}

	private paintGradient(data: Uint8Array, rect: RectHeader, fb: Framebuffer): void {
		const { x, y, width: w, height: h } = rect;
		const rowBytes = w * 3;
		if (this.row.length < rowBytes) {
			this.row = new Uint8Array(rowBytes);
			this.previousRow = new Uint8Array(rowBytes);
		}
		let above = this.previousRow;
		let row = this.row;
		above.fill(0, 0, rowBytes);
		const px = fb.pixels;
		let p = 0;
		for (let j = 0; j < h; j++) {
			for (let c = 0; c < 3; c++) {
				// First column: left and above-left are outside the rectangle.
				row[c] = ((above[c] as number) + (data[p + c] as number)) & 255;
			}
			for (let i = 3; i < rowBytes; i++) {
				let predicted = (row[i - 3] as number) + (above[i] as number) - (above[i - 3] as number);
				if (predicted < 0) predicted = 0;
				else if (predicted > 255) predicted = 255;
				row[i] = (predicted + (data[p + i] as number)) & 255;
			}
			p += rowBytes;
			let out = (y + j) * fb.width + x;
			for (let i = 0; i < rowBytes; i += 3)
				px[out++] = rgb(row[i] as number, row[i + 1] as number, row[i + 2] as number);
			const t = above;
			above = row;
			row = t;
		}
	}
}

/** Rows of three-byte R, G, B pixels, tightly packed. */
export function paintRgb(data: Uint8Array, rect: RectHeader, fb: Framebuffer, channels = 3): void {
	const { x, y, width: w, height: h } = rect;
	const px = fb.pixels;
	let p = 0;
	for (let j = 0; j < h; j++) {
		let out = (y + j) * fb.width + x;
		if (channels === 1) {
			for (let i = 0; i < w; i++, p++) {
				const v = data[p] as number;
				px[out++] = rgb(v, v, v);
			}
		} else {
			for (let i = 0; i < w; i++, p += 3)
				px[out++] = rgb(data[p] as number, data[p + 1] as number, data[p + 2] as number);
		}
	}
}

/** A compact length at `offset`, or null when not all of its bytes are queued. */
function compactLength(q: ByteQueue, offset: number): { value: number; bytes: number } | null {
	if (!q.has(offset + 1)) return null;
	const b0 = q.peekU8(offset);
	if (!(b0 & 0x80)) return { value: b0, bytes: 1 };
	if (!q.has(offset + 2)) return null;
	const b1 = q.peekU8(offset + 1);
	if (!(b1 & 0x80)) return { value: (b0 & 0x7f) | (b1 << 7), bytes: 2 };
	if (!q.has(offset + 3)) return null;
	return { value: (b0 & 0x7f) | ((b1 & 0x7f) << 7) | (q.peekU8(offset + 2) << 14), bytes: 3 };
}

/**
 * Decodes a JPEG or PNG of exactly the rectangle's size and paints it. The
 * pixel limit keeps a header claiming a huge image from being decoded at all.
 */
export async function paintImage(what: string, image: Uint8Array, rect: RectHeader, fb: Framebuffer): Promise<void> {
	const pixels = rect.width * rect.height;
	if (pixels === 0) return;
	let decoded: { data: Buffer; info: { width: number; height: number; channels: number } };
	try {
		decoded = await sharp(image, { limitInputPixels: pixels, failOn: "error" })
			.removeAlpha()
			.raw()
			.toBuffer({ resolveWithObject: true });
	} catch (error) {
		throw protocolError(
			`${what} data for a ${rect.width}x${rect.height} rectangle cannot be decoded: ${(error as Error).message}.`,
		);
	}
	const { width, height, channels } = decoded.info;
	if (width !== rect.width || height !== rect.height) {
		throw protocolError(`${what} image is ${width}x${height}, but its rectangle is ${rect.width}x${rect.height}.`);
	}
	if (channels !== 3 && channels !== 1) throw protocolError(`${what} image has ${channels} colour channels.`);
	paintRgb(decoded.data, rect, fb, channels);
	fb.lossy ||= what.endsWith("JPEG");
}
