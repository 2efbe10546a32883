/**
 * The text stage: a frame → the text on it. Method 1 (bitmap-font) reads text-mode and framebuffer
 * consoles exactly; method 2 (OCR) reads anything else. Method 1 is used when it is confident.
 */
import { createFrame, type Frame, type Region } from "../frame.ts";
import { cropRgba } from "../image/optimize.ts";
import { type BitmapText, type Grid, recognizeBitmap } from "./bitmap.ts";
import { type OcrText, ocrFrame } from "./ocr.ts";

export type { Grid } from "./bitmap.ts";
export { closeOcr } from "./ocr.ts";

export type TextMethod = "bitmap-font" | "ocr";

export interface ScreenText {
	/** Screen rows, top to bottom; trailing blanks trimmed, trailing empty rows dropped. */
	lines: string[];
	method: TextMethod;
	/** 0–1. */
	confidence: number;
	/** The console font that draws the screen (bitmap-font only). */
	font?: string;
	/** The character cell grid (bitmap-font only). */
	grid?: Grid;
	/**
	 * OCR lines read with confidence under LOW_LINE_CONFIDENCE, with the framebuffer area to zoom
	 * into (`region`) to read them again: OCR misreads digits there (1996 as 1936 at 0.83).
	 */
	uncertain?: UncertainLine[];
	/** Set when the text was cut to the output limits (TEXT_LIMITS); says what was dropped. */
	truncated?: string;
}

/**
 * The most text one read returns: a hostile or huge framebuffer must not turn into a
 * few hundred thousand tokens. Real consoles are at most 240x67 (1920x1080, 8x16 cells).
 */
export const TEXT_LIMITS = { rows: 200, cols: 320, chars: 32_000 } as const;

/** Cuts rows, columns and characters to TEXT_LIMITS, saying so. */
export function limitText(text: ScreenText): ScreenText {
	const { rows, cols, chars } = TEXT_LIMITS;
	let cut = false;
	let lines = text.lines;
	if (lines.length > rows) {
		lines = lines.slice(0, rows);
		cut = true;
	}
	if (lines.some((l) => l.length > cols)) {
		lines = lines.map((l) => (l.length > cols ? l.slice(0, cols) : l));
		cut = true;
	}
	let total = 0;
	const kept: string[] = [];
	for (const line of lines) {
		if (total + line.length + 1 > chars) {
			kept.push(line.slice(0, Math.max(0, chars - total)));
			cut = true;
			break;
		}
		kept.push(line);
		total += line.length + 1;
	}
	if (!cut) return text;
	const was = text.lines.length;
	const widest = text.lines.reduce((m, l) => Math.max(m, l.length), 0);
	const uncertain = text.uncertain?.filter((u) => u.line < kept.length);
	return {
		...text,
		lines: kept,
		...(text.uncertain ? { uncertain: uncertain?.length ? uncertain : undefined } : {}),
		truncated: `the screen has ${was} rows up to ${widest} characters wide; at most ${rows} rows of ${cols} characters (${chars} in all) are returned — read a region to see the rest`,
	};
}

export interface UncertainLine {
	/** Index into `lines`. */
	line: number;
	confidence: number;
	/** Framebuffer pixels around the line, for a zoomed get_screen_text or get_screenshot. */
	region: Region;
}

/** OCR lines below this are flagged; measured: misread digits came at 0.83, clean lines at 0.93+. */
export const LOW_LINE_CONFIDENCE = 0.9;

export interface ReadTextOptions {
	/** Framebuffer pixels to read; the whole screen when absent. */
	region?: Region;
	signal?: AbortSignal;
	/** Allow the OCR fallback (default true). */
	ocr?: boolean;
}

/** Method 1 at or above this confidence is taken without running OCR. */
export const BITMAP_CONFIDENT = 0.8;

export async function readScreenText(frame: Frame, options: ReadTextOptions = {}): Promise<ScreenText> {
	return limitText(await readAll(frame, options));
}

async function readAll(frame: Frame, options: ReadTextOptions): Promise<ScreenText> {
	const { region } = options;
	// Validates the region against the frame (a clear BAD_INPUT error) before any work.
	const cropped = region ? createFrame(region.width, region.height, cropRgba(frame, region), frame.capturedAt) : frame;
	const bitmap = recognizeBitmap(frame, { region, giveUpBelow: options.ocr === false ? undefined : 0.5 });
	if (bitmap.inkedCells === 0 || bitmap.confidence >= BITMAP_CONFIDENT || options.ocr === false) {
		return fromBitmap(bitmap);
	}
	const ocr = await ocrFrame(cropped, options.signal);
	// A console read with middling confidence (faint text through heavy compression) is still a
	// console: keep it unless OCR is surer.
	if (bitmap.lines.length > 0 && bitmap.confidence >= 0.5 && bitmap.confidence >= ocr.confidence) {
		return fromBitmap(bitmap);
	}
	if (ocr.lines.length === 0 && bitmap.confidence >= 0.5) return fromBitmap(bitmap);
	const uncertain = uncertainLines(ocr, region ?? { x: 0, y: 0, width: frame.width, height: frame.height });
	return {
		lines: ocr.lines,
		method: "ocr",
		confidence: round(ocr.confidence),
		...(uncertain.length > 0 ? { uncertain } : {}),
	};
}

/** The OCR lines under LOW_LINE_CONFIDENCE, each with a framebuffer region around it (a margin included). */
function uncertainLines(ocr: OcrText, area: Region): UncertainLine[] {
	const scale = ocr.scale ?? 1;
	const out: UncertainLine[] = [];
	(ocr.lineInfo ?? []).forEach((info, line) => {
		if (info.confidence >= LOW_LINE_CONFIDENCE) return;
		// A small margin: enough for glyph edges, not so much that the neighbouring rows come along.
		const height = (info.box.y1 - info.box.y0) / scale;
		const my = Math.max(2, Math.round(height / 4));
		const mx = 8;
		const x = Math.max(0, Math.floor(info.box.x0 / scale) - mx);
		const y = Math.max(0, Math.floor(info.box.y0 / scale) - my);
		const x1 = Math.min(area.width, Math.ceil(info.box.x1 / scale) + mx);
		const y1 = Math.min(area.height, Math.ceil(info.box.y1 / scale) + my);
		if (x1 <= x || y1 <= y) return;
		out.push({
			line,
			confidence: round(info.confidence),
			region: { x: area.x + x, y: area.y + y, width: x1 - x, height: y1 - y },
		});
	});
	return out;
}

function fromBitmap(bitmap: BitmapText): ScreenText {
	return {
		lines: bitmap.lines,
		method: "bitmap-font",
		confidence: round(bitmap.confidence),
		font: bitmap.font,
		grid: bitmap.grid,
	};
}

function round(x: number): number {
	return Math.round(x * 1000) / 1000;
}
