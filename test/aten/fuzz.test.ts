/**
 * Hostile ATEN video: random, corrupted and truncated 0x57 payloads, Hermon
 * payloads and whole FramebufferUpdate messages must end in a picture, a
 * typed "need more" / "no signal" result or an IkvmError — never another
 * exception, a hang, or a picture beyond the limits. Each property runs for
 * a bounded time.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { createAtenDecoder } from "../../src/aspeed/aten.ts";
import { createAtenVideoDecoder } from "../../src/aten/video/decoder.ts";
import { parseAtenFramebufferUpdate } from "../../src/aten/video/framing.ts";
import { createHermonDecoder } from "../../src/aten/video/hermon.ts";
import { AtenStreamEncoder, atenFramebufferUpdate, encodeAtenPayload } from "../../src/demo/aten-encoder.ts";
import { sampleConsolePicture } from "../../src/demo/console-picture.ts";
import { encodeHermon } from "../../src/demo/hermon-encoder.ts";
import { IkvmError } from "../../src/errors.ts";

const TIME_PER_PROPERTY_MS = 1000;
/** One call slower than this on tiny inputs means something loops. */
const MAX_CALL_MS = 1000;
const EXPECTED_CODES = new Set(["PROTOCOL", "TOO_LARGE", "NOT_SUPPORTED"]);
const limits = { maxWidth: 640, maxHeight: 480 };

function guarded(fn: () => { kind: string; picture?: { width: number; height: number; rgba: Uint8Array } }): string {
	const start = performance.now();
	try {
		const result = fn();
		if (result.picture) {
			const { width, height, rgba } = result.picture;
			expect(width).toBeLessThanOrEqual(limits.maxWidth);
			expect(height).toBeLessThanOrEqual(limits.maxHeight);
			expect(rgba.length).toBe(width * height * 4);
		}
		return result.kind;
	} catch (error) {
		if (!(error instanceof IkvmError) || !EXPECTED_CODES.has(error.code)) throw error;
		expect(error.stage).toBe("decode");
		return error.code;
	} finally {
		expect(performance.now() - start).toBeLessThan(MAX_CALL_MS);
	}
}

function run(property: fc.IProperty<never> | fc.IProperty<unknown[]>): number {
	const details = fc.check(property as fc.IProperty<unknown>, {
		numRuns: 1_000_000,
		interruptAfterTimeLimit: TIME_PER_PROPERTY_MS,
		seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31),
	});
	if (details.failed) throw new Error(fc.defaultReportMessage(details) ?? "property failed");
	return details.numRuns;
}

const sizeArb = fc.record({ width: fc.integer({ min: 0, max: 700 }), height: fc.integer({ min: 0, max: 500 }) });
const smallSizeArb = fc.record({ width: fc.integer({ min: 1, max: 96 }), height: fc.integer({ min: 1, max: 64 }) });

const picture = sampleConsolePicture(96, 64);
const changed = sampleConsolePicture(96, 64);
changed.rgba.fill(200, 0, 96 * 16 * 4);
const stream = new AtenStreamEncoder();
stream.encode(picture);
const valid0x57 = [
	encodeAtenPayload(picture),
	encodeAtenPayload(picture, { vq: false, lumaSelector: 11, chromaSelector: 11 }),
	encodeAtenPayload(picture, { mode: "420" }),
	encodeAtenPayload(picture, { explicitPositions: true }),
	stream.encode(changed),
];
const validHermon = [
	encodeHermon(picture),
	encodeHermon(picture, {
		tiles: [
			{ row: 1, col: 2 },
			{ row: 3, col: 5 },
		],
	}),
];

function flip(source: Uint8Array, flips: number[], skip = 0): Uint8Array {
	const out = source.slice();
	for (const f of flips) {
		const bit = skip * 8 + (f % ((out.length - skip) * 8));
		out[bit >> 3] = (out[bit >> 3] ?? 0) ^ (1 << (bit & 7));
	}
	return out;
}

