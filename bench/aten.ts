/**
 * ATEN (Supermicro) video decode speed, next to the AST2500 rows: the same
 * ASPEED codec in its ATEN dialect, so it should be as fast. Frames come
 * from the demo's 0x57 encoder on the same text console the AST2500 rows
 * use (DCT-only 4:4:4, 4:2:0 with the HTML5 default tables 04/07, the
 * 4:4:4 DCT+VQ mix of "Enhanced Text" 07/07), plus the real X10 capture and
 * an incremental frame (one changed text line). The 1920x1080 target is the
 * AST2500 one (30 ms on one core, checked against CPU time).
 */
import { join } from "node:path";
import { createAtenDecoder } from "../src/aspeed/aten.ts";
import { Ast2500Decoder, writeVideoHeader } from "../src/aspeed/index.ts";
import { createHermonDecoder } from "../src/aten/video/hermon.ts";
import { encodeAtenPayload } from "../src/demo/aten-encoder.ts";
import { renderConsole, sampleConsolePicture } from "../src/demo/console-picture.ts";
import { encodeHermon } from "../src/demo/hermon-encoder.ts";
import { type Row, time } from "./harness.ts";

const RUNS = 30;
const REAL_FRAME = join(import.meta.dir, "../test/fixtures/aten/real_x10_console_1024x768.bin");

export async function atenSuite(): Promise<Row[]> {
	const rows: Row[] = [];
	for (const [w, h] of [
		[1024, 768],
		[1920, 1080],
	] as const) {
		const screen = sampleConsolePicture(w, h);
		const target = w === 1920 ? 30 : undefined;
		for (const [label, options] of [
			["4:4:4 DCT", { vq: false }],
			["4:2:0 DCT 04/07", { mode: "420" }],
			["4:4:4 DCT+VQ 07/07", {}],
		] as const) {
			const payload = encodeAtenPayload(screen, options);
			const decoder = createAtenDecoder();
			rows.push(
				await time(
					`ATEN 0x57 decode ${w}x${h} ${label}, no copy (${(payload.length / 1024).toFixed(0)} KiB)`,
					() => decoder.decode(payload, screen),
					RUNS,
					target,
					"cpu",
				),
			);
		}
	}

	// Like for like: one bit stream, decoded by each dialect (only the dequantisation rule differs).
	{
		const screen = sampleConsolePicture(1920, 1080);
		const payload = encodeAtenPayload(screen, { vq: false });
		const bits = payload.subarray(4);
		const header = writeVideoHeader({
			width: 1920,
			height: 1080,
			mode420: false,
			jpegTableSelector: 7,
			advanceTableSelector: 7,
			yuvTableMapping: 0,
			compressSize: bits.length,
		});
		const frame = new Uint8Array(header.length + bits.length);
		frame.set(header);
		frame.set(bits, header.length);
		const ami = new Ast2500Decoder({ colorMatrix: "bt601" });
		const aten = createAtenDecoder();
		rows.push(
			await time(
				"same stream 1920x1080 4:4:4 DCT: AMI dialect (AST2500), no copy",
				() => ami.apply(frame),
				RUNS,
				30,
				"cpu",
			),
		);
		rows.push(
			await time(
				"same stream 1920x1080 4:4:4 DCT: ATEN dialect (0x57), no copy",
				() => aten.decode(payload, screen),
				RUNS,
				30,
				"cpu",
			),
		);
	}

	const real = new Uint8Array(await Bun.file(REAL_FRAME).arrayBuffer());
	const realDecoder = createAtenDecoder();
	rows.push(
		await time(
			`ATEN 0x57 decode real X10 capture 1024x768 4:2:0 05/05 (${(real.length / 1024).toFixed(0)} KiB)`,
			() => realDecoder.decode(real, { width: 1024, height: 768 }),
			RUNS,
			undefined,
			"cpu",
		),
	);

	// A session keeps one decoder: an incremental frame paints only the changed blocks.
	const screen = sampleConsolePicture(1920, 1080);
	const next = { ...screen, rgba: screen.rgba.slice() };
	next.rgba.set(renderConsole(1920, 16, [{ text: "login: root", fg: [255, 255, 255] }]).rgba, 1920 * 16 * 20 * 4);
	const decoder = createAtenDecoder();
	decoder.decode(encodeAtenPayload(screen, { vq: false }), screen);
	const partial = encodeAtenPayload(next, { vq: false, previous: screen });
	rows.push(await time("ATEN 0x57 incremental 1920x1080 (one text line)", () => decoder.decode(partial, next), RUNS));
	rows.push(await time("ATEN 0x57 snapshot copy 1920x1080", () => decoder.snapshot(), RUNS));

	const hermonScreen = sampleConsolePicture(1024, 768);
	const raw = encodeHermon(hermonScreen);
	const hermon = createHermonDecoder();
	rows.push(
		await time(
			"Hermon 0x59 decode 1024x768 raw RGB555",
			() => hermon.decode(raw, hermonScreen),
			RUNS,
			undefined,
			"cpu",
		),
	);

	rows.push(
		await time("ATEN demo encoder 1024x768 4:4:4 DCT+VQ", () => encodeAtenPayload(sampleConsolePicture(1024, 768)), 5),
	);
	return rows;
}
