/**
 * Hostile input: random, corrupted and truncated frames must end in a valid
 * picture or an IkvmError (never a hang, a crash or an out-of-bounds write).
 * Each property runs for a bounded time (a few seconds in total).
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { Ast2500Decoder, writeVideoHeader } from "../../src/aspeed/index.ts";
import { IkvmError } from "../../src/errors.ts";
import { encodeAst2500Frame, sampleConsolePicture } from "../support/ast2500-encoder.ts";

const TIME_PER_PROPERTY_MS = 1500;
const EXPECTED_CODES = new Set(["PROTOCOL", "TOO_LARGE", "NOT_SUPPORTED"]);

/** Decodes and checks the outcome; returns "ok" or the error code. */
function outcome(decoder: Ast2500Decoder, frame: Uint8Array): string {
	try {
		const picture = decoder.decode(frame);
		expect(picture.rgba.length).toBe(picture.width * picture.height * 4);
		expect(picture.width).toBeLessThanOrEqual(640);
		return "ok";
	} catch (error) {
		if (!(error instanceof IkvmError)) throw error;
		if (!EXPECTED_CODES.has(error.code)) throw error;
		expect(error.stage).toBe("decode");
		return error.code;
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

const headerArb = fc.record({
	width: fc.integer({ min: 1, max: 96 }),
	height: fc.integer({ min: 1, max: 64 }),
	mode420: fc.boolean(),
	jpegTableSelector: fc.integer({ min: 0, max: 7 }),
	advanceTableSelector: fc.integer({ min: 0, max: 7 }),
	yuvTableMapping: fc.integer({ min: 0, max: 1 }),
});

const limits = { maxWidth: 640, maxHeight: 480 };

describe("AST2500 decoder fuzzing", () => {
	test("random compressed data behind a valid header", () => {
		const decoder = new Ast2500Decoder(limits); // one decoder: state carries across errors
		const runs = run(
			fc.property(headerArb, fc.uint8Array({ maxLength: 2048 }), (h, data) => {
				const frame = new Uint8Array(86 + data.length);
				frame.set(writeVideoHeader({ ...h, compressSize: data.length }));
				frame.set(data, 86);
				outcome(decoder, frame);
			}),
		);
		expect(runs).toBeGreaterThan(50);
	});

	test("completely random frames, including random headers", () => {
		const decoder = new Ast2500Decoder(limits);
		const runs = run(
			fc.property(fc.uint8Array({ minLength: 0, maxLength: 600 }), (bytes) => {
				outcome(decoder, bytes);
			}),
		);
		expect(runs).toBeGreaterThan(50);
	});

	const valid = [
		encodeAst2500Frame(sampleConsolePicture(96, 64), { vq: false }),
		encodeAst2500Frame(sampleConsolePicture(96, 64), { mode: "420" }),
		encodeAst2500Frame(sampleConsolePicture(96, 64)),
		encodeAst2500Frame(sampleConsolePicture(96, 64), { vq: false, lowQuality: true, lowCode: "next" }),
	];

	test("valid frames with flipped bits", () => {
		const decoder = new Ast2500Decoder(limits);
		const runs = run(
			fc.property(
				fc.integer({ min: 0, max: valid.length - 1 }),
				fc.array(fc.nat(), { minLength: 1, maxLength: 12 }),
				(which, flips) => {
					const frame = (valid[which] ?? new Uint8Array()).slice();
					for (const f of flips) {
						const bit = f % ((frame.length - 86) * 8);
						frame[86 + (bit >> 3)] = (frame[86 + (bit >> 3)] ?? 0) ^ (1 << (bit & 7));
					}
					outcome(decoder, frame);
				},
			),
		);
		expect(runs).toBeGreaterThan(50);
	});

	test("truncated frames: cut anywhere, with CompressSize left as is or shrunk to fit", () => {
		const decoder = new Ast2500Decoder(limits);
		const seen = new Set<string>();
		const runs = run(
			fc.property(
				fc.integer({ min: 0, max: valid.length - 1 }),
				fc.integer({ min: 0, max: 100_000 }),
				fc.boolean(),
				(which, cutAt, fixSize) => {
					const source = valid[which] ?? new Uint8Array();
					const frame = source.slice(0, cutAt % (source.length + 1));
					if (fixSize && frame.length >= 86) {
						new DataView(frame.buffer).setUint32(69, frame.length - 86, true);
					}
					const result = outcome(decoder, frame);
					seen.add(result);
					if (!fixSize && frame.length < source.length) expect(result).toBe("PROTOCOL");
				},
			),
		);
		expect(runs).toBeGreaterThan(50);
		expect(seen.has("ok")).toBe(true);
		expect(seen.has("PROTOCOL")).toBe(true);
	});
});
