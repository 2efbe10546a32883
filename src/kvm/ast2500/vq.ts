// biome-ignore-all lint/style/noNonNullAssertion: typed-array reads in codec loops are in bounds by construction; `!` keeps them branch-free under noUncheckedIndexedAccess.
/**
 * VQ (colour cache) blocks (docs/ast2500.md §8.3): a block of at most four
 * colours, each either taken from a 4-slot cache or loaded into it, plus a
 * 1- or 2-bit-per-pixel bitmap. The cache outlives blocks and frames.
 */
import type { BitReader } from "./bit-reader.ts";

/** Cache contents of a fresh decoder, as `Y<<16 | Cb<<8 | Cr`: black, white, grey, light grey. */
export const VQ_INITIAL_COLORS = [0x008080, 0xff8080, 0x808080, 0xc08080] as const;

const slots = new Uint8Array(4);
const palette = new Uint32Array(4);

export class VqCache {
	readonly colors = Uint32Array.from(VQ_INITIAL_COLORS);

	reset(): void {
		this.colors.set(VQ_INITIAL_COLORS);
	}
}

/**
 * Reads a VQ block body with `entries` (1, 2 or 4) palette entries and fills
 * the 8x8 component tiles. Returns the bits consumed (for tests).
 */
export function decodeVqBlock(
	reader: BitReader,
	cache: VqCache,
	entries: 1 | 2 | 4,
	tileY: Uint8Array,
	tileCb: Uint8Array,
	tileCr: Uint8Array,
): number {
	const start = reader.pos;
	const colors = cache.colors;
	// Entry i names a cache slot; the colours are looked up after all entries
	// are read, so a later update of the same slot wins (as in the viewer).
	for (let i = 0; i < entries; i++) {
		const head = reader.peek32();
		const slot = (head >>> 29) & 3;
		if (head >>> 31 === 1) {
			colors[slot] = (head >>> 5) & 0xffffff;
			reader.pos += 27;
		} else {
			reader.pos += 3;
		}
		slots[i] = slot;
	}
	for (let i = 0; i < entries; i++) palette[i] = colors[slots[i]!]!;
	if (entries === 1) {
		const c0 = palette[0]!;
		tileY.fill(c0 >>> 16, 0, 64);
		tileCb.fill((c0 >>> 8) & 255, 0, 64);
		tileCr.fill(c0 & 255, 0, 64);
	} else {
		const bits = entries === 2 ? 1 : 2;
		// 64 or 128 bitmap bits, read a 32-bit window at a time.
		for (let p = 0; p < 64; ) {
			const window = reader.peek32();
			const perWindow = 32 / bits;
			for (let j = 0; j < perWindow; j++, p++) {
				const v = (window >>> (32 - bits * (j + 1))) & (entries - 1);
				const color = palette[v]!;
				tileY[p] = color >>> 16;
				tileCb[p] = (color >>> 8) & 255;
				tileCr[p] = color & 255;
			}
			reader.pos += 32;
		}
	}
	return reader.pos - start;
}
