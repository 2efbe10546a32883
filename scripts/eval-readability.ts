/**
 * `bun run eval:readability`: how well can a reader read the consoles we send?
 *
 * Runs OCR (tesseract.js, English LSTM data from the @tesseract.js-data/eng package, fully
 * offline) on each fixture in test/fixtures/screens/: the raw framebuffer PNG, the raw PNG as a
 * vision client receives it (shrunk to the long-edge/megapixel limits when larger, as clients
 * do before the model sees it), and the default optimised PNG. Prints the character error rate
 * against the ground truth, per fixture and overall, with output bytes and pixel counts.
 *
 *   bun run eval:readability [--json] [fixture-name ...]
 *   bun run eval:readability --compare [fixture-name ...]   candidate rules side by side
 *
 * OCR is a stand-in for a vision model: both fail on the same things (tiny glyphs, weak
 * contrast, blur, blocky artefacts), and OCR gives a number we can track.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import sharp from "sharp";
import { createWorker, OEM, PSM } from "tesseract.js";
import { createFrame, type Frame } from "../src/frame.ts";
import { encodePng } from "../src/image/encode.ts";
import { type OptimizeOptions, optimizeFrame, VISION_LIMITS } from "../src/image/optimize.ts";

const FIXTURES = join(import.meta.dir, "..", "test", "fixtures", "screens");
/** Screens kept for this measurement only (see its README). */
const EXTRA = join(import.meta.dir, "..", "test", "fixtures", "readability");
const require = createRequire(import.meta.url);
// The LSTM-only ("best_int") English model shipped in the npm package: no download at run time.
const LANG_PATH = join(dirname(require.resolve("@tesseract.js-data/eng/package.json")), "4.0.0_best_int");

export async function loadFixture(path: string): Promise<Frame> {
	const { data, info } = await sharp(path).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
	return createFrame(info.width, info.height, new Uint8Array(data));
}

/**
 * OCR reads the decoded pixels, re-encoded the same way for every image: tesseract reacts to
 * the PNG's pHYs (DPI) chunk and to indexed colour, which say nothing about readability.
 */
async function asOcrInput(png: Buffer): Promise<Buffer> {
	const { data, info } = await sharp(png)
		.removeAlpha()
		.toColourspace("srgb")
		.raw()
		.toBuffer({ resolveWithObject: true });
	return sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } })
		.png({ compressionLevel: 1 })
		.toBuffer();
}

/**
 * Text as compared: box-drawing and block characters become spaces (frames, not text), runs
 * of blanks become one space, empty lines go. What is left is what a reader must get right.
 */
export function normalise(text: string): string {
	return text
		.replace(/[\u2500-\u259f]/g, " ")
		.split("\n")
		.map((l) => l.replace(/\s+/g, " ").trim())
		.filter((l) => l.length > 0)
		.join("\n");
}

export function editDistance(a: string, b: string): number {
	if (a.length < b.length) [a, b] = [b, a];
	let prev = new Uint32Array(b.length + 1);
	let cur = new Uint32Array(b.length + 1);
	for (let j = 0; j <= b.length; j++) prev[j] = j;
	for (let i = 1; i <= a.length; i++) {
		cur[0] = i;
		const ca = a.charCodeAt(i - 1);
		for (let j = 1; j <= b.length; j++) {
			const sub = (prev[j - 1] as number) + (ca === b.charCodeAt(j - 1) ? 0 : 1);
			const del = (prev[j] as number) + 1;
			const ins = (cur[j - 1] as number) + 1;
			cur[j] = Math.min(sub, del, ins);
		}
		[prev, cur] = [cur, prev];
	}
	return prev[b.length] as number;
}

interface Side {
	errors: number;
	cer: number;
	bytes: number;
	width: number;
	height: number;
	ms: number;
}

/** What a vision client does to an image over its limits before the model sees it: shrink to fit. */
async function asClientSees(
	png: Buffer,
	width: number,
	height: number,
): Promise<{ png: Buffer; width: number; height: number }> {
	const factor = Math.min(
		1,
		VISION_LIMITS.maxLongEdge / Math.max(width, height),
		Math.sqrt(VISION_LIMITS.maxPixels / (width * height)),
	);
	if (factor >= 1) return { png, width, height };
	const w = Math.floor(width * factor);
	const h = Math.floor(height * factor);
	return { png: await sharp(png).resize(w, h, { kernel: "lanczos3" }).png().toBuffer(), width: w, height: h };
}

