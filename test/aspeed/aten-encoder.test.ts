/**
 * ATEN 0x57 encoder (src/demo/aten-encoder.ts) → ATEN decoder round trips on
 * the demo's real console pictures, full and incremental frames, every table
 * selector, and the FramebufferUpdate wrapping the mock BMC sends.
 */
import { describe, expect, test } from "bun:test";
import { createAtenDecoder, parseAtenPayloadHeader } from "../../src/aspeed/aten.ts";
import { createAtenVideoDecoder } from "../../src/aten/video/decoder.ts";
import { parseAtenFramebufferUpdate } from "../../src/aten/video/framing.ts";
import type { RgbaPicture } from "../../src/demo/ast2500-encoder.ts";
import {
	AtenStreamEncoder,
	atenFramebufferUpdate,
	atenNoSignalUpdate,
	encodeAtenPayload,
	encodeAtenPayloadWithStats,
} from "../../src/demo/aten-encoder.ts";
import { renderConsole } from "../../src/demo/console-picture.ts";
import { DEMO_SCREENS, loadScreen } from "../../src/demo/screens.ts";
import { psnr } from "../support/pixels.ts";

function decodeOnce(payload: Uint8Array, image: { width: number; height: number }): Uint8Array {
	const result = createAtenDecoder().decode(payload, image);
	if (result.kind !== "picture") throw new Error(result.kind);
	return result.picture.rgba;
}

function gradient(width: number, height: number): RgbaPicture {
	const rgba = new Uint8Array(width * height * 4);
	for (let y = 0; y < height; y++) {
		for (let x = 0; x < width; x++) {
			rgba.set([(x * 255) / width, (y * 255) / height, 128 + 100 * Math.sin(x / 9), 255], (y * width + x) * 4);
		}
	}
	return { width, height, rgba };
}

