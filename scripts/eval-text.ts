/**
 * `bun run eval:text`: character error rate of the text stage on the fixture screens, for method 1
 * (bitmap-font) and method 2 (OCR), and for console screens also after the BMC video path: AST2500
 * 4:2:0 encoding at the JPEG table selectors BMCs use (4–7), decoded by our own decoder.
 *
 * Fixtures: test/fixtures/screens/ (real consoles with ground truth, see its README) and
 * test/fixtures/text/ (QEMU screendumps and rendered graphical screens). A fixture is "graphical"
 * when its name says so (graphical-*, uefi-*, *setup-gui*) — drawn with a font no console uses.
 *
 * CER = Levenshtein distance / length of the truth. Method 1 is scored on the exact layout (every
 * row, every column); OCR cannot know column positions, so method 2 is scored on the text with runs
 * of blanks collapsed and empty rows dropped. Targets: 0 errors for method 1 on console screens
 * (also through AST2500 4:2:0), under 2% for the method get_screen_text picks on graphical ones.
 * Exit code 1 when a target is missed.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import { createFrame, type Frame } from "../src/frame.ts";
import { optimizeFrame } from "../src/image/optimize.ts";
import { describeText } from "../src/mcp/screen-text.ts";
import { recognizeBitmap } from "../src/text/bitmap.ts";
import { BITMAP_CONFIDENT, closeOcr, readScreenText } from "../src/text/index.ts";
import { ocrFrame } from "../src/text/ocr.ts";

const ROOT = join(import.meta.dir, "..");
const DIRS = ["test/fixtures/screens", "test/fixtures/text"].map((d) => join(ROOT, d));
const GRAPHICAL = /graphical|uefi|setup-gui/;

export function levenshtein(a: string, b: string): number {
	const x = [...a];
	const y = [...b];
	let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
	for (let i = 1; i <= x.length; i++) {
		const cur = [i];
		for (let j = 1; j <= y.length; j++) {
			const cost = x[i - 1] === y[j - 1] ? 0 : 1;
			cur[j] = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
		}
		prev = cur;
	}
	return prev[y.length] as number;
}

const layout = (lines: string[]) => {
	const trimmed = lines.map((l) => l.trimEnd());
	while (trimmed.length > 0 && trimmed[trimmed.length - 1] === "") trimmed.pop();
	return trimmed.join("\n");
};
const words = (lines: string[]) =>
	lines
		.map((l) => l.trim().replace(/\s+/g, " "))
		.filter(Boolean)
		.join("\n");

function cer(predicted: string, truth: string): { errors: number; rate: number } {
	const errors = levenshtein(predicted, truth);
	return { errors, rate: truth.length === 0 ? (predicted.length === 0 ? 0 : 1) : errors / truth.length };
}

async function loadFrame(path: string): Promise<Frame> {
	const { data, info } = await sharp(path).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
	return createFrame(info.width, info.height, new Uint8Array(data));
}

type RoundTrip = (frame: Frame, selector: number) => Frame;

/**
 * AST2500 round trip: our test encoder (4:2:0, the given JPEG table selector) then our decoder —
 * when this build has both (src/demo/ast2500-encoder.ts, src/aspeed/).
 */
export async function ast2500RoundTrip(): Promise<RoundTrip | undefined> {
	const encoderPath = join(ROOT, "src/demo/ast2500-encoder.ts");
	const decoderPath = join(ROOT, "src/aspeed/index.ts");
	if (!existsSync(encoderPath) || !existsSync(decoderPath)) return undefined;
	const { encodeAst2500Frame } = await import(encoderPath);
	const { Ast2500Decoder } = await import(decoderPath);
	return (frame, selector) => {
		const bytes = encodeAst2500Frame(
			{ width: frame.width, height: frame.height, rgba: frame.rgba },
			{ mode: "420", jpegTableSelector: selector, advanceTableSelector: selector },
		);
		const picture = new Ast2500Decoder({ maxWidth: 8192, maxHeight: 8192 }).decode(bytes);
		return createFrame(picture.width, picture.height, picture.rgba);
	};
}

/**
 * Token cost of a screen for a Claude-style vision model: pictures over 1568 px on the long edge or
 * ~1.15 megapixels are scaled down first, then cost about width·height/750 tokens. Text costs about
 * one token per 4 characters.
 */
export function imageTokens(width: number, height: number): number {
	let scale = Math.min(1, 1568 / Math.max(width, height));
	scale = Math.min(scale, Math.sqrt(1_150_000 / (width * height)));
	return Math.round((width * scale * (height * scale)) / 750);
}

interface Cost {
	fixture: string;
	size: string;
	imageTokens: number;
	textChars: number;
	textTokens: number;
}

interface Row {
	fixture: string;
	kind: "console" | "graphical";
	variant: string;
	method1: string;
	method2: string;
	chosen: string;
	ms1: number;
	ms2?: number;
	pass: boolean;
}

const pct = (r: { errors: number; rate: number }) => `${(r.rate * 100).toFixed(2)}% (${r.errors})`;

