// biome-ignore-all lint/style/noNonNullAssertion: typed-array reads in pixel loops are in bounds by construction; `!` keeps them branch-free under noUncheckedIndexedAccess.
/**
 * RFB encoding 0x59 "Hermon": the video of Supermicro boards with a
 * Nuvoton/Winbond WPCM450 BMC (X8, most X9). Old firmware labels the same
 * data encoding 0. Not ASPEED: uncompressed RGB555 pixels, little-endian.
 *
 * Payload: a 10-byte sub-header (u8 type, u8 pad, u32 BE tile count,
 * u32 BE total length = the rectangle's dataLen) and a body:
 * - type 0: `count` tiles of 518 bytes (u16, u16 unknown; u8 row, u8 column;
 *   16x16 pixels row-major), painted over the picture, clipped at the edges;
 * - type 1: the whole screen, width·height pixels row-major.
 *
 * One decoder per KVM session keeps the picture between rectangles.
 */
import { IkvmError } from "../../errors.ts";

export const HERMON_ENCODING = 0x59;
export const HERMON_HEADER_LENGTH = 10;
export const HERMON_TILE_BYTES = 518;
/** Tile edge in pixels. */
export const HERMON_TILE = 16;
const TILE = HERMON_TILE;

export interface HermonDecoderLimits {
	maxWidth?: number;
	maxHeight?: number;
}

export interface HermonPicture {
	width: number;
	height: number;
	rgba: Uint8Array;
}

export type HermonDecodeResult =
	| {
			kind: "picture";
			/** A view of the persistent picture, valid until the next decode (copy with `snapshot()`). */
			picture: HermonPicture;
			/** "tiles" (type 0) or "raw" (type 1). */
			update: "tiles" | "raw";
			/** Tiles painted (type 0), or 0 for a raw frame. */
			tiles: number;
			resized: boolean;
			/** Every pixel has been painted since the last resize (a raw frame, or tiles covering the screen). */
			complete: boolean;
	  }
	| { kind: "need-more"; missing: number }
	| { kind: "no-signal" };

export interface HermonDecoder {
	decode(payload: Uint8Array, rect: { width: number; height: number; dataLength?: number }): HermonDecodeResult;
	snapshot(): HermonPicture | undefined;
	reset(): void;
}

/** RGB555 (bit 15 ignored) → little-endian RGBA word, 5-bit channels widened as (c << 3) | (c >> 2). */
const RGB555 = (() => {
	const t = new Uint32Array(32768);
	const widen = (c: number) => (c << 3) | (c >> 2);
	for (let v = 0; v < 32768; v++) {
		const r = widen((v >> 10) & 31);
		const g = widen((v >> 5) & 31);
		const b = widen(v & 31);
		t[v] = (r | (g << 8) | (b << 16) | 0xff000000) >>> 0;
	}
	return t;
})();

function protocolError(message: string): IkvmError {
	return new IkvmError("PROTOCOL", message, { stage: "decode" });
}

class HermonDecoderImpl implements HermonDecoder {
	private readonly maxWidth: number;
	private readonly maxHeight: number;
	private width = 0;
	private height = 0;
	private picture = new Uint8Array(0);
	private picture32 = new Uint32Array(0);
	/** Per 16x16 tile: painted since the last resize. */
	private painted = new Uint8Array(0);
	private paintedCount = 0;

	constructor(limits: HermonDecoderLimits) {
		this.maxWidth = limits.maxWidth ?? 4096;
		this.maxHeight = limits.maxHeight ?? 4096;
	}

