/**
 * Image stage rows: optimise + encode of real console screens (test/fixtures/screens)
 * and synthetic ones. Target (issue 7): 1024x768 under 40 ms.
 */
import { join } from "node:path";
import sharp from "sharp";
import { createFrame, type Frame } from "../src/frame.ts";
import { optimizeFrame } from "../src/image/optimize.ts";
import { type Row, time } from "./harness.ts";

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

/** Optimise + encode (src/image/optimize.ts) of real console screens and synthetic ones. */
export async function imageSuite(): Promise<Row[]> {
	const rows: Row[] = [];
	const cases: Array<[string, Frame, Parameters<typeof optimizeFrame>[1], number?]> = [
		["720x400 kernel panic", await fixture("kernel-panic-720x400"), {}],
		["720x400 synthetic", consoleLikeFrame(720, 400), {}],
		["640x480 UEFI setup", await fixture("uefi-setup-640x480"), {}],
		["1024x768 kernel panic", await fixture("kernel-panic-1024x768"), {}, 40],
		["1024x768 dim BMC", await fixture("dim-bmc-1024x768"), {}, 40],
		["1024x768 JPEG q30", await fixture("jpeg-q30-1024x768"), {}, 40],
		["1024x768 synthetic", consoleLikeFrame(1024, 768), {}, 40],
		["1920x1080 fbcon", await fixture("fbcon-1920x1080"), {}],
		["1920x1080 synthetic", consoleLikeFrame(1920, 1080), {}],
		[
			"region 360x48 of 720x400",
			await fixture("kernel-panic-720x400"),
			{ region: { x: 0, y: 64, width: 360, height: 48 } },
		],
	];
	for (const [name, frame, options, target] of cases) {
		const out = await optimizeFrame(frame, options);
		const how = `${out.width}x${out.height}${out.lift ? " lift" : ""}${out.trimmed ? " trim" : ""}${out.palette ? " palette" : ""}, ${(out.png.length / 1024).toFixed(0)} KiB`;
		rows.push(await time(`optimise+encode ${name} → ${how}`, () => optimizeFrame(frame, options), 10, target));
	}
	return rows;
}
