// biome-ignore-all lint/style/noNonNullAssertion: typed-array reads in codec loops are in bounds by construction; `!` keeps them branch-free under noUncheckedIndexedAccess.
/**
 * VQ (colour cache) blocks: a block of at most four
 * colours, each either taken from a 4-slot cache or loaded into it, plus a
 * 1- or 2-bit-per-pixel bitmap. The cache outlives blocks and frames.
 */
import type { BitReader } from "./bit-reader.ts";

/** Cache contents of a fresh decoder, as `Y<<16 | Cb<<8 | Cr`: black, white, grey, light grey. */
export const VQ_INITIAL_COLORS = [0x008080, 0xff8080, 0x808080, 0xc08080] as const;

const slots = new Uint8Array(4);

export class VqCache {
	readonly colors = Uint32Array.from(VQ_INITIAL_COLORS);

	reset(): void {
		this.colors.set(VQ_INITIAL_COLORS);
	}
}

/**
 * Reads a VQ block body with `entries` (1, 2 or 4) palette entries: fills
 * `palette[0..entries-1]` with 24-bit `Y<<16 | Cb<<8 | Cr` colours and, for 2
 * and 4 entries, `indices[0..63]` with each pixel's entry (raster order).
 */
export function decodeVqBlock(
	reader: BitReader,
	cache: VqCache,
	entries: 1 | 2 | 4,
	palette: Uint32Array,
	indices: Uint8Array,
): void {
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
	if (entries === 1) return;
	const bits = entries === 2 ? 1 : 2;
	const mask = entries - 1;
	// 64 or 128 bitmap bits, read a 32-bit window at a time.
	for (let p = 0; p < 64; ) {
		const window = reader.peek32();
		for (let shift = 32 - bits; shift >= 0 && p < 64; shift -= bits) indices[p++] = (window >>> shift) & mask;
		reader.pos += 32;
	}
}
