/**
 * `bun run bench`: speed and memory of the pipeline stages, with the targets
 * the issues set. Each stage registers a suite; a suite prints its rows.
 */
import { encodePng } from "../src/image/encode.ts";
import { createFrame } from "../src/image/frame.ts";
import { textRows } from "./text.ts";

interface Row {
	name: string;
	ms: number;
	target?: number;
}

async function time(name: string, fn: () => Promise<unknown> | unknown, runs = 10, target?: number): Promise<Row> {
	await fn();
	const samples: number[] = [];
	for (let i = 0; i < runs; i++) {
		const t0 = performance.now();
		await fn();
		samples.push(performance.now() - t0);
	}
	samples.sort((a, b) => a - b);
	return { name, ms: samples[Math.floor(samples.length / 2)] ?? 0, target };
}

function consoleLikeFrame(width: number, height: number) {
	const rgba = new Uint8Array(width * height * 4);
	for (let y = 0; y < height; y++) {
		for (let x = 0; x < width; x++) {
			const i = (y * width + x) * 4;
			// Glyph-like strokes on black, like a text console.
			const on = (x % 9 < 7 && y % 16 < 13 && (x * 7 + y * 3) % 5 < 2) as unknown as number;
			const v = on ? 170 : 0;
			rgba[i] = v;
			rgba[i + 1] = v;
			rgba[i + 2] = v;
			rgba[i + 3] = 255;
		}
	}
	return createFrame(width, height, rgba);
}

const rows: Row[] = [];
for (const [w, h] of [
	[720, 400],
	[1024, 768],
	[1920, 1080],
] as const) {
	const frame = consoleLikeFrame(w, h);
	rows.push(await time(`PNG encode (raw) ${w}x${h}`, () => encodePng(frame)));
}

rows.push(...(await textRows(time)));

console.log("| stage | median ms | target ms |");
console.log("|---|---:|---:|");
for (const r of rows) console.log(`| ${r.name} | ${r.ms.toFixed(1)} | ${r.target ?? ""} |`);
console.log(`\npeak RSS ${(process.memoryUsage().rss / 1048576).toFixed(0)} MiB`);
