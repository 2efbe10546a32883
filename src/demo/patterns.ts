/**
 * Synthetic screens with the structure real consoles have, so every encoder
 * form gets used: flat areas (solid tiles), two-colour text (mono subrects,
 * packed palettes), a few-colour banner (palette RLE), gradients and noise
 * (raw and plain RLE), and repeated blocks (CopyRect).
 */
import type { RgbaImage } from "../vnc/types.ts";

/** A deterministic test picture of any size. */
export function testPattern(width: number, height: number, seed = 7): RgbaImage {
	const rgba = new Uint8Array(width * height * 4);
	let s = seed >>> 0;
	const noise = () => {
		s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
		return s >>> 24;
	};
	const bannerColours = [
		[200, 40, 40],
		[40, 200, 40],
		[40, 40, 200],
		[220, 220, 60],
		[60, 220, 220],
	];
	for (let y = 0; y < height; y++) {
		for (let x = 0; x < width; x++) {
			const i = (y * width + x) * 4;
			let r = 0;
			let g = 0;
			let b = 0;
			const band = Math.floor((y * 6) / height);
			if (band === 0) {
				// banner: stripes of five colours
				const c = bannerColours[Math.floor(x / 11) % bannerColours.length] as number[];
				[r, g, b] = c as [number, number, number];
			} else if (band === 1 || band === 2) {
				// text: glyph-like strokes, light grey on dark blue
				const on = x % 9 < 7 && y % 16 < 13 && ((x * 7 + y * 3) % 5 < 2 || (x % 9 === 1 && y % 16 > 3));
				[r, g, b] = on ? [170, 170, 170] : [0, 0, 96];
			} else if (band === 3) {
				// steps of 4 pixels on the left (many colours, in runs), a smooth gradient on the right
				[r, g, b] =
					x < width / 2
						? [((x >> 2) * 13) & 255, (y * 7) & 255, 64]
						: [(x * 255) / Math.max(1, width - 1), (y * 7) & 255, 128];
			} else if (band === 4) {
				// a repeated 16x16 emblem on a flat background
				const lx = x % 32;
				const ly = y % 32;
				const inside = lx < 16 && ly < 16 && (lx - 8) ** 2 + (ly - 8) ** 2 < 40;
				[r, g, b] = inside ? [255, 128, 0] : [30, 30, 30];
			} else {
				// noise in the left half, flat in the right
				[r, g, b] = x < width / 2 ? [noise(), noise(), noise()] : [10, 80, 10];
			}
			rgba[i] = r | 0;
			rgba[i + 1] = g | 0;
			rgba[i + 2] = b | 0;
			rgba[i + 3] = 255;
		}
	}
	return { width, height, rgba };
}

/** A text console: light grey glyph strokes on black, like a VGA text screen or a kernel panic. */
export function consolePattern(width: number, height: number): RgbaImage {
	const rgba = new Uint8Array(width * height * 4);
	for (let y = 0; y < height; y++) {
		for (let x = 0; x < width; x++) {
			const i = (y * width + x) * 4;
			const line = Math.floor(y / 16);
			const filled = (line * 37) % 71; // ragged line lengths
			const on = x / 9 < filled && x % 9 < 7 && y % 16 < 13 && (x * 7 + y * 3) % 5 < 2;
			const v = on ? 170 : 0;
			rgba[i] = v;
			rgba[i + 1] = v;
			rgba[i + 2] = v;
			rgba[i + 3] = 255;
		}
	}
	return { width, height, rgba };
}