interface Row {
	name: string;
	frame: string;
	chars: number;
	raw: Side;
	/** The raw PNG after the client's own shrink (same as raw when within the limits). */
	rawSeen: Side;
	optimized: Side & { scale: number; kernel: string; lift: boolean; palette: boolean };
}

let fixtureDir: (name: string) => string = () => FIXTURES;

/** Candidate rules for the default image, compared by `--compare` (see README, "Readability"). */
const RULES: Array<{ name: string; options: OptimizeOptions }> = [
	{ name: "lanczos3 ≤2x", options: { kernel: "lanczos3", maxUpscale: 2 } },
	{ name: "nearest ≤2x", options: { kernel: "nearest", maxUpscale: 2 } },
	{ name: "lanczos2 ≤2x", options: { kernel: "lanczos2", maxUpscale: 2 } },
	{ name: "mitchell ≤2x", options: { kernel: "mitchell", maxUpscale: 2 } },
	{ name: "linear ≤2x", options: { kernel: "linear", maxUpscale: 2 } },
	{ name: "no enlargement", options: { maxUpscale: 1 } },
	{ name: "default", options: {} },
];

/** `--compare`: CER of the raw PNG and of each candidate rule, per fixture and overall. */
async function compare(names: string[], worker: Awaited<ReturnType<typeof createWorker>>): Promise<void> {
	const totals = new Map<string, number>();
	let chars = 0;
	console.log(`| fixture | raw | ${RULES.map((r) => r.name).join(" | ")} |`);
	console.log(`|---|---:|${RULES.map(() => "---:").join("|")}|`);
	for (const name of names) {
		const frame = await loadFixture(join(fixtureDir(name), `${name}.png`));
		const truth = normalise(await Bun.file(join(fixtureDir(name), `${name}.txt`)).text());
		const errorsOf = async (png: Buffer) =>
			editDistance(truth, normalise((await worker.recognize(await asOcrInput(png))).data.text));
		chars += truth.length;
		const raw = await errorsOf(await encodePng(frame));
		totals.set("raw", (totals.get("raw") ?? 0) + raw);
		const cells = [pct(raw / truth.length)];
		for (const rule of RULES) {
			const opt = await optimizeFrame(frame, rule.options);
			const errors = await errorsOf(opt.png);
			totals.set(rule.name, (totals.get(rule.name) ?? 0) + errors);
			const mark = errors > raw ? " ✗" : "";
			cells.push(`${pct(errors / truth.length)}${mark} (${opt.width}x${opt.height})`);
		}
		console.log(`| ${name} | ${cells.join(" | ")} |`);
		process.stderr.write(`${name}: ${cells.join(", ")}\n`);
	}
	const overall = ["raw", ...RULES.map((r) => r.name)].map((n) => pct((totals.get(n) ?? 0) / chars));
	console.log(`| **overall** (${chars} characters) | ${overall.join(" | ")} |`);
}

