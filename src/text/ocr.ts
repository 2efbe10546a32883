/**
 * Method 2: OCR for screens no console font draws (graphical BIOS setup, installers), with
 * tesseract.js and the English model from @tesseract.js-data/eng — both installed packages, so
 * nothing is downloaded at run time. One worker is kept for the process, used by one call at a
 * time, and stopped after a minute idle (or when a call is cancelled mid-recognition).
 */
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import sharp from "sharp";
import { createWorker, OEM, PSM, type Worker } from "tesseract.js";
import { abortReasonToError, IkvmError, throwIfAborted } from "../errors.ts";
import type { Frame } from "../frame.ts";
import { log } from "../log.ts";

export interface OcrLine {
	/** Mean confidence of the line's words, 0–1 (by characters). */
	confidence: number;
	/** The line's box, in the pixels of the image OCR was given. */
	box: { x0: number; y0: number; x1: number; y1: number };
}

export interface OcrText {
	lines: string[];
	/** Mean word confidence, 0–1. */
	confidence: number;
	/** One entry per line of `lines`. */
	lineInfo?: OcrLine[];
	/** OCR pixels per frame pixel (the frame is enlarged before recognition). */
	scale?: number;
}

const IDLE_MS = 60_000;

const require = createRequire(import.meta.url);
/** The LSTM-only "best (integer)" English model: smaller and more accurate on screen text than the default. */
const LANG_PATH = join(dirname(require.resolve("@tesseract.js-data/eng/package.json")), "4.0.0_best_int");

let worker: Promise<Worker> | undefined;
let idleTimer: ReturnType<typeof setTimeout> | undefined;
/** Calls run one after another on the single worker. */
let queue: Promise<unknown> = Promise.resolve();

function getWorker(): Promise<Worker> {
	if (!worker) {
		worker = createWorker("eng", OEM.LSTM_ONLY, {
			langPath: LANG_PATH,
			gzip: true,
			cachePath: join(tmpdir(), "ikvm-mcp-tesseract"),
			cacheMethod: "none",
			logger: () => {},
			errorHandler: (error: unknown) => log.warn("OCR worker error", { error: String(error) }),
		}).then(async (w) => {
			await w.setParameters({
				tessedit_pageseg_mode: PSM.SPARSE_TEXT,
				preserve_interword_spaces: "1",
				user_defined_dpi: "150",
			});
			return w;
		});
		worker.catch(() => {
			worker = undefined;
		});
	}
	return worker;
}

/** Stops the OCR worker (it starts again on the next use). */
export async function closeOcr(): Promise<void> {
	if (idleTimer) clearTimeout(idleTimer);
	idleTimer = undefined;
	const current = worker;
	worker = undefined;
	if (current) await current.then((w) => w.terminate()).catch(() => {});
}

function scheduleIdleStop(): void {
	if (idleTimer) clearTimeout(idleTimer);
	idleTimer = setTimeout(() => void closeOcr(), IDLE_MS);
	idleTimer.unref?.();
}

/**
 * Black text on white for tesseract. Screens mix backgrounds (title bars, highlighted items, light
 * and dark panels), which defeats one global threshold: a pixel is ink when it stands out from its
 * neighbourhood's mean, in either direction. Small screens are enlarged first.
 */
/** How much prepareForOcr enlarges a frame. */
export function ocrScale(frame: Frame): number {
	return frame.width * frame.height <= 1280 * 1024 ? 2 : 1;
}

export async function prepareForOcr(frame: Frame): Promise<Buffer> {
	const scale = ocrScale(frame);
	const width = frame.width * scale;
	const height = frame.height * scale;
	let image = sharp(frame.rgba, { raw: { width: frame.width, height: frame.height, channels: 4 } })
		.removeAlpha()
		.greyscale();
	if (scale > 1) image = image.resize(width, height, { kernel: "cubic" });
	const gray = await image.raw().toBuffer();
	const ink = localContrastInk(gray, width, height, 8 * scale);
	return sharp(ink, { raw: { width, height, channels: 1 } })
		.png({ compressionLevel: 1 })
		.toBuffer();
}

/**
 * Binarises with local polarity: the screen is cut into blocks; each pixel is judged against the
 * min/max/mean of the blocks around it. Where most pixels are dark (the mean is below the midpoint),
 * ink is what is brighter than the midpoint, elsewhere what is darker; flat areas are background.
 * Returns 0 for ink and 255 for background.
 */
export function localContrastInk(gray: Uint8Array, width: number, height: number, block: number): Uint8Array {
	const bw = Math.ceil(width / block);
	const bh = Math.ceil(height / block);
	const bMin = new Uint8Array(bw * bh).fill(255);
	const bMax = new Uint8Array(bw * bh);
	const bSum = new Float64Array(bw * bh);
	const bCount = new Uint32Array(bw * bh);
	for (let y = 0; y < height; y++) {
		const by = Math.floor(y / block);
		for (let x = 0; x < width; x++) {
			const b = by * bw + Math.floor(x / block);
			const v = gray[y * width + x] as number;
			if (v < (bMin[b] as number)) bMin[b] = v;
			if (v > (bMax[b] as number)) bMax[b] = v;
			bSum[b] = (bSum[b] as number) + v;
			bCount[b] = (bCount[b] as number) + 1;
		}
	}
	// Per block: the neighbourhood's threshold and polarity (+1: ink is bright, -1: ink is dark, 0: flat).
	const threshold = new Float64Array(bw * bh);
	const polarity = new Int8Array(bw * bh);
	const reach = 1;
	for (let by = 0; by < bh; by++) {
		for (let bx = 0; bx < bw; bx++) {
			let lo = 255;
			let hi = 0;
			let sum = 0;
			let count = 0;
			for (let y = Math.max(0, by - reach); y <= Math.min(bh - 1, by + reach); y++) {
				for (let x = Math.max(0, bx - reach); x <= Math.min(bw - 1, bx + reach); x++) {
					const b = y * bw + x;
					lo = Math.min(lo, bMin[b] as number);
					hi = Math.max(hi, bMax[b] as number);
					sum += bSum[b] as number;
					count += bCount[b] as number;
				}
			}
			const b = by * bw + bx;
			const mid = (lo + hi) / 2;
			threshold[b] = mid;
			polarity[b] = hi - lo < 40 ? 0 : sum / count < mid ? 1 : -1;
		}
	}
	const out = new Uint8Array(width * height).fill(255);
	for (let y = 0; y < height; y++) {
		const by = Math.floor(y / block);
		for (let x = 0; x < width; x++) {
			const b = by * bw + Math.floor(x / block);
			const p = polarity[b] as number;
			if (p === 0) continue;
			const d = (gray[y * width + x] as number) - (threshold[b] as number);
			if (p * d > 0) out[y * width + x] = 0;
		}
	}
	return out;
}

