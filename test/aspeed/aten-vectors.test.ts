/**
 * The shared ATEN 0x57 vectors (test/fixtures/aten/README.md says what each
 * must give): three hand-built frames and a real Supermicro X10 capture,
 * each decoded bit for bit (every pixel equal to the PNG and the SHA-256 of
 * the RGBA buffer equal to the vector's).
 */
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { createAtenDecoder } from "../../src/aspeed/aten.ts";
import { Ast2500Decoder } from "../../src/aspeed/index.ts";
import { pixelAt, psnr, readBytes, readPng } from "../support/pixels.ts";

const dir = join(import.meta.dir, "../fixtures/aten");

interface VectorFrame {
	payload_b64: string;
}
interface Vector {
	width: number;
	height: number;
	frames?: VectorFrame[];
	expected: { rgba_sha256: string; pixels: { x: number; y: number; rgba: number[] }[] };
	alternative_expected?: { rgba_sha256: string };
	other_decoders?: Record<string, { rgba_sha256: string }>;
}

async function vector(name: string): Promise<Vector> {
	return (await Bun.file(join(dir, `${name}.json`)).json()) as Vector;
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

async function decodeVector(name: string): Promise<{ v: Vector; rgba: Uint8Array; width: number; height: number }> {
	const v = await vector(name);
	const decoder = createAtenDecoder();
	let last: Uint8Array | undefined;
	for (const frame of v.frames ?? []) {
		const payload = new Uint8Array(Buffer.from(frame.payload_b64, "base64"));
		const result = decoder.decode(payload, { width: v.width, height: v.height });
		if (result.kind !== "picture") throw new Error(`frame gave ${result.kind}`);
		last = result.picture.rgba;
	}
	const snap = decoder.snapshot();
	if (!last || !snap) throw new Error("no frame");
	expect(snap.rgba).toEqual(last);
	return { v, rgba: snap.rgba, width: snap.width, height: snap.height };
}

async function expectExact(name: string, rgba: Uint8Array, v: Vector): Promise<void> {
	expect(sha256(rgba)).toBe(v.expected.rgba_sha256);
	for (const p of v.expected.pixels) {
		expect(pixelAt({ width: v.width, height: v.height, rgba }, p.x, p.y)).toEqual(p.rgba);
	}
	const png = await readPng(join(dir, `${name}.png`));
	expect([png.width, png.height]).toEqual([v.width, v.height]);
	expect(psnr(rgba, png.rgba)).toBe(Number.POSITIVE_INFINITY);
	expect(rgba).toEqual(png.rgba);
}

describe("ATEN 0x57 shared vectors", () => {
	test("v1: 4:4:4 VQ 1/2/4-colour blocks, explicit positions, a DCT block with chroma", async () => {
		const { v, rgba } = await decodeVector("v1_444_vq_dct_skip_16x16");
		await expectExact("v1_444_vq_dct_skip_16x16", rgba, v);
	});

	test("v2: 4:2:0 macroblock, Y quadrant order, chroma from byte 1's table (not the ASPEED single-selector reading)", async () => {
		const { v, rgba } = await decodeVector("v2_420_dc_quadrants_16x16");
		await expectExact("v2_420_dc_quadrants_16x16", rgba, v);
		expect(sha256(rgba)).not.toBe(v.alternative_expected?.rgba_sha256);
	});

	test("v3: an incremental frame (one explicit block) over v1 on the same decoder", async () => {
		const { v, rgba } = await decodeVector("v3_incremental_on_v1_16x16");
		await expectExact("v3_incremental_on_v1_16x16", rgba, v);
	});

	test("real X10 capture 1024x768 4:2:0: bit-exact with 16.16 dequantisation", async () => {
		const v = await vector("real_x10_console_1024x768");
		const payload = await readBytes(join(dir, "real_x10_console_1024x768.bin"));
		const decoder = createAtenDecoder();
		const result = decoder.decode(payload, { width: 1024, height: 768, dataLength: payload.length });
		expect(result.kind).toBe("picture");
		if (result.kind !== "picture") return;
		expect(result.header).toEqual({ lumaSelector: 5, chromaSelector: 5, subsampling: "420" });
		expect(result.info.sawFrameEnd).toBe(true);
		expect(result.info.blocks).toBe(3072);
		expect(result.resized).toBe(true);
		await expectExact("real_x10_console_1024x768", result.picture.rgba, v);
	});

	test("real X10 capture through the AMI dialect gives the integer-rule picture the vector lists (the option matters)", async () => {
		const v = await vector("real_x10_console_1024x768");
		const payload = await readBytes(join(dir, "real_x10_console_1024x768.bin"));
		const ami = new Ast2500Decoder({ colorMatrix: "bt601" });
		ami.applyBitstream(
			{
				width: 1024,
				height: 768,
				gridWidth: 1024,
				gridHeight: 768,
				mode420: true,
				tables: { luma: 5, chroma: 5, advanceLuma: 0, advanceChroma: 0, chromaFromLuma: false },
			},
			payload.subarray(4),
		);
		const rgba = ami.snapshot()?.rgba ?? new Uint8Array();
		const integerRule = Object.entries(v.other_decoders ?? {}).find(([k]) => k.startsWith("ast2500.md"))?.[1];
		expect(integerRule).toBeDefined();
		expect(sha256(rgba)).toBe(integerRule?.rgba_sha256 ?? "");
		expect(sha256(rgba)).not.toBe(v.expected.rgba_sha256);
	});
});
