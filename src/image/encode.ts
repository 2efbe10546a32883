/**
 * RGBA → PNG, pixel for pixel, straight from the decoder's buffer.
 *
 * Console screens usually have a handful of colours. When a picture has at most 256
 * distinct colours we write an indexed (palette) PNG ourselves: the palette holds the
 * exact colours, so the encoding is lossless by construction (no quantiser is involved;
 * libvips' palette path runs libimagequant, which is slow here and not always exact).
 * Otherwise sharp writes a truecolour PNG. Alpha is dropped: frames are opaque.
 */
import { deflateSync } from "node:zlib";
import sharp from "sharp";
import type { Frame } from "../frame.ts";

export interface RawImage {
	readonly width: number;
	readonly height: number;
	/** width * height * channels bytes */
	readonly data: Uint8Array;
	/** 3 (RGB) or 4 (RGBA; alpha is ignored) */
	readonly channels: 3 | 4;
}

export interface EncodedPng {
	png: Buffer;
	/** true when written as an indexed PNG (≤ 256 colours, exact palette) */
	palette: boolean;
	/** distinct colours, or undefined when there are more than 256 */
	colors?: number;
}

/** PNG of a frame, exact pixels (palette when the picture allows it). */
export async function encodePng(frame: Frame): Promise<Buffer> {
	return (await encodeImage({ width: frame.width, height: frame.height, data: frame.rgba, channels: 4 })).png;
}

export async function encodeImage(image: RawImage): Promise<EncodedPng> {
	const palette = exactPalette(image);
	if (palette) return { png: encodeIndexed(image, palette), palette: true, colors: palette.colors.length };
	const png = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } })
		.removeAlpha()
		.png({ compressionLevel: 6, adaptiveFiltering: false })
		.toBuffer();
	return { png, palette: false };
}

interface Palette {
	/** 0xRRGGBB per palette entry */
	colors: number[];
	/** palette index per pixel */
	indices: Uint8Array;
}

/** The exact colours of the picture when there are at most `maxColors` of them, else undefined. */
export function exactPalette(image: RawImage, maxColors = 256): Palette | undefined {
	const { data, channels } = image;
	const pixels = image.width * image.height;
	const indices = new Uint8Array(pixels);
	const colors: number[] = [];
	// Open-addressing colour → index table; 1024 slots keep it under 1/4 full at 256 colours.
	const keys = new Int32Array(1024).fill(-1);
	const slots = new Uint8Array(1024);
	let lastRgb = -1;
	let lastIndex = 0;
	for (let p = 0, i = 0; p < pixels; p++, i += channels) {
		const rgb = ((data[i] as number) << 16) | ((data[i + 1] as number) << 8) | (data[i + 2] as number);
		if (rgb !== lastRgb) {
			let h = Math.imul(rgb, 0x9e3779b1) >>> 22;
			while (keys[h] !== -1 && keys[h] !== rgb) h = (h + 1) & 1023;
			if (keys[h] === -1) {
				if (colors.length === maxColors) return undefined;
				keys[h] = rgb;
				slots[h] = colors.length;
				colors.push(rgb);
			}
			lastRgb = rgb;
			lastIndex = slots[h] as number;
		}
		indices[p] = lastIndex;
	}
	return { colors, indices };
}

function bitDepthFor(colors: number): 1 | 2 | 4 | 8 {
	if (colors <= 2) return 1;
	if (colors <= 4) return 2;
	if (colors <= 16) return 4;
	return 8;
}

function encodeIndexed(image: RawImage, { colors, indices }: Palette): Buffer {
	const { width, height } = image;
	const depth = bitDepthFor(colors.length);
	const perByte = 8 / depth;
	const stride = Math.ceil(width / perByte);
	const raw = new Uint8Array((stride + 1) * height);
	for (let y = 0; y < height; y++) {
		const row = y * (stride + 1); // filter byte 0 (None): the usual best choice for indexed images
		const src = y * width;
		if (depth === 8) {
			raw.set(indices.subarray(src, src + width), row + 1);
			continue;
		}
		for (let x = 0; x < width; x++) {
			const shift = 8 - depth * ((x % perByte) + 1);
			const at = row + 1 + Math.floor(x / perByte);
			raw[at] = (raw[at] as number) | ((indices[src + x] as number) << shift);
		}
	}
	const plte = Buffer.alloc(colors.length * 3);
	colors.forEach((c, i) => {
		plte[i * 3] = c >>> 16;
		plte[i * 3 + 1] = (c >>> 8) & 0xff;
		plte[i * 3 + 2] = c & 0xff;
	});
	const ihdr = Buffer.alloc(13);
	ihdr.writeUInt32BE(width, 0);
	ihdr.writeUInt32BE(height, 4);
	ihdr[8] = depth;
	ihdr[9] = 3; // colour type: indexed
	return Buffer.concat([
		PNG_SIGNATURE,
		chunk("IHDR", ihdr),
		chunk("PLTE", plte),
		chunk("IDAT", deflateSync(raw, { level: 6 })),
		chunk("IEND", Buffer.alloc(0)),
	]);
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, body: Uint8Array): Buffer {
	const head = Buffer.alloc(8);
	head.writeUInt32BE(body.length, 0);
	head.write(type, 4, "latin1");
	const crc = Buffer.alloc(4);
	crc.writeUInt32BE(crc32(head.subarray(4), body), 0);
	return Buffer.concat([head, body, crc]);
}

const CRC_TABLE = (() => {
	const t = new Uint32Array(256);
	for (let n = 0; n < 256; n++) {
		let c = n;
		for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
		t[n] = c >>> 0;
	}
	return t;
})();

function crc32(...parts: Uint8Array[]): number {
	let c = 0xffffffff;
	for (const part of parts) {
		for (let i = 0; i < part.length; i++) c = (CRC_TABLE[(c ^ (part[i] as number)) & 0xff] as number) ^ (c >>> 8);
	}
	return (c ^ 0xffffffff) >>> 0;
}
