/**
 * Image stage rows: PNG encode of raw frames and optimise + encode of real console
 * screens (test/fixtures/screens) and synthetic ones. Target: 1024x768 under 40 ms.
 */
import { join } from "node:path";
import sharp from "sharp";
import { encodePng } from "../src/image/encode.ts";
import { createFrame, type Frame } from "../src/image/frame.ts";
import { optimizeFrame } from "../src/image/optimize.ts";
import { type Row, time } from "./lib.ts";

const FIXTURES = join(import.meta.dir, "..", "test", "fixtures", "screens");

async function fixture(name: string): Promise<Frame> {
	const { data, info } = await sharp(join(FIXTURES, `${name}.png`))
		.ensureAlpha()
		.raw()
		.toBuffer({ resolveWithObject: true });
	return createFrame(info.width, info.height, new Uint8Array(data));
}

/** Glyph-like strokes on black over the whole screen (nothing to trim). */
function consoleLikeFrame(width: number, height: number): Frame {
	const rgba = new Uint8Array(width * height * 4);
	for (let y = 0; y < height; y++) {
		for (let x = 0; x < width; x++) {
			const i = (y * width + x) * 4;
			const on = x % 9 < 7 && y % 16 < 13 && (x * 7 + y * 3) % 5 < 2;
			rgba.fill(on ? 170 : 0, i, i + 3);
			rgba[i + 3] = 255;
		}
	}
	return createFrame(width, height, rgba);
}

export async function imageRows(): Promise<Row[]> {
	const rows: Row[] = [];
	for (const [w, h] of [
		[720, 400],
		[1024, 768],
		[1920, 1080],
	] as const) {
		const frame = consoleLikeFrame(w, h);
		rows.push(await time(`PNG encode (raw) ${w}x${h}`, () => encodePng(frame)));
	}
	const cases: Array<[string, Frame, Parameters<typeof optimizeFrame>[1], number?]> = [
		["optimise+encode 720x400 kernel panic (2x lanczos3)", await fixture("kernel-panic-720x400"), {}],
		["optimise+encode 720x400 synthetic", consoleLikeFrame(720, 400), {}],
		["optimise+encode 640x480 UEFI setup (1.98x)", await fixture("uefi-setup-640x480"), {}],
		["optimise+encode 1024x768 kernel panic", await fixture("kernel-panic-1024x768"), {}, 40],
		["optimise+encode 1024x768 dim BMC (lift)", await fixture("dim-bmc-1024x768"), {}, 40],
		["optimise+encode 1024x768 JPEG q30 (trim, 2x)", await fixture("jpeg-q30-1024x768"), {}, 40],
		["optimise+encode 1024x768 synthetic", consoleLikeFrame(1024, 768), {}, 40],
		["optimise+encode 1920x1080 fbcon (trim)", await fixture("fbcon-1920x1080"), {}],
		["optimise+encode 1920x1080 synthetic (shrink 0.76)", consoleLikeFrame(1920, 1080), {}],
		[
			"optimise+encode region 360x48 of 720x400 (4x zoom)",
			await fixture("kernel-panic-720x400"),
			{ region: { x: 0, y: 64, width: 360, height: 48 } },
		],
	];
	for (const [name, frame, options, target] of cases) {
		let note = "";
		rows.push(
			await time(
				name,
				async () => {
					const out = await optimizeFrame(frame, options);
					note = `→ ${out.width}x${out.height}, ${(out.png.length / 1024).toFixed(0)} KiB${out.palette ? " palette" : ""}`;
				},
				10,
				target,
			),
		);
		(rows.at(-1) as Row).note = note;
	}
	return rows;
}
