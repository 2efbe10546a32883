// biome-ignore-all lint/style/noNonNullAssertion: pixel reads are clamped into the picture.
/**
 * A Hermon (0x59, WPCM450 Supermicro BMCs) video encoder for the mock BMC and
 * the tests: RGBA → RGB555 little-endian payloads, raw full frames or 16x16
 * tiles, and a stream that sends only the tiles that changed.
 */
import { HERMON_HEADER_LENGTH, HERMON_TILE, HERMON_TILE_BYTES, type HermonPicture } from "../aten/video/hermon.ts";

/** RGBA → a Hermon payload: a raw frame, or the listed 16x16 tiles. */
export function encodeHermon(
	picture: HermonPicture,
	options: { tiles?: readonly { row: number; col: number }[] } = {},
): Uint8Array {
	const { width, height, rgba } = picture;
	const rgb555 = (x: number, y: number): number => {
		const o = (Math.min(y, height - 1) * width + Math.min(x, width - 1)) * 4;
		return ((rgba[o]! >> 3) << 10) | ((rgba[o + 1]! >> 3) << 5) | (rgba[o + 2]! >> 3);
	};
	if (!options.tiles) {
		const out = new Uint8Array(HERMON_HEADER_LENGTH + width * height * 2);
		const view = new DataView(out.buffer);
		view.setUint8(0, 1);
		view.setUint32(2, 0);
		view.setUint32(6, out.length);
		for (let y = 0, b = HERMON_HEADER_LENGTH; y < height; y++) {
			for (let x = 0; x < width; x++, b += 2) view.setUint16(b, rgb555(x, y), true);
		}
		return out;
	}
	const tiles = options.tiles;
	const out = new Uint8Array(HERMON_HEADER_LENGTH + tiles.length * HERMON_TILE_BYTES);
	const view = new DataView(out.buffer);
	view.setUint8(0, 0);
	view.setUint32(2, tiles.length);
	view.setUint32(6, out.length);
	tiles.forEach((tile, t) => {
		const o = HERMON_HEADER_LENGTH + t * HERMON_TILE_BYTES;
		view.setUint8(o + 4, tile.row);
		view.setUint8(o + 5, tile.col);
		for (let j = 0; j < HERMON_TILE; j++) {
			for (let i = 0; i < HERMON_TILE; i++) {
				view.setUint16(
					o + 6 + (j * HERMON_TILE + i) * 2,
					rgb555(tile.col * HERMON_TILE + i, tile.row * HERMON_TILE + j),
					true,
				);
			}
		}
	});
	return out;
}

/**
 * Like a WPCM450 BMC: the first frame (and any after a resolution change or
 * `full: true`) is raw; later ones carry the 16x16 tiles that changed.
 */
export class HermonStreamEncoder {
	private previous: HermonPicture | undefined;

	encode(image: HermonPicture, request: { full?: boolean } = {}): Uint8Array {
		const prev = this.previous;
		this.previous = { width: image.width, height: image.height, rgba: image.rgba.slice() };
		if (request.full || !prev || prev.width !== image.width || prev.height !== image.height) return encodeHermon(image);
		const tiles: { row: number; col: number }[] = [];
		for (let row = 0; row * HERMON_TILE < image.height; row++) {
			for (let col = 0; col * HERMON_TILE < image.width; col++) {
				if (tileChanged(prev, image, col * HERMON_TILE, row * HERMON_TILE)) tiles.push({ row, col });
			}
		}
		return encodeHermon(image, { tiles });
	}
}

function tileChanged(a: HermonPicture, b: HermonPicture, px: number, py: number): boolean {
	const w = Math.min(HERMON_TILE, a.width - px);
	const h = Math.min(HERMON_TILE, a.height - py);
	for (let j = 0; j < h; j++) {
		const o = ((py + j) * a.width + px) * 4;
		for (let i = 0; i < w * 4; i++) if (a.rgba[o + i] !== b.rgba[o + i]) return true;
	}
	return false;
}
