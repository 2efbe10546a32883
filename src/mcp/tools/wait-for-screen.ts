import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { watchScreen } from "../../console/watch.ts";
import { log } from "../../log.ts";
import { redact } from "../../redact.ts";
import { parsePattern } from "../../text/pattern.ts";
import type { ToolExtra } from "../context.ts";
import type { ToolDeps } from "../deps.ts";
import { imageBlocks, textBlock, toolError, toolResult } from "../results.ts";
import { serverIdSchema } from "../schemas.ts";
import { describeText, screenTextShape, structuredText } from "../screen-text.ts";

/** Progress notifications that only ever count up, from polls and from the captures inside them. */
function progressReporter(extra: ToolExtra, signal: AbortSignal) {
	const token = extra._meta?.progressToken;
	let step = 0;
	return (message: string) => {
		log.debug("wait_for_screen", { message });
		if (token === undefined || signal.aborted) return;
		step++;
		extra
			.sendNotification({
				method: "notifications/progress",
				params: { progressToken: token, progress: step, message: redact(message) },
			})
			.catch(() => {});
	};
}

export function registerWaitForScreen(server: McpServer, deps: ToolDeps): void {
	server.registerTool(
		"wait_for_screen",
		{
			title: "Wait for console text",
			description:
				'Watch one server\'s console until `text` (a JavaScript regular expression, e.g. "login:" or ' +
				'"/kernel panic/i") appears on screen, or — without `text` — until the screen stops changing ' +
				"(boot finished, a long operation done). Polls every intervalSeconds over the already open console " +
				"connection (frames, not new BMC logins), up to timeoutSeconds (default 60, max 600). Returns the " +
				"screen text and, on a match, the whole matching line; on timeout it returns the last text and a " +
				"screenshot (not an error), so you can see where the machine is stuck.",
			inputSchema: {
				serverId: serverIdSchema,
				text: z
					.string()
					.min(1)
					.max(1000)
					.optional()
					.describe(
						"Regular expression to wait for, e.g. 'login:' or '/grub>/i'. Omit to wait until the screen is still",
					),
				timeoutSeconds: z.number().int().min(1).max(600).default(60).describe("Give up after this many seconds"),
				intervalSeconds: z.number().min(0.5).max(60).default(2).describe("Seconds between polls"),
			},
			outputSchema: {
				status: z.enum(["matched", "stable", "timeout"]),
				elapsedSeconds: z.number(),
				polls: z.number(),
				match: z.string().optional(),
				line: z.number().optional(),
				lineText: z.string().optional(),
				...screenTextShape,
			},
			annotations: { readOnlyHint: true, openWorldHint: true },
		},
		async ({ serverId, text, timeoutSeconds, intervalSeconds }, extra) => {
			try {
				const pattern = text === undefined ? undefined : parsePattern(text);
				// Own deadline: the wait itself plus one ordinary call's worth for the last capture and picture.
				const signal = AbortSignal.any([extra.signal, AbortSignal.timeout(timeoutSeconds * 1000 + deps.toolTimeoutMs)]);
				const result = await watchScreen((ctx) => deps.registry.capture(serverId, ctx), {
					pattern,
					timeoutMs: timeoutSeconds * 1000,
					intervalMs: intervalSeconds * 1000,
					captureTimeoutMs: deps.toolTimeoutMs,
					signal,
					report: progressReporter(extra, signal),
				});
				const elapsedSeconds = Math.round(result.elapsedMs / 100) / 10;
				const polls = `${result.polls} poll${result.polls > 1 ? "s" : ""}`;
				const summary = { status: result.status, elapsedSeconds, polls: result.polls };
				const screen = describeText(result.text);
				switch (result.status) {
					case "matched": {
						const { found } = result;
						const head = `Server ${serverId}: found ${pattern} after ${elapsedSeconds} s (${polls}) on line ${found.line}: ${JSON.stringify(found.match)}, in the line ${JSON.stringify(found.lineText)}.`;
						return toolResult(deps, [textBlock(`${head}\n${screen}`)], {
							...summary,
							match: found.match,
							line: found.line,
							lineText: found.lineText,
							...structuredText(result.text),
						});
					}
					case "stable": {
						const head = `Server ${serverId}: the screen stopped changing after ${elapsedSeconds} s (${polls}, ${intervalSeconds} s apart).`;
						return toolResult(deps, [textBlock(`${head}\n${screen}`)], { ...summary, ...structuredText(result.text) });
					}
					case "timeout": {
						const what = pattern ? `${pattern} did not appear` : "the screen kept changing";
						const head = `Server ${serverId}: timed out after ${timeoutSeconds} s — ${what} (${polls}). Last screen (captured ${result.frame.capturedAt.toISOString()}), as text and as the image below.`;
						const image = await imageBlocks(result.frame, { raw: false }, "");
						return toolResult(deps, [textBlock(`${head}\n${screen}`), ...image], {
							...summary,
							...structuredText(result.text),
						});
					}
				}
			} catch (error) {
				return toolError(error, "wait_for_screen", text === undefined ? [serverId] : [serverId, text]);
			}
		},
	);
}
