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
import type { Frame } from "../image/frame.ts";
import { log } from "../log.ts";

export interface OcrText {
	lines: string[];
	/** Mean word confidence, 0–1. */
	confidence: number;
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

/** Dark-background screens are inverted and small text enlarged: tesseract reads dark text on white best. */
export async function prepareForOcr(frame: Frame): Promise<Buffer> {
	const gray = await sharp(frame.rgba, { raw: { width: frame.width, height: frame.height, channels: 4 } })
		.removeAlpha()
		.greyscale()
		.raw()
		.toBuffer();
	let sum = 0;
	for (let i = 0; i < gray.length; i += 7) sum += gray[i] as number;
	const dark = sum / Math.ceil(gray.length / 7) < 128;
	const scale = frame.width * frame.height <= 1280 * 1024 ? 2 : 1;
	let image = sharp(gray, { raw: { width: frame.width, height: frame.height, channels: 1 } });
	if (dark) image = image.negate();
	if (scale > 1) image = image.resize(frame.width * scale, frame.height * scale, { kernel: "cubic" });
	return image.png({ compressionLevel: 1 }).toBuffer();
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
		return layoutWords(words);
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
	const sorted = [...words].sort((a, b) => (a.y0 + a.y1) / 2 - (b.y0 + b.y1) / 2);
	const rows: Word[][] = [];
	for (const word of sorted) {
		const mid = (word.y0 + word.y1) / 2;
		const row = rows.find((r) => {
			const top = Math.min(...r.map((w) => w.y0));
			const bottom = Math.max(...r.map((w) => w.y1));
			return mid >= top && mid <= bottom;
		});
		if (row) row.push(word);
		else rows.push([word]);
	}
	rows.sort((a, b) => Math.min(...a.map((w) => w.y0)) - Math.min(...b.map((w) => w.y0)));
	const left = Math.min(...words.map((w) => w.x0));
	const lines = rows.map((row) => {
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
	return { lines, confidence: chars > 0 ? weighted / chars / 100 : 0 };
}