describe("ATEN 0x57 decoder fuzzing", () => {
	test("random bit streams behind a valid header", () => {
		const decoder = createAtenDecoder(limits); // one decoder: state carries across errors
		const header = fc.tuple(fc.integer({ min: 0, max: 11 }), fc.integer({ min: 0, max: 11 }), fc.boolean());
		const runs = run(
			fc.property(header, smallSizeArb, fc.uint8Array({ maxLength: 2048 }), ([l, c, is420], size, data) => {
				const p = new Uint8Array(4 + data.length);
				p.set([l, c, 0x01, is420 ? 0xa6 : 0xbc]);
				p.set(data, 4);
				guarded(() => decoder.decode(p, size));
			}),
		);
		expect(runs).toBeGreaterThan(50);
	});

	test("completely random payloads and sizes", () => {
		const decoder = createAtenDecoder(limits);
		const runs = run(
			fc.property(sizeArb, fc.uint8Array({ maxLength: 600 }), (size, p) => {
				guarded(() => decoder.decode(p, size));
			}),
		);
		expect(runs).toBeGreaterThan(50);
	});

	test("valid payloads with flipped bits, decoded in sequence on one decoder", () => {
		const decoder = createAtenDecoder(limits);
		const seen = new Set<string>();
		const runs = run(
			fc.property(
				fc.integer({ min: 0, max: valid0x57.length - 1 }),
				fc.array(fc.nat(), { minLength: 1, maxLength: 12 }),
				(which, flips) => {
					seen.add(guarded(() => decoder.decode(flip(valid0x57[which] ?? new Uint8Array(), flips, 4), picture)));
				},
			),
		);
		expect(runs).toBeGreaterThan(50);
		expect(seen.has("picture")).toBe(true);
		expect(seen.has("PROTOCOL")).toBe(true);
	});

	test("truncated payloads: cut anywhere, with dataLength as announced or as received", () => {
		const decoder = createAtenDecoder(limits);
		const seen = new Set<string>();
		const runs = run(
			fc.property(
				fc.integer({ min: 0, max: valid0x57.length - 1 }),
				fc.integer({ min: 0, max: 100_000 }),
				fc.boolean(),
				(which, cutAt, announced) => {
					const source = valid0x57[which] ?? new Uint8Array();
					const cut = source.subarray(0, cutAt % (source.length + 1));
					const result = guarded(() =>
						decoder.decode(cut, { ...picture, dataLength: announced ? source.length : cut.length }),
					);
					seen.add(result);
					if (announced && cut.length < source.length) expect(result).toBe("need-more");
				},
			),
		);
		expect(runs).toBeGreaterThan(50);
		expect(seen.has("picture")).toBe(true);
	});
});

describe("Hermon and FramebufferUpdate fuzzing", () => {
	test("random, flipped and truncated Hermon payloads", () => {
		const decoder = createHermonDecoder(limits);
		const runs = run(
			fc.property(
				fc.oneof(
					fc.uint8Array({ maxLength: 1200 }),
					fc
						.tuple(
							fc.integer({ min: 0, max: validHermon.length - 1 }),
							fc.array(fc.nat(), { minLength: 1, maxLength: 8 }),
						)
						.map(([w, flips]) => flip(validHermon[w] ?? new Uint8Array(), flips)),
					fc
						.tuple(fc.integer({ min: 0, max: validHermon.length - 1 }), fc.nat())
						.map(([w, cut]) => (validHermon[w] ?? new Uint8Array()).subarray(0, cut % 20000)),
				),
				fc.oneof(sizeArb, fc.constant({ width: 96, height: 64 })),
				(p, size) => {
					guarded(() => decoder.decode(p, size));
				},
			),
		);
		expect(runs).toBeGreaterThan(50);
	});

	test("random and corrupted FramebufferUpdate messages through the framing and the session decoder", () => {
		const video = createAtenVideoDecoder(limits);
		const messages = [
			atenFramebufferUpdate(valid0x57[0] ?? new Uint8Array(), 96, 64),
			atenFramebufferUpdate(validHermon[1] ?? new Uint8Array(), 96, 64, 0x59),
		];
		const runs = run(
			fc.property(
				fc.oneof(
					fc.uint8Array({ maxLength: 400 }).map((m) => Uint8Array.of(0, 0, ...m)),
					fc
						.tuple(fc.integer({ min: 0, max: messages.length - 1 }), fc.array(fc.nat(), { minLength: 1, maxLength: 6 }))
						.map(([w, flips]) => {
							// Flip only inside the 4 + 20 header bytes, where sizes and lengths live.
							const m = (messages[w] ?? new Uint8Array()).slice();
							for (const f of flips) m[f % 24] = (m[f % 24] ?? 0) ^ (1 << (f % 8));
							m[0] = 0;
							return m;
						}),
				),
				(message) => {
					guarded(() => {
						const parsed = parseAtenFramebufferUpdate(message, 0, { maxRectBytes: 1 << 20, maxRects: 64 });
						if (parsed.kind !== "ok") return parsed;
						let last: ReturnType<typeof video.decodeRect> | { kind: "empty" } = { kind: "empty" };
						for (const rect of parsed.value) last = video.decodeRect(rect);
						return last;
					});
				},
			),
		);
		expect(runs).toBeGreaterThan(50);
	});
});
