import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { readScreenText } from "../../text/index.ts";
import { createCallContext } from "../context.ts";
import type { ToolDeps } from "../deps.ts";
import { imageBlocks, textBlock, toolError, toolResult } from "../results.ts";
import { regionSchema, serverIdSchema } from "../schemas.ts";
import { describeText } from "../screen-text.ts";

export function registerGetScreenshot(server: McpServer, deps: ToolDeps): void {
	server.registerTool(
		"get_screenshot",
		{
			title: "Console screenshot",
			description:
				"Capture the current console screen (BIOS, GRUB, kernel panic, login prompt, …) of one server as a PNG image. " +
				"serverId comes from list_servers. The default image is optimised for reading (sized for vision models, " +
				"dim captures brightened); raw=true returns the exact framebuffer pixels. region={x,y,width,height} in " +
				"framebuffer pixels crops first and then enlarges, to zoom into small text; the text block with the image " +
				"states the framebuffer size and the scale. A cold capture can take 20–60 s on OVH (console access is " +
				"requested first); an image costs roughly 1,500 tokens.",
			inputSchema: {
				serverId: serverIdSchema,
				raw: z.boolean().default(false).describe("Return the framebuffer untouched (exact pixels)"),
				region: regionSchema
					.optional()
					.describe("Only this part of the screen, in framebuffer pixels (see the framebuffer size of a full capture)"),
				includeText: z
					.boolean()
					.default(false)
					.describe("Also return the screen's text (as get_screen_text reads it) after the image"),
			},
			annotations: { readOnlyHint: true, openWorldHint: true },
		},
		async ({ serverId, raw, region, includeText }, extra) => {
			try {
				const ctx = createCallContext(extra, deps.toolTimeoutMs);
				const frame = await deps.registry.capture(serverId, ctx);
				ctx.progress("encode", raw ? "Encoding the picture" : "Optimising the picture for reading");
				const content = await imageBlocks(frame, { raw, region }, `Server ${serverId}: `);
				if (includeText) {
					ctx.progress("ocr", "Reading the text");
					content.push(textBlock(describeText(await readScreenText(frame, { region, signal: ctx.signal }))));
				}
				return toolResult(deps, content);
			} catch (error) {
				return toolError(error, "get_screenshot", [serverId]);
			}
		},
	);
}
