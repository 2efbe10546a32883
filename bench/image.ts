/**
 * Image stage: PNG encoding of console-sized frames.
 */
import { consolePattern } from "../src/demo/patterns.ts";
import { encodePng } from "../src/image/encode.ts";
import { createFrame } from "../src/image/frame.ts";
import { type Row, time } from "./lib.ts";

export async function imageSuite(): Promise<Row[]> {
	const rows: Row[] = [];
	for (const [w, h] of [
		[720, 400],
		[1024, 768],
		[1920, 1080],
	] as const) {
		const image = consolePattern(w, h);
		const frame = createFrame(w, h, image.rgba);
		rows.push(await time(`PNG encode (raw) ${w}x${h}`, () => encodePng(frame)));
	}
	return rows;
}
