import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { encodePng } from "../../image/encode.ts";
import { readScreenText } from "../../text/index.ts";
import { createCallContext } from "../context.ts";
import { textBlock, toolError } from "../results.ts";
import type { ToolDeps } from "../server.ts";
import { describeText } from "./get-screen-text.ts";

export function registerGetScreenshot(server: McpServer, deps: ToolDeps): void {
	server.registerTool(
		"get_screenshot",
		{
			title: "Console screenshot",
			description:
				"Capture the current console screen (BIOS, GRUB, kernel panic, login prompt, …) of one server as a PNG image. " +
				"serverId comes from list_servers. raw=true returns the exact framebuffer pixels; the default is " +
				"optimised for reading. A cold capture can take 20–60 s on OVH (console access is requested first); " +
				"an image costs roughly 1,500 tokens.",
			inputSchema: {
				serverId: z.string().min(1).describe("Server id from list_servers, e.g. 'ns1234567.ip-1-2-3.eu'"),
				raw: z.boolean().default(false).describe("Return the framebuffer untouched (exact pixels)"),
				includeText: z
					.boolean()
					.default(false)
					.describe("Also return the screen's text (as get_screen_text reads it) after the image"),
			},
			annotations: { readOnlyHint: true, openWorldHint: true },
		},
		async ({ serverId, raw, includeText }, extra) => {
			try {
				const ctx = createCallContext(extra, deps.toolTimeoutMs);
				const frame = await deps.registry.getScreenshot(serverId, ctx);
				ctx.progress("encode", "Encoding the picture");
				const png = await encodePng(frame);
				const caption = `Server ${serverId}: framebuffer ${frame.width}x${frame.height}, ${raw ? "raw" : "scale 1"}, captured ${frame.capturedAt.toISOString()}.`;
				const content = [
					{ type: "image" as const, data: png.toString("base64"), mimeType: "image/png" },
					textBlock(caption),
				];
				if (includeText) {
					ctx.progress("ocr", "Reading the text");
					content.push(textBlock(describeText(await readScreenText(frame, { signal: ctx.signal }))));
				}
				if (deps.notice) content.push(textBlock(deps.notice));
				return { content };
			} catch (error) {
				return toolError(error, "get_screenshot");
			}
		},
	);
}
