import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { readScreenText, type ScreenText } from "../../text/index.ts";
import { createCallContext } from "../context.ts";
import { textBlock, toolError } from "../results.ts";
import { regionSchema, serverIdSchema } from "../schemas.ts";
import type { ToolDeps } from "../server.ts";

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
};

/** The lines in a fenced block (layout kept), under one line saying how they were read. */
export function describeText(text: ScreenText): string {
	const how =
		text.method === "bitmap-font" && text.grid
			? `bitmap-font ${text.font ?? "(blank screen)"}, ${text.grid.cols}x${text.grid.rows} cells of ${text.grid.cellWidth}x${text.grid.cellHeight}`
			: text.method;
	const body = text.lines.length > 0 ? text.lines.join("\n") : "(no text on screen)";
	return `Read by ${how}, confidence ${text.confidence.toFixed(2)}:\n\`\`\`\n${body}\n\`\`\``;
}

export function structuredText(text: ScreenText) {
	return {
		lines: text.lines,
		method: text.method,
		confidence: text.confidence,
		...(text.font ? { font: text.font } : {}),
		...(text.grid ? { grid: text.grid } : {}),
	};
}

export function registerGetScreenText(server: McpServer, deps: ToolDeps): void {
	server.registerTool(
		"get_screen_text",
		{
			title: "Console screen as text",
			description:
				"Read the text on one server's console screen (BIOS, GRUB, kernel panic, login prompt, installer). " +
				"Text-mode and framebuffer consoles are read exactly from their bitmap font (method bitmap-font); " +
				"other screens fall back to OCR (method ocr). Returns the screen rows with their layout, the method " +
				"and a confidence. Costs a few hundred tokens instead of ~1,500 for an image; prefer it to " +
				"get_screenshot whenever the screen is text. region {x, y, width, height} (framebuffer pixels) reads part of it.",
			inputSchema: {
				serverId: serverIdSchema,
				region: regionSchema.optional().describe("Only this rectangle of the framebuffer, in pixels"),
			},
			outputSchema: { ...screenTextShape, width: z.number(), height: z.number(), capturedAt: z.string() },
			annotations: { readOnlyHint: true, openWorldHint: true },
		},
		async ({ serverId, region }, extra) => {
			try {
				const ctx = createCallContext(extra, deps.toolTimeoutMs);
				const frame = await deps.registry.capture(serverId, ctx);
				ctx.progress("ocr", "Reading the text");
				const text = await readScreenText(frame, { region, signal: ctx.signal });
				const where = region ? ` region ${region.x},${region.y} ${region.width}x${region.height} of` : "";
				const header = `Server ${serverId}:${where} framebuffer ${frame.width}x${frame.height}, captured ${frame.capturedAt.toISOString()}.`;
				const content = [textBlock(`${header}\n${describeText(text)}`)];
				if (deps.notice) content.push(textBlock(deps.notice));
				return {
					content,
					structuredContent: {
						...structuredText(text),
						width: frame.width,
						height: frame.height,
						capturedAt: frame.capturedAt.toISOString(),
					},
				};
			} catch (error) {
				return toolError(error, "get_screen_text");
			}
		},
	);
}
