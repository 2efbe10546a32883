/**
 * X Window Dump files (the format of `xwd` and `xwud`, X11's XWDFile.h): reading one
 * gives the ground truth of an X display's framebuffer, writing one lets `xwud` put a
 * known picture on it. The header is 25 big-endian 32-bit fields, then the window
 * name, the colour map (12 bytes a colour) and the ZPixmap rows.
 */
import type { RgbaImage } from "../../src/vnc/types.ts";

const HEADER_FIELDS = 25;

function maskShift(mask: number): { shift: number; max: number } {
	let shift = 0;
	while (mask && !(mask & 1)) {
		mask >>>= 1;
		shift++;
	}
	return { shift, max: mask };
}

/** Decodes a TrueColor ZPixmap dump of 16 or 32 bits per pixel into RGBA. */
export function readXwd(bytes: Uint8Array): RgbaImage {
	const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	const f = (i: number) => v.getUint32(i * 4);
	const [headerSize, , format, , width, height, , byteOrder, , , , bpp, bytesPerLine, , redMask, greenMask, blueMask] =
		Array.from({ length: HEADER_FIELDS }, (_, i) => f(i)) as number[];
	const ncolors = f(19);
	if (format !== 2) throw new Error(`xwd: pixmap format ${format}, expected ZPixmap (2)`);
	if (bpp !== 32 && bpp !== 16) throw new Error(`xwd: ${bpp} bits per pixel not handled`);
	const data = (headerSize as number) + (ncolors as number) * 12;
	const r = maskShift(redMask as number);
	const g = maskShift(greenMask as number);
	const b = maskShift(blueMask as number);
	const le = byteOrder === 0;
	const out = new Uint8Array((width as number) * (height as number) * 4);
	const scale = (value: number, max: number) => (max === 255 ? value : Math.round((value * 255) / max));
	for (let y = 0; y < (height as number); y++) {
		const row = data + y * (bytesPerLine as number);
		for (let x = 0; x < (width as number); x++) {
			const p = bpp === 32 ? v.getUint32(row + x * 4, le) : v.getUint16(row + x * 2, le);
			const o = (y * (width as number) + x) * 4;
			out[o] = scale((p >>> r.shift) & r.max, r.max);
			out[o + 1] = scale((p >>> g.shift) & g.max, g.max);
			out[o + 2] = scale((p >>> b.shift) & b.max, b.max);
			out[o + 3] = 255;
		}
	}
	return { width: width as number, height: height as number, rgba: out };
}

/**
 * A TrueColor dump of `image` for `xwud -in`: 24-bit (32 bits per pixel), or 16-bit 5-6-5
 * for a depth-16 display (xwud wants a dump of the display's own depth).
 */
export function writeXwd(image: RgbaImage, name = "ikvm", depth: 24 | 16 = 24): Uint8Array {
	const nameBytes = new TextEncoder().encode(`${name}\0`);
	const headerSize = HEADER_FIELDS * 4 + nameBytes.length;
	const bpp = depth === 16 ? 16 : 32;
	const bytesPerLine = image.width * (bpp / 8);
	const out = new Uint8Array(headerSize + bytesPerLine * image.height);
	const v = new DataView(out.buffer);
	const fields = [
		headerSize,
		7, // file version
		2, // ZPixmap
		depth,
		image.width,
		image.height,
		0, // x offset
		0, // byte order: LSBFirst
		32, // bitmap unit
		0, // bitmap bit order
		32, // bitmap pad
		bpp,
		bytesPerLine,
		4, // TrueColor
		depth === 16 ? 0xf800 : 0xff0000,
		depth === 16 ? 0x07e0 : 0x00ff00,
		depth === 16 ? 0x001f : 0x0000ff,
		depth === 16 ? 6 : 8, // bits per RGB
		256, // colour map entries
		0, // colours in the dump
		image.width,
		image.height,
		0,
		0,
		0, // border width
	];
	fields.forEach((value, i) => {
		v.setUint32(i * 4, value);
	});
	out.set(nameBytes, HEADER_FIELDS * 4);
	for (let i = 0; i < image.width * image.height; i++) {
		const s = i * 4;
		const [r, g, b] = [image.rgba[s] as number, image.rgba[s + 1] as number, image.rgba[s + 2] as number];
		if (depth === 16) v.setUint16(headerSize + i * 2, ((r >> 3) << 11) | ((g >> 2) << 5) | (b >> 3), true);
		else v.setUint32(headerSize + i * 4, (r << 16) | (g << 8) | b, true);
	}
	return out;
}
