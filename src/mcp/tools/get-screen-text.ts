import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { readScreenText } from "../../text/index.ts";
import { createCallContext } from "../context.ts";
import type { ToolDeps } from "../deps.ts";
import { textBlock, toolError, toolResult } from "../results.ts";
import { regionSchema, serverIdSchema } from "../schemas.ts";
import { describeText, screenTextShape, structuredText } from "../screen-text.ts";

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
				return toolResult(deps, [textBlock(`${header}\n${describeText(text)}`)], {
					...structuredText(text),
					width: frame.width,
					height: frame.height,
					capturedAt: frame.capturedAt.toISOString(),
				});
			} catch (error) {
				return toolError(error, "get_screen_text", [serverId]);
			}
		},
	);
}
