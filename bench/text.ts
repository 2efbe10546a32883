/**
 * Text stage rows for `bun run bench`: method 1 (bitmap-font) must read a 720x400 or 1024x768
 * console in under 20 ms; method 2 (OCR) is reported.
 */
import { join } from "node:path";
import sharp from "sharp";
import { createFrame, type Frame } from "../src/frame.ts";
import { recognizeBitmap } from "../src/text/bitmap.ts";
import { closeOcr, ocrFrame } from "../src/text/ocr.ts";
import { type Row, time } from "./harness.ts";

const FIXTURES = join(import.meta.dir, "../test/fixtures/text");

async function load(name: string, jpegQuality?: number): Promise<Frame> {
	let input: Buffer | string = join(FIXTURES, name);
	if (jpegQuality) input = await sharp(input).jpeg({ quality: jpegQuality, chromaSubsampling: "4:2:0" }).toBuffer();
	const { data, info } = await sharp(input).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
	return createFrame(info.width, info.height, new Uint8Array(data));
}

/** Method 1 is compute on one core: its target is judged on CPU time, which stays meaningful on a busy machine. */
export async function textSuite(): Promise<Row[]> {
	const rows: Row[] = [];
	const vga = await load("qemu-vga-panic-720x400.png");
	const fbcon = await load("qemu-fbcon-panic-1024x768.png");
	rows.push(await time("text method 1 (bitmap-font) 720x400 VGA text", () => recognizeBitmap(vga), 30, 20, "cpu"));
	rows.push(await time("text method 1 (bitmap-font) 1024x768 fbcon", () => recognizeBitmap(fbcon), 30, 20, "cpu"));
	const noisy = await load("qemu-fbcon-panic-1024x768.png", 75);
	rows.push(await time("text method 1 1024x768 fbcon after JPEG q75", () => recognizeBitmap(noisy), 10));
	const graphical = await load("graphical-setup-1024x768.png");
	rows.push(await time("text method 2 (OCR) 1024x768 graphical setup", () => ocrFrame(graphical), 3));
	await closeOcr();
	return rows;
}