interface Word {
	text: string;
	confidence: number;
	x0: number;
	y0: number;
	x1: number;
	y1: number;
}

/** Recognises the frame's text. Honours `signal` (the worker is stopped if a call is cancelled mid-way). */
export function ocrFrame(frame: Frame, signal?: AbortSignal): Promise<OcrText> {
	const run = queue.then(() => recognise(frame, signal));
	queue = run.catch(() => {});
	return run;
}

async function recognise(frame: Frame, signal?: AbortSignal): Promise<OcrText> {
	throwIfAborted(signal, "ocr");
	if (idleTimer) clearTimeout(idleTimer);
	const image = await prepareForOcr(frame);
	const w = await getWorker();
	throwIfAborted(signal, "ocr");
	const work = w.recognize(image, {}, { blocks: true, text: false });
	let onAbort: (() => void) | undefined;
	const cancelled = new Promise<never>((_, reject) => {
		onAbort = () => {
			// A recognition cannot be interrupted: stop the worker so it does not keep a core busy.
			void closeOcr();
			reject(abortReasonToError(signal?.reason, "ocr"));
		};
		signal?.addEventListener("abort", onAbort, { once: true });
	});
	try {
		const result = await Promise.race([work, cancelled]);
		const words: Word[] = [];
		for (const block of result.data.blocks ?? []) {
			for (const paragraph of block.paragraphs) {
				for (const line of paragraph.lines) {
					for (const word of line.words) {
						const text = word.text.trim();
						if (text) words.push({ text, confidence: word.confidence, ...word.bbox });
					}
				}
			}
		}
		return { ...layoutWords(words), scale: ocrScale(frame) };
	} catch (error) {
		if (error instanceof IkvmError) throw error;
		throw new IkvmError("INTERNAL", `OCR failed: ${error instanceof Error ? error.message : String(error)}`, {
			stage: "ocr",
			cause: error,
		});
	} finally {
		if (onAbort) signal?.removeEventListener("abort", onAbort);
		scheduleIdleStop();
	}
}

/**
 * Words → text lines that keep the screen's layout: words whose boxes overlap vertically form a
 * line, and each word starts at the column its left edge falls in (columns as wide as the median
 * character), so menus and two-column setup screens stay aligned.
 */
export function layoutWords(words: Word[]): OcrText {
	if (words.length === 0) return { lines: [], confidence: 0 };
	const widths = words.map((w) => (w.x1 - w.x0) / Math.max(1, [...w.text].length)).sort((a, b) => a - b);
	const charWidth = Math.max(1, widths[widths.length >> 1] as number);
	const heights = words.map((w) => w.y1 - w.y0).sort((a, b) => a - b);
	const lineHeight = Math.max(1, heights[heights.length >> 1] as number);
	const mid = (w: Word) => (w.y0 + w.y1) / 2;
	const sorted = [...words].sort((a, b) => mid(a) - mid(b));
	const rows: Array<{ mid: number; words: Word[] }> = [];
	for (const word of sorted) {
		const row = rows.find((r) => Math.abs(r.mid - mid(word)) < lineHeight / 2);
		if (row) row.words.push(word);
		else rows.push({ mid: mid(word), words: [word] });
	}
	rows.sort((a, b) => a.mid - b.mid);
	const left = Math.min(...words.map((w) => w.x0));
	const lineInfo: OcrLine[] = rows.map(({ words: row }) => {
		let weighted = 0;
		let chars = 0;
		for (const w of row) {
			weighted += w.confidence * w.text.length;
			chars += w.text.length;
		}
		return {
			confidence: chars > 0 ? weighted / chars / 100 : 0,
			box: {
				x0: Math.min(...row.map((w) => w.x0)),
				y0: Math.min(...row.map((w) => w.y0)),
				x1: Math.max(...row.map((w) => w.x1)),
				y1: Math.max(...row.map((w) => w.y1)),
			},
		};
	});
	const lines = rows.map(({ words: row }) => {
		row.sort((a, b) => a.x0 - b.x0);
		let line = "";
		for (const word of row) {
			const col = Math.round((word.x0 - left) / charWidth);
			line += line.length === 0 ? " ".repeat(col) : " ".repeat(Math.max(1, col - line.length));
			line += word.text;
		}
		return line.trimEnd();
	});
	let weighted = 0;
	let chars = 0;
	for (const w of words) {
		weighted += w.confidence * w.text.length;
		chars += w.text.length;
	}
	return { lines, confidence: chars > 0 ? weighted / chars / 100 : 0, lineInfo };
}
