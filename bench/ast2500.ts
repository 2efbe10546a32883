/**
 * AST2500 decoder speed on full console frames (issue 6 target: 1920x1080
 * under 30 ms on one core). Frames come from the demo encoder: a text
 * console (kernel panic log) in DCT-only 4:4:4, 4:2:0, and the DCT+VQ mix a
 * BMC sends for text, plus a partial update (one changed text line).
 * The target is checked against CPU time ("on one core"): on a shared
 * machine wall time also counts the time other processes hold the core.
 */

import { Ast2500Decoder } from "../src/aspeed/index.ts";
import { encodeAst2500Frame } from "../src/demo/ast2500-encoder.ts";
import { renderConsole, sampleConsolePicture } from "../src/demo/console-picture.ts";
import { type Row, time } from "./harness.ts";

const RUNS = 30;

export async function ast2500Suite(): Promise<Row[]> {
	const rows: Row[] = [];
	for (const [w, h] of [
		[1024, 768],
		[1920, 1080],
	] as const) {
		const screen = sampleConsolePicture(w, h);
		const target = w === 1920 ? 30 : undefined;
		for (const [label, options] of [
			["4:4:4 DCT", { vq: false }],
			["4:2:0 DCT", { mode: "420" }],
			["4:4:4 DCT+VQ", {}],
		] as const) {
			const frame = encodeAst2500Frame(screen, options);
			const decoder = new Ast2500Decoder();
			rows.push(
				await time(
					`AST2500 decode ${w}x${h} ${label} (${(frame.length / 1024).toFixed(0)} KiB)`,
					() => decoder.decode(frame),
					RUNS,
					target,
					"cpu",
				),
			);
		}
	}

	// A stream keeps one decoder: partial frames applied in place, no copy out.
	const screen = sampleConsolePicture(1920, 1080);
	const changed = renderConsole(1920, 16, [{ text: "login: root", fg: [255, 255, 255] }]);
	const next = { ...screen, rgba: screen.rgba.slice() };
	next.rgba.set(changed.rgba, 1920 * 16 * 20 * 4);
	const full = encodeAst2500Frame(screen, { vq: false });
	const partial = encodeAst2500Frame(next, { vq: false, previous: screen });
	const decoder = new Ast2500Decoder();
	rows.push(await time("AST2500 apply 1920x1080 4:4:4 DCT full frame, no copy", () => decoder.apply(full), RUNS));
	rows.push(
		await time("AST2500 apply 1920x1080 partial frame (one text line), no copy", () => decoder.apply(partial), RUNS),
	);

	const encodeScreen = sampleConsolePicture(1024, 768);
	rows.push(await time("AST2500 demo encoder 1024x768 4:4:4 DCT+VQ", () => encodeAst2500Frame(encodeScreen), 5));
	return rows;
}
