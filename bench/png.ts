/** PNG encoding of raw frames (image stage). */

import { createFrame } from "../src/frame.ts";
import { encodePng } from "../src/image/encode.ts";
import { type Row, time } from "./harness.ts";

function consoleLikeFrame(width: number, height: number) {
	const rgba = new Uint8Array(width * height * 4);
	for (let y = 0; y < height; y++) {
		for (let x = 0; x < width; x++) {
			const i = (y * width + x) * 4;
			// Glyph-like strokes on black, like a text console.
			const on = (x % 9 < 7 && y % 16 < 13 && (x * 7 + y * 3) % 5 < 2) as unknown as number;
			const v = on ? 170 : 0;
			rgba[i] = v;
			rgba[i + 1] = v;
			rgba[i + 2] = v;
			rgba[i + 3] = 255;
		}
	}
	return createFrame(width, height, rgba);
}

export async function pngSuite(): Promise<Row[]> {
	const rows: Row[] = [];
	for (const [w, h] of [
		[720, 400],
		[1024, 768],
		[1920, 1080],
	] as const) {
		const frame = consoleLikeFrame(w, h);
		rows.push(await time(`PNG encode (raw) ${w}x${h}`, () => encodePng(frame)));
	}
	return rows;
}
