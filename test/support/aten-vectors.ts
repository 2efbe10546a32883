/**
 * The four shared ATEN 0x57 vectors (test/fixtures/aten/README.md), loaded
 * for tests at any level: the rectangle payloads, the same payloads as
 * complete FramebufferUpdate messages (what a mock BMC sends down the
 * socket), and what the decoded picture must be.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { atenFramebufferUpdate } from "../../src/demo/aten-encoder.ts";
import { readPng } from "./pixels.ts";

export const ATEN_FIXTURES = join(import.meta.dir, "../fixtures/aten");

export interface AtenVector {
	name: string;
	width: number;
	height: number;
	/** Rectangle payloads (0x57), in the order one decoder must see them. */
	payloads: Uint8Array[];
	/** The same as whole FramebufferUpdate messages (type 0, pad, nRects 1, 20-byte rectangle header, payload). */
	updates: Uint8Array[];
	/** SHA-256 (hex) of the expected RGBA picture after the last frame. */
	rgbaSha256: string;
	/** The expected picture. */
	png: string;
}

export const ATEN_VECTOR_NAMES = [
	"v1_444_vq_dct_skip_16x16",
	"v2_420_dc_quadrants_16x16",
	"v3_incremental_on_v1_16x16",
	"real_x10_console_1024x768",
] as const;

export async function loadAtenVector(name: (typeof ATEN_VECTOR_NAMES)[number]): Promise<AtenVector> {
	const json = (await Bun.file(join(ATEN_FIXTURES, `${name}.json`)).json()) as {
		width: number;
		height: number;
		payload_file?: string;
		frames?: { payload_b64: string; rfb_framebuffer_update_b64: string }[];
		expected: { rgba_sha256: string };
	};
	const payloads = json.frames
		? json.frames.map((f) => new Uint8Array(Buffer.from(f.payload_b64, "base64")))
		: [new Uint8Array(await Bun.file(join(ATEN_FIXTURES, json.payload_file ?? `${name}.bin`)).arrayBuffer())];
	const updates = json.frames
		? json.frames.map((f) => new Uint8Array(Buffer.from(f.rfb_framebuffer_update_b64, "base64")))
		: payloads.map((p) => atenFramebufferUpdate(p, json.width, json.height));
	return {
		name,
		width: json.width,
		height: json.height,
		payloads,
		updates,
		rgbaSha256: json.expected.rgba_sha256,
		png: join(ATEN_FIXTURES, `${name}.png`),
	};
}

export async function loadAtenVectors(): Promise<AtenVector[]> {
	return Promise.all(ATEN_VECTOR_NAMES.map(loadAtenVector));
}

export function rgbaSha256(rgba: Uint8Array): string {
	return createHash("sha256").update(rgba).digest("hex");
}

/** True when `rgba` is the vector's expected picture: the hash and every pixel of the PNG. */
export async function matchesAtenVector(vector: AtenVector, rgba: Uint8Array): Promise<boolean> {
	if (rgbaSha256(rgba) !== vector.rgbaSha256) return false;
	const png = await readPng(vector.png);
	return png.rgba.length === rgba.length && png.rgba.every((v, i) => v === rgba[i]);
}
