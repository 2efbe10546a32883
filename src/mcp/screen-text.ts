/**
 * How screen text appears in tool results (get_screen_text, wait_for_screen,
 * includeText): the output schema shape, the text block, the structured fields.
 */
import { z } from "zod";
import type { ScreenText } from "../text/index.ts";
import { lowConfidenceNote } from "./results.ts";

export const screenTextShape = {
	lines: z.array(z.string()),
	method: z.enum(["bitmap-font", "ocr"]),
	confidence: z.number(),
	font: z.string().optional(),
	grid: z
		.object({
			cols: z.number(),
			rows: z.number(),
			cellWidth: z.number(),
			cellHeight: z.number(),
			offsetX: z.number(),
			offsetY: z.number(),
		})
		.optional(),
	truncated: z.string().optional(),
	uncertain: z
		.array(
			z.object({
				line: z.number(),
				confidence: z.number(),
				region: z.object({ x: z.number(), y: z.number(), width: z.number(), height: z.number() }),
			}),
		)
		.optional(),
};

/** The lines in a fenced block (layout kept), under one line saying how they were read. */
export function describeText(text: ScreenText): string {
	const how =
		text.method === "bitmap-font" && text.grid
			? `bitmap-font ${text.font ?? "(blank screen)"}, ${text.grid.cols}x${text.grid.rows} cells of ${text.grid.cellWidth}x${text.grid.cellHeight}`
			: text.method;
	const body = text.lines.length > 0 ? text.lines.join("\n") : "(no text on screen)";
	const cut = text.truncated ? `\nTruncated: ${text.truncated}.` : "";
	const note = lowConfidenceNote(text);
	return `Read by ${how}, confidence ${text.confidence.toFixed(2)}:\n\`\`\`\n${body}\n\`\`\`${cut}${note ? `\n${note}` : ""}`;
}

export function structuredText(text: ScreenText) {
	return {
		lines: text.lines,
		method: text.method,
		confidence: text.confidence,
		...(text.font ? { font: text.font } : {}),
		...(text.grid ? { grid: text.grid } : {}),
		...(text.truncated ? { truncated: text.truncated } : {}),
		...(text.uncertain ? { uncertain: text.uncertain } : {}),
	};
}