async function main(): Promise<void> {
	const args = process.argv.slice(2);
	const json = args.includes("--json");
	const only = args.filter((a) => !a.startsWith("--"));
	const ruleFilter = args
		.find((a) => a.startsWith("--rules="))
		?.slice("--rules=".length)
		.split(",");
	if (ruleFilter) RULES.splice(0, RULES.length, ...RULES.filter((r) => ruleFilter.some((f) => r.name.startsWith(f))));
	const dirOf = new Map<string, string>();
	for (const dir of [FIXTURES, EXTRA]) {
		for (const f of readdirSync(dir)) if (f.endsWith(".png")) dirOf.set(f.slice(0, -4), dir);
	}
	const names = [...dirOf.keys()].filter((n) => only.length === 0 || only.includes(n)).sort();
	fixtureDir = (name) => dirOf.get(name) ?? FIXTURES;
	const cache = mkdtempSync(join(tmpdir(), "ikvm-eval-"));
	const worker = await createWorker("eng", OEM.LSTM_ONLY, {
		langPath: LANG_PATH,
		cachePath: cache,
		cacheMethod: "none",
		gzip: true,
	});
	// --psm 6 reads the screen as one block of lines: no column detection, which on dense screens
	// (an oops's register dump) splits a 2x picture into columns and reorders the text.
	const psmArg = args.find((a) => a.startsWith("--psm="))?.slice("--psm=".length);
	const psm = psmArg === "6" ? PSM.SINGLE_BLOCK : PSM.AUTO;
	await worker.setParameters({ tessedit_pageseg_mode: psm, preserve_interword_spaces: "1" });
	if (args.includes("--compare")) {
		try {
			await compare(names, worker);
		} finally {
			await worker.terminate();
			rmSync(cache, { recursive: true, force: true });
		}
		return;
	}
	const rows: Row[] = [];
	try {
		for (const name of names) {
			const frame = await loadFixture(join(fixtureDir(name), `${name}.png`));
			const truth = normalise(await Bun.file(join(fixtureDir(name), `${name}.txt`)).text());
			const ocr = async (png: Buffer) => {
				const t0 = performance.now();
				const { data } = await worker.recognize(await asOcrInput(png));
				const errors = editDistance(truth, normalise(data.text));
				return { errors, cer: errors / truth.length, ms: performance.now() - t0 };
			};
			const rawPng = await encodePng(frame);
			const seen = await asClientSees(rawPng, frame.width, frame.height);
			const opt = await optimizeFrame(frame);
			const row: Row = {
				name,
				frame: `${frame.width}x${frame.height}`,
				chars: truth.length,
				raw: { ...(await ocr(rawPng)), bytes: rawPng.length, width: frame.width, height: frame.height },
				rawSeen:
					seen.png === rawPng
						? { ...(await ocr(rawPng)), bytes: rawPng.length, width: frame.width, height: frame.height }
						: { ...(await ocr(seen.png)), bytes: seen.png.length, width: seen.width, height: seen.height },
				optimized: {
					...(await ocr(opt.png)),
					bytes: opt.png.length,
					width: opt.width,
					height: opt.height,
					scale: opt.scale,
					kernel: opt.kernel,
					lift: opt.lift !== undefined,
					palette: opt.palette,
				},
			};
			rows.push(row);
			if (!json) {
				process.stderr.write(
					`${name}: raw ${pct(row.raw.cer)} (as a client sees it ${pct(row.rawSeen.cer)}) → optimised ${pct(row.optimized.cer)}\n`,
				);
			}
		}
	} finally {
		await worker.terminate();
		rmSync(cache, { recursive: true, force: true });
	}
	if (json) {
		console.log(JSON.stringify(rows, null, 2));
		return;
	}
	console.log(
		"| fixture | framebuffer | chars | CER raw | CER raw as a client sees it | CER optimised | bytes raw | bytes optimised | pixels raw | pixels optimised | scale |",
	);
	console.log("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
	for (const r of rows) {
		const o = r.optimized;
		const how = `${o.scale.toFixed(2)} ${o.kernel}${o.lift ? " +lift" : ""}${o.palette ? " palette" : ""}`;
		console.log(
			`| ${r.name} | ${r.frame} | ${r.chars} | ${pct(r.raw.cer)} | ${pct(r.rawSeen.cer)}${r.rawSeen.width === r.raw.width ? "" : ` (${mp(r.rawSeen)})`} | ${pct(o.cer)} | ${kb(r.raw.bytes)} | ${kb(o.bytes)} | ${mp(r.raw)} | ${o.width}x${o.height} | ${how} |`,
		);
	}
	const chars = rows.reduce((s, r) => s + r.chars, 0);
	const rawErr = rows.reduce((s, r) => s + r.raw.errors, 0);
	const seenErr = rows.reduce((s, r) => s + r.rawSeen.errors, 0);
	const optErr = rows.reduce((s, r) => s + r.optimized.errors, 0);
	console.log(
		`| **overall** | | ${chars} | ${pct(rawErr / chars)} | ${pct(seenErr / chars)} | ${pct(optErr / chars)} | | | | | |`,
	);
	const worse = rows.filter((r) => r.optimized.errors > r.raw.errors);
	if (worse.length) {
		console.log(`\nWORSE than raw: ${worse.map((r) => r.name).join(", ")}`);
		process.exitCode = 1;
	}
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
const mp = (s: { width: number; height: number }) => `${s.width}x${s.height}`;

if (import.meta.main) await main();
