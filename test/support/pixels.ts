import sharp from "sharp";

export interface RgbaImage {
	width: number;
	height: number;
	rgba: Uint8Array;
}

/** PSNR in dB over the R, G and B channels (alpha ignored); Infinity when identical. */
export function psnr(a: Uint8Array, b: Uint8Array): number {
	if (a.length !== b.length) throw new Error(`size mismatch ${a.length} vs ${b.length}`);
	let sum = 0;
	let n = 0;
	for (let i = 0; i < a.length; i++) {
		if ((i & 3) === 3) continue;
		const d = (a[i] ?? 0) - (b[i] ?? 0);
		sum += d * d;
		n++;
	}
	return sum === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10((255 * 255 * n) / sum);
}

export async function readPng(path: string): Promise<RgbaImage> {
	const { data, info } = await sharp(path).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
	return { width: info.width, height: info.height, rgba: new Uint8Array(data) };
}

export async function readBytes(path: string): Promise<Uint8Array> {
	return new Uint8Array(await Bun.file(path).arrayBuffer());
}

/** [r, g, b, a] at (x, y). */
export function pixelAt(image: RgbaImage, x: number, y: number): number[] {
	const i = (y * image.width + x) * 4;
	return Array.from(image.rgba.subarray(i, i + 4));
}

/** Text-console-like picture: light-grey glyph strokes on black, a coloured status bar. */
export function consoleImage(width: number, height: number, seed = 1): RgbaImage {
	const rgba = new Uint8Array(width * height * 4);
	let s = seed >>> 0;
	const rand = () => {
		s = (Math.imul(s, 1103515245) + 12345) >>> 0;
		return s >>> 16;
	};
	// A random glyph per 8x16 cell, drawn from a few stroke patterns.
	const cols = Math.ceil(width / 8);
	const cells = new Uint16Array(cols * Math.ceil(height / 16));
	for (let i = 0; i < cells.length; i++) cells[i] = rand() % 5 === 0 ? 0 : rand();
	for (let y = 0; y < height; y++) {
		for (let x = 0; x < width; x++) {
			const i = (y * width + x) * 4;
			let v = 0;
			if (y < 16) {
				// Status bar: white text on blue.
				const on = x % 8 > 0 && x % 8 < 6 && y % 16 > 3 && y % 16 < 13 && (x * 3 + y) % 4 === 0;
				rgba[i] = on ? 255 : 0;
				rgba[i + 1] = on ? 255 : 0;
				rgba[i + 2] = on ? 255 : 170;
				rgba[i + 3] = 255;
				continue;
			}
			const glyph = cells[Math.floor(y / 16) * cols + Math.floor(x / 8)] ?? 0;
			const gx = x % 8;
			const gy = y % 16;
			if (glyph !== 0 && gx > 0 && gx < 7 && gy > 2 && gy < 14) {
				const vertical = (glyph >> (gx & 7)) & 1;
				const horizontal = (glyph >> (8 + (gy % 8))) & 1;
				v = vertical || (horizontal && gy % 4 === 0) ? 170 : 0;
			}
			rgba[i] = v;
			rgba[i + 1] = v;
			rgba[i + 2] = v;
			rgba[i + 3] = 255;
		}
	}
	return { width, height, rgba };
}