	decode(payload: Uint8Array, rect: { width: number; height: number; dataLength?: number }): HermonDecodeResult {
		const expected = rect.dataLength ?? payload.length;
		if (payload.length < expected) return { kind: "need-more", missing: expected - payload.length };
		const data = payload.subarray(0, expected);
		// Screen off: no data, or (on some firmware) a bare sub-header.
		if (data.length === 0) return { kind: "no-signal" };
		if (data.length < HERMON_HEADER_LENGTH) {
			throw protocolError(`Hermon payload too short: ${data.length} bytes, the sub-header alone is 10.`);
		}
		const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
		const type = view.getUint8(0);
		const count = view.getUint32(2);
		const total = view.getUint32(6);
		if (total !== data.length) {
			throw protocolError(`Hermon sub-header says ${total} bytes but the rectangle carries ${data.length}.`);
		}
		const { width, height } = rect;
		if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
			throw protocolError(`Hermon rectangle has an empty size ${width}x${height}.`);
		}
		if (width > this.maxWidth || height > this.maxHeight) {
			throw new IkvmError(
				"TOO_LARGE",
				`Hermon video size ${width}x${height} exceeds the limit ${this.maxWidth}x${this.maxHeight}.`,
				{ stage: "decode", hint: "Raise MAX_FRAMEBUFFER if this resolution is genuine." },
			);
		}
		if (type !== 0 && type !== 1) throw protocolError(`Hermon update type ${type} is unknown (0 = tiles, 1 = raw).`);
		const body = data.subarray(HERMON_HEADER_LENGTH);
		if (type === 0 && count * HERMON_TILE_BYTES > body.length) {
			throw protocolError(
				`Hermon update announces ${count} tiles (${count * HERMON_TILE_BYTES} bytes) but carries ${body.length} bytes.`,
			);
		}
		if (type === 1 && body.length < width * height * 2) {
			throw protocolError(
				`Hermon raw frame of ${width}x${height} needs ${width * height * 2} bytes, the rectangle carries ${body.length}.`,
			);
		}
		const resized = this.ensurePicture(width, height);
		if (type === 1) {
			this.paintRaw(body);
			this.painted.fill(1);
			this.paintedCount = this.painted.length;
			return { kind: "picture", picture: this.view(), update: "raw", tiles: 0, resized, complete: true };
		}
		for (let t = 0; t < count; t++) this.paintTile(body, t * HERMON_TILE_BYTES);
		const complete = this.paintedCount === this.painted.length;
		return { kind: "picture", picture: this.view(), update: "tiles", tiles: count, resized, complete };
	}

	private view(): HermonPicture {
		return { width: this.width, height: this.height, rgba: this.picture };
	}

	private ensurePicture(width: number, height: number): boolean {
		if (width === this.width && height === this.height) return false;
		this.width = width;
		this.height = height;
		this.picture = new Uint8Array(width * height * 4);
		this.picture32 = new Uint32Array(this.picture.buffer);
		this.picture32.fill(0xff000000);
		this.painted = new Uint8Array(Math.ceil(width / TILE) * Math.ceil(height / TILE));
		this.paintedCount = 0;
		return true;
	}

	private paintRaw(body: Uint8Array): void {
		const out = this.picture32;
		const n = this.width * this.height;
		for (let p = 0, b = 0; p < n; p++, b += 2) out[p] = RGB555[(body[b]! | (body[b + 1]! << 8)) & 0x7fff]!;
	}

	private paintTile(body: Uint8Array, offset: number): void {
		const row = body[offset + 4]!;
		const col = body[offset + 5]!;
		const px = col * TILE;
		const py = row * TILE;
		const width = this.width;
		if (px >= width || py >= this.height) return;
		const w = Math.min(TILE, width - px);
		const h = Math.min(TILE, this.height - py);
		const index = row * Math.ceil(width / TILE) + col;
		if (this.painted[index] === 0) {
			this.painted[index] = 1;
			this.paintedCount++;
		}
		const out = this.picture32;
		const pixels = offset + 6;
		for (let j = 0; j < h; j++) {
			let o = (py + j) * width + px;
			let b = pixels + j * TILE * 2;
			for (let i = 0; i < w; i++, o++, b += 2) out[o] = RGB555[(body[b]! | (body[b + 1]! << 8)) & 0x7fff]!;
		}
	}

	snapshot(): HermonPicture | undefined {
		if (this.width === 0) return undefined;
		return { width: this.width, height: this.height, rgba: this.picture.slice() };
	}

	reset(): void {
		this.width = 0;
		this.height = 0;
		this.picture = new Uint8Array(0);
		this.picture32 = new Uint32Array(0);
		this.painted = new Uint8Array(0);
		this.paintedCount = 0;
	}
}

/** A decoder for one KVM session's Hermon rectangles. */
export function createHermonDecoder(limits: HermonDecoderLimits = {}): HermonDecoder {
	return new HermonDecoderImpl(limits);
}
