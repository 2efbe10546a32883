import { describe, expect, test } from "bun:test";
import { BitReader } from "../../src/aspeed/bit-reader.ts";

function reader(bytes: number[]): BitReader {
	const r = new BitReader();
	r.load(Uint8Array.from(bytes));
	return r;
}

describe("BitReader", () => {
	test("reads little-endian 32-bit words from bit 31 down (spec V1 payload)", () => {
		// word0 = 0x58A2B5E1 → 0101 1000 1010 0010 ...
		const r = reader([0xe1, 0xb5, 0xa2, 0x58, 0x00, 0x00, 0x00, 0x20]);
		expect(r.peek(4)).toBe(0b0101);
		expect(r.read(4)).toBe(0x5);
		expect(r.read(3)).toBe(0b100);
		expect(r.read(24)).toBe(0x515af0);
		expect(r.read(4)).toBe(0x9);
		expect(r.pos).toBe(35);
		expect(r.peek32()).toBe(0);
	});

	test("peeks across word boundaries at every offset", () => {
		const r = reader([0x78, 0x56, 0x34, 0x12, 0xf0, 0xde, 0xbc, 0x9a]);
		const all = 0x123456789abcdef0n;
		for (let pos = 0; pos <= 32; pos++) {
			r.pos = pos;
			const expected = Number(((all << BigInt(pos)) >> 32n) & 0xffffffffn);
			expect(r.peek32()).toBe(expected);
		}
	});

	test("reads past the data yield zeros; a trailing partial word is zero-padded", () => {
		const r = reader([0xff, 0xff, 0xff]);
		expect(r.read(8)).toBe(0x00); // byte 3 (missing) is the top byte of word 0
		expect(r.read(24)).toBe(0xffffff);
		expect(r.read(31)).toBe(0);
		r.pos = 32 * 500;
		expect(r.peek32()).toBe(0);
	});

	test("a reused reader clears the previous frame's bytes", () => {
		const r = new BitReader();
		r.load(new Uint8Array(64).fill(0xff));
		r.load(Uint8Array.from([0x01]));
		expect(r.read(32)).toBe(1);
		expect(r.read(32)).toBe(0);
	});

	test("end-of-data follows the viewer's word index: 2 words buffered ahead", () => {
		const r = reader(new Array(16).fill(0)); // CompressSize 16 → 4 words
		expect(r.wordIndex()).toBe(2);
		expect(r.pastEnd()).toBe(false);
		r.pos = 63;
		expect(r.pastEnd()).toBe(false);
		r.pos = 64;
		expect(r.wordIndex()).toBe(4);
		expect(r.pastEnd()).toBe(true);
		// CompressSize 0: past the end at once (the frame loop still decodes one block).
		expect(reader([]).pastEnd()).toBe(true);
	});
});