async function main() {
	const fixtures = DIRS.filter(existsSync).flatMap((dir) =>
		readdirSync(dir)
			.filter((f) => f.endsWith(".png") && existsSync(join(dir, f.replace(/\.png$/, ".txt"))))
			.map((f) => join(dir, f)),
	);
	const ast = await ast2500RoundTrip();
	const withOcr = !process.argv.includes("--no-ocr");
	const rows: Row[] = [];
	const costs: Cost[] = [];
	for (const path of fixtures) {
		const name =
			path
				.split("/")
				.pop()
				?.replace(/\.png$/, "") ?? path;
		const truthLines = readFileSync(path.replace(/\.png$/, ".txt"), "utf8")
			.replace(/\r/g, "")
			.split("\n");
		const kind = GRAPHICAL.test(name) ? "graphical" : "console";
		const clean = await loadFrame(path);
		const variants: Array<[string, Frame]> = [["clean", clean]];
		if (kind === "console" && ast) {
			for (const selector of [4, 5, 6, 7]) variants.push([`AST2500 4:2:0 sel ${selector}`, ast(clean, selector)]);
		}
		{
			const text = describeText(await readScreenText(clean, { ocr: withOcr }));
			// What get_screenshot sends by default: the optimised picture, not the raw framebuffer.
			const sent = await optimizeFrame(clean);
			costs.push({
				fixture: name,
				size: `${clean.width}x${clean.height} → ${sent.width}x${sent.height}`,
				imageTokens: imageTokens(sent.width, sent.height),
				textChars: text.length,
				textTokens: Math.ceil(text.length / 4),
			});
		}
		for (const [variant, frame] of variants) {
			let t0 = performance.now();
			const bitmap = recognizeBitmap(frame);
			const ms1 = performance.now() - t0;
			const m1 = cer(layout(bitmap.lines), layout(truthLines));
			let m2: { errors: number; rate: number } | undefined;
			let ms2: number | undefined;
			if (withOcr && (variant === "clean" || kind === "graphical")) {
				t0 = performance.now();
				const ocr = await ocrFrame(frame);
				ms2 = performance.now() - t0;
				m2 = cer(words(ocr.lines), words(truthLines));
			}
			const chosen = await readScreenText(frame, { ocr: withOcr });
			const chosenCer =
				chosen.method === "bitmap-font"
					? cer(layout(chosen.lines), layout(truthLines))
					: cer(words(chosen.lines), words(truthLines));
			const pass = kind === "console" ? m1.errors === 0 : chosenCer.rate < 0.02;
			rows.push({
				fixture: name,
				kind,
				variant,
				method1: `${pct(m1)} conf ${bitmap.confidence.toFixed(2)}`,
				method2: m2 ? pct(m2) : "—",
				chosen: `${chosen.method} ${pct(chosenCer)}`,
				ms1,
				ms2,
				pass,
			});
			console.error(`${name} [${variant}] m1 ${pct(m1)} ${m2 ? `m2 ${pct(m2)}` : ""} → ${chosen.method}`);
		}
	}
	await closeOcr();

	console.log(
		`\nText recognition (method 1 = bitmap-font, exact layout; method 2 = OCR, blanks collapsed; ` +
			`get_screen_text picks method 1 at confidence ≥ ${BITMAP_CONFIDENT}).`,
	);
	if (!ast) console.log("AST2500 4:2:0 rows: skipped, this build has no src/demo/ast2500-encoder.ts round trip.");
	console.log("\n| fixture | kind | input | method 1 CER | method 2 CER | get_screen_text | m1 ms | m2 ms | target |");
	console.log("|---|---|---|---:|---:|---|---:|---:|---|");
	for (const r of rows) {
		console.log(
			`| ${r.fixture} | ${r.kind} | ${r.variant} | ${r.method1} | ${r.method2} | ${r.chosen} | ${r.ms1.toFixed(1)} | ${r.ms2 === undefined ? "—" : r.ms2.toFixed(0)} | ${r.pass ? "ok" : "MISSED"} |`,
		);
	}
	console.log(
		"\nToken cost of one screen: image ≈ w·h/750 of the picture get_screenshot sends by default (after the client's own scaling to ≤1568 px / ≤1.15 MP); text ≈ characters/4 of get_screen_text's answer.",
	);
	console.log("\n| fixture | framebuffer → image sent | image tokens | text chars | text tokens | image / text |");
	console.log("|---|---|---:|---:|---:|---:|");
	for (const c of costs) {
		console.log(
			`| ${c.fixture} | ${c.size} | ${c.imageTokens} | ${c.textChars} | ${c.textTokens} | ${(c.imageTokens / c.textTokens).toFixed(1)}x |`,
		);
	}
	const missed = rows.filter((r) => !r.pass);
	console.log(`\n${rows.length - missed.length}/${rows.length} rows meet their target.`);
	process.exit(missed.length > 0 ? 1 : 0);
}

if (import.meta.main) await main();
