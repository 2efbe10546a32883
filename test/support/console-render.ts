/**
 * Draws text screens the way a VGA text mode or a Linux framebuffer console does, from the shipped
 * glyph tables: per-cell foreground/background colours, 9-dot cells with the line-graphics rule,
 * an underline cursor, and a margin around the grid.
 */
import sharp from "sharp";
import { createFrame, type Frame } from "../../src/frame.ts";
import { LINE_GRAPHICS } from "../../src/text/cp437.ts";
import type { FontTable } from "../../src/text/fonts/types.ts";

export type Rgb = readonly [number, number, number];

/** The 16 CGA/VGA text colours. */
export const VGA = {
	black: [0, 0, 0],
	blue: [0, 0, 170],
	green: [0, 170, 0],
	cyan: [0, 170, 170],
	red: [170, 0, 0],
	magenta: [170, 0, 170],
	brown: [170, 85, 0],
	grey: [170, 170, 170],
	darkGrey: [85, 85, 85],
	brightBlue: [85, 85, 255],
	brightGreen: [85, 255, 85],
	brightCyan: [85, 255, 255],
	brightRed: [255, 85, 85],
	brightMagenta: [255, 85, 255],
	yellow: [255, 255, 85],
	white: [255, 255, 255],
} as const satisfies Record<string, Rgb>;

export interface RenderOptions {
	font: FontTable;
	cols: number;
	rows: number;
	/** 9 for VGA text mode with an 8-wide font. */
	cellWidth?: number;
	offsetX?: number;
	offsetY?: number;
	/** Frame size; the grid plus offsets when absent. */
	width?: number;
	height?: number;
	/** Colours of the cell at (col, row). */
	colours?: (col: number, row: number) => { fg: Rgb; bg: Rgb };
	/** Background outside the grid. */
	margin?: Rgb;
	cursor?: { col: number; row: number; from: number; to: number };
}

export function renderConsole(lines: string[], options: RenderOptions): Frame {
	const { font, cols, rows } = options;
	const cw = options.cellWidth ?? font.width;
	const ch = font.height;
	const ox = options.offsetX ?? 0;
	const oy = options.offsetY ?? 0;
	const width = options.width ?? ox + cols * cw;
	const height = options.height ?? oy + rows * ch;
	const rgba = new Uint8Array(width * height * 4);
	const margin: Rgb = options.margin ?? VGA.black;
	for (let i = 0; i < width * height; i++) rgba.set([...margin, 255], i * 4);
	const chars = [...font.chars];
	const raw = Buffer.from(font.glyphs, "base64");
	const bytesPerRow = Math.ceil(font.width / 8);
	const pixel = (g: number, x: number, y: number) =>
		x < font.width && (((raw[(g * ch + y) * bytesPerRow + (x >> 3)] as number) >> (7 - (x & 7))) & 1) === 1;
	for (let row = 0; row < rows; row++) {
		const text = [...(lines[row] ?? "")];
		for (let col = 0; col < cols; col++) {
			const c = text[col] ?? " ";
			const g = chars.indexOf(c);
			const cp = c.codePointAt(0) ?? 32;
			const { fg, bg } = options.colours?.(col, row) ?? { fg: VGA.grey, bg: VGA.black };
			for (let y = 0; y < ch; y++) {
				for (let x = 0; x < cw; x++) {
					let on = g >= 0 && pixel(g, x, y);
					// VGA 9-dot cells: the 9th column repeats the 8th for line graphics only.
					if (x === 8 && cw === 9 && g >= 0 && LINE_GRAPHICS.has(cp)) on = pixel(g, 7, y);
					const cur = options.cursor;
					if (cur && cur.col === col && cur.row === row && y >= cur.from && y <= cur.to) on = true;
					const px = ox + col * cw + x;
					const py = oy + row * ch + y;
					if (px >= width || py >= height) continue;
					rgba.set([...(on ? fg : bg), 255], (py * width + px) * 4);
				}
			}
		}
	}
	return createFrame(width, height, rgba, new Date("2026-01-02T03:04:05Z"));
}

/** A JPEG round trip (chroma 4:2:0), as a BMC's video compression does to a screen. */
export async function jpegRoundTrip(frame: Frame, quality: number): Promise<Frame> {
	const jpeg = await sharp(frame.rgba, { raw: { width: frame.width, height: frame.height, channels: 4 } })
		.removeAlpha()
		.jpeg({ quality, chromaSubsampling: "4:2:0" })
		.toBuffer();
	return loadFrame(jpeg);
}

export async function loadFrame(input: string | Buffer): Promise<Frame> {
	const { data, info } = await sharp(input).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
	return createFrame(info.width, info.height, new Uint8Array(data), new Date("2026-01-02T03:04:05Z"));
}
