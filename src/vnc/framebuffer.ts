/**
 * The client's copy of the remote screen: RGBA bytes plus a 32-bit view of the
 * same memory for fast fills, and a map of which pixels have been painted
 * since the last reset, so a capture knows when it holds a complete picture.
 *
 * Decoders validate rectangles against the framebuffer before calling these
 * methods; the methods themselves do not clip.
 */
import { createFrame, type Frame } from "../frame.ts";
import { encodingName } from "./types.ts";

/** A picture from a VNC framebuffer, saying how it was sent (for the caption). */
export interface VncFrame extends Frame {
	/** Encodings of the rectangles painted since the capture began, e.g. ["ZRLE"]. */
	readonly encodings: readonly string[];
	/** Some pixels came as JPEG and may differ slightly from the screen. */
	readonly lossy: boolean;
}

/** Every platform Bun runs on is little-endian; the 32-bit view relies on it. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** A colour for the 32-bit view: bytes R, G, B, 255 in memory. */
export function rgb(r: number, g: number, b: number): number {
	return (0xff000000 | (b << 16) | (g << 8) | r) >>> 0;
}

export class Framebuffer {
	readonly rgba: Uint8Array;
	/** The same memory as `rgba`, one element per pixel. */
	readonly pixels: Uint32Array;
	private readonly painted: Uint8Array;
	/** Encodings that painted rectangles since the last reset. */
	readonly sources = new Set<number>();
	/** A lossy (JPEG) rectangle was painted since the last reset. */
	lossy = false;

	constructor(
		readonly width: number,
		readonly height: number,
	) {
		if (!LITTLE_ENDIAN) throw new Error("the VNC framebuffer needs a little-endian platform");
		this.pixels = new Uint32Array(width * height);
		this.rgba = new Uint8Array(this.pixels.buffer);
		this.painted = new Uint8Array(width * height);
	}

	/** True when `x, y, w, h` lies inside the framebuffer. */
	contains(x: number, y: number, w: number, h: number): boolean {
		return x >= 0 && y >= 0 && w >= 0 && h >= 0 && x + w <= this.width && y + h <= this.height;
	}

	fillRect(x: number, y: number, w: number, h: number, colour: number): void {
		const stride = this.width;
		const px = this.pixels;
		if (w < 16) {
			// Hextile and ZRLE paint many tiny runs: a plain loop beats fill()'s call overhead.
			for (let row = y; row < y + h; row++) {
				const start = row * stride + x;
				for (let i = start; i < start + w; i++) px[i] = colour;
			}
			return;
		}
		for (let row = y; row < y + h; row++) {
			const start = row * stride + x;
			px.fill(colour, start, start + w);
		}
	}

	/** Copies rows of wire pixels (R, G, B, X; 4 bytes each) and makes them opaque. */
	putRgbx(x: number, y: number, w: number, h: number, src: Uint8Array, srcOffset = 0): void {
		const rgba = this.rgba;
		const rowBytes = w * 4;
		if (w < 64) {
			// Small tiles: byte copies avoid a subarray per row.
			let from = srcOffset;
			for (let row = 0; row < h; row++) {
				let dst = ((y + row) * this.width + x) * 4;
				for (let i = 0; i < w; i++) {
					rgba[dst] = src[from] as number;
					rgba[dst + 1] = src[from + 1] as number;
					rgba[dst + 2] = src[from + 2] as number;
					rgba[dst + 3] = 255;
					dst += 4;
					from += 4;
				}
			}
			return;
		}
		for (let row = 0; row < h; row++) {
			const dst = ((y + row) * this.width + x) * 4;
			const from = srcOffset + row * rowBytes;
			rgba.set(src.subarray(from, from + rowBytes), dst);
			for (let a = dst + 3; a < dst + rowBytes; a += 4) rgba[a] = 255;
		}
	}

	/** Copies a block of 32-bit pixels (`w` per row, `srcStride` apart). */
	putPixels(x: number, y: number, w: number, h: number, src: Uint32Array, srcStride = w): void {
		for (let row = 0; row < h; row++) {
			const from = row * srcStride;
			this.pixels.set(src.subarray(from, from + w), (y + row) * this.width + x);
		}
	}

	/** CopyRect semantics: the source is read as it was before the copy, even when the areas overlap. */
	copyRect(srcX: number, srcY: number, x: number, y: number, w: number, h: number): void {
		if (w === 0 || h === 0) return;
		const stride = this.width;
		const px = this.pixels;
		if (y > srcY) {
			// Moving down: copy bottom rows first so no source row is overwritten before it is read.
			for (let row = h - 1; row >= 0; row--) {
				const from = (srcY + row) * stride + srcX;
				px.copyWithin((y + row) * stride + x, from, from + w);
			}
		} else {
			// copyWithin handles overlap within one row (same row, moving left or right).
			for (let row = 0; row < h; row++) {
				const from = (srcY + row) * stride + srcX;
				px.copyWithin((y + row) * stride + x, from, from + w);
			}
		}
	}

	markPainted(x: number, y: number, w: number, h: number): void {
		if (w === 0) return;
		for (let row = y; row < y + h; row++) {
			const start = row * this.width + x;
			this.painted.fill(1, start, start + w);
		}
	}

	resetPainted(): void {
		this.painted.fill(0);
		this.sources.clear();
		this.lossy = false;
	}

	/** Every pixel painted since the last reset. */
	get complete(): boolean {
		return this.painted.indexOf(0) === -1;
	}

	/** A fresh Frame: a copy, so later updates never change a picture already handed out. */
	snapshot(capturedAt = new Date()): VncFrame {
		return {
			...createFrame(this.width, this.height, this.rgba.slice(), capturedAt),
			encodings: [...this.sources].map(encodingName),
			lossy: this.lossy,
		};
	}
}
