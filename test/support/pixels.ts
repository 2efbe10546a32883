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