describe("ATEN encoder round trips", () => {
	test("every demo console picture, 4:4:4 (07 07 444): all blocks VQ, every pixel exact", async () => {
		for (const file of Object.values(DEMO_SCREENS)) {
			const screen = await loadScreen(file);
			const { payload, stats } = encodeAtenPayloadWithStats(screen);
			expect(Array.from(payload.subarray(0, 4))).toEqual([7, 7, 0x01, 0xbc]);
			expect(stats.blocks).toBe(Math.ceil(screen.width / 8) * Math.ceil(screen.height / 8));
			expect(stats.vqBlocks).toBe(stats.blocks);
			expect(decodeOnce(payload, screen)).toEqual(screen.rgba);
		}
	});

	test("a console with a photo-like region: VQ and DCT blocks in one frame, >= 45 dB; DCT only at 11/11 >= 45 dB", async () => {
		const screen = await loadScreen(DEMO_SCREENS.kernelPanic);
		const mixed = { ...screen, rgba: screen.rgba.slice() };
		const inset = gradient(256, 192);
		for (let y = 0; y < 192; y++)
			mixed.rgba.set(inset.rgba.subarray(y * 256 * 4, (y + 1) * 256 * 4), ((300 + y) * 1024 + 600) * 4);
		const { payload, stats } = encodeAtenPayloadWithStats(mixed);
		expect(stats.vqBlocks).toBeGreaterThan(0);
		expect(stats.dctBlocks).toBeGreaterThanOrEqual((256 / 8) * (192 / 8));
		expect(psnr(decodeOnce(payload, mixed), mixed.rgba)).toBeGreaterThan(45);
		const dctOnly = encodeAtenPayloadWithStats(screen, { vq: false, lumaSelector: 11, chromaSelector: 11 });
		expect(dctOnly.stats.dctBlocks).toBe(dctOnly.stats.blocks);
		expect(psnr(decodeOnce(dctOnly.payload, screen), screen.rgba)).toBeGreaterThan(45);
	});

	test("4:2:0 (HTML5 default 04 07 422) and the finest tables (11/11)", async () => {
		const screen = await loadScreen(DEMO_SCREENS.login);
		const normal = encodeAtenPayload(screen, { mode: "420" });
		expect(parseAtenPayloadHeader(normal)).toEqual({ lumaSelector: 4, chromaSelector: 7, subsampling: "420" });
		const coarse = psnr(decodeOnce(normal, screen), screen.rgba);
		const fine = psnr(
			decodeOnce(encodeAtenPayload(screen, { mode: "420", lumaSelector: 11, chromaSelector: 11 }), screen),
			screen.rgba,
		);
		expect(coarse).toBeGreaterThan(28);
		expect(fine).toBeGreaterThan(coarse);
		expect(fine).toBeGreaterThan(35);
	});

	test("every table selector 0..11 decodes; finer tables give better pictures", () => {
		const image = gradient(64, 48);
		const scores = Array.from({ length: 12 }, (_, sel) =>
			psnr(
				decodeOnce(encodeAtenPayload(image, { vq: false, lumaSelector: sel, chromaSelector: sel }), image),
				image.rgba,
			),
		);
		expect(scores[0]).toBeGreaterThan(25);
		expect(scores[11]).toBeGreaterThan(40);
		for (let s = 1; s < 12; s++) expect(scores[s]).toBeGreaterThanOrEqual((scores[s - 1] ?? 0) - 0.5);
		expect(() => encodeAtenPayload(image, { lumaSelector: 12 })).toThrow(RangeError);
	});

	test("incremental frames carry only changed blocks and give the same picture as a full frame", async () => {
		const screen = await loadScreen(DEMO_SCREENS.kernelPanic);
		const next = { ...screen, rgba: screen.rgba.slice() };
		const line = renderConsole(screen.width, 16, [{ text: "login: root", fg: [255, 255, 255] }]);
		next.rgba.set(line.rgba, screen.width * 16 * 30 * 4);

		const stream = new AtenStreamEncoder();
		const decoder = createAtenDecoder();
		const first = stream.encode(screen);
		expect(decoder.decode(first, screen)).toMatchObject({ kind: "picture", complete: true });
		const update = stream.encode(next);
		const result = decoder.decode(update, next);
		expect(result).toMatchObject({ kind: "picture", resized: false, complete: true });
		if (result.kind !== "picture") return;
		expect(result.info.blocks).toBeGreaterThan(0);
		expect(result.info.blocks).toBeLessThanOrEqual(2 * (screen.width / 8));
		expect(update.length).toBeLessThan(first.length / 10);
		// Each block's pixels depend only on its own data, so the incremental picture equals a fresh full decode.
		expect(result.picture.rgba).toEqual(decodeOnce(encodeAtenPayload(next), next));

		// Nothing changed: a frame with no blocks, and the picture stays.
		const before = decoder.snapshot()?.rgba;
		const idle = stream.encode(next);
		expect(idle.length).toBeLessThanOrEqual(16);
		expect(decoder.decode(idle, next)).toMatchObject({ kind: "picture", info: { blocks: 0, sawFrameEnd: true } });
		expect(decoder.snapshot()?.rgba).toEqual(before as Uint8Array);
		// A full frame on request.
		expect(stream.encode(next, { full: true }).length).toBeGreaterThan(first.length / 2);
	});

	test("VQ colours reused within a frame only: a frame decodes the same on a fresh or a used decoder", async () => {
		const screen = await loadScreen(DEMO_SCREENS.grubRescue);
		const payload = encodeAtenPayload(screen);
		const used = createAtenDecoder();
		used.decode(encodeAtenPayload(gradient(screen.width, screen.height)), screen);
		used.decode(encodeAtenPayload(await loadScreen(DEMO_SCREENS.uefiSetup).then((p) => ({ ...p }))), {
			width: 640,
			height: 480,
		});
		const a = used.decode(payload, screen);
		if (a.kind !== "picture") throw new Error(a.kind);
		expect(a.picture.rgba).toEqual(decodeOnce(payload, screen));
	});

	test("FramebufferUpdate messages from the encoder go through the framing and the session decoder", async () => {
		const screen = await loadScreen(DEMO_SCREENS.uefiSetup);
		const payload = encodeAtenPayload(screen);
		const message = atenFramebufferUpdate(payload, screen.width, screen.height);
		const parsed = parseAtenFramebufferUpdate(message);
		if (parsed.kind !== "ok") throw new Error("incomplete");
		const video = createAtenVideoDecoder();
		const [rect] = parsed.value;
		if (!rect) throw new Error("no rect");
		expect(video.decodeRect(rect)).toMatchObject({ kind: "picture", codec: "ast2100", complete: true });
		expect(psnr(video.snapshot()?.rgba ?? new Uint8Array(), screen.rgba)).toBeGreaterThan(45);
		const off = parseAtenFramebufferUpdate(atenNoSignalUpdate());
		if (off.kind !== "ok" || !off.value[0]) throw new Error("incomplete");
		expect(video.decodeRect(off.value[0])).toEqual({ kind: "no-signal", reason: "sentinel" });
	});
});
