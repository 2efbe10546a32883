import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import type { CallContext } from "../../call-context.ts";
import { abortReasonToError, IkvmError, type IkvmError as IkvmErrorType, toIkvmError } from "../../errors.ts";
import type { Frame } from "../../frame.ts";
import { renderScreenshot } from "../../image/render.ts";
import { log } from "../../log.ts";
import { redact } from "../../redact.ts";
import { BITMAP_CONFIDENT, readScreenText, type ScreenText } from "../../text/index.ts";
import { sleep } from "../../timing.ts";
import type { ToolExtra } from "../context.ts";
import { textBlock, toolError } from "../results.ts";
import { serverIdSchema } from "../schemas.ts";
import type { ToolDeps } from "../server.ts";
import { describeText, screenTextShape, structuredText } from "./get-screen-text.ts";

/** Errors that another poll cannot fix. */
const FATAL = new Set<IkvmErrorType["code"]>([
	"UNKNOWN_SERVER",
	"NOT_CONFIGURED",
	"CONFIG_INVALID",
	"BAD_INPUT",
	"AUTH_FAILED",
	"ACCESS_DENIED",
	"NOT_SUPPORTED",
	"CANCELLED",
	"TOO_LARGE",
]);

/** Pixels that differ by more than this in a channel count as changed (compression noise does not). */
const PIXEL_STEP = 24;
/** A picture with at most this many changed pixels has not changed: about one character cell (a blinking cursor). */
const STILL_PIXELS = 160;

/** Accepts `pattern` or `/pattern/flags`; a plain pattern is case-sensitive with ^ and $ matching at line ends. */
export function parsePattern(text: string): RegExp {
	const literal = /^\/(.+)\/([a-z]*)$/s.exec(text);
	const [source, flags] = literal ? [literal[1] as string, literal[2] as string] : [text, "m"];
	try {
		return new RegExp(source, flags.replace(/[gy]/g, ""));
	} catch (error) {
		throw new IkvmError(
			"BAD_INPUT",
			`text is not a valid regular expression: ${error instanceof Error ? error.message : String(error)}.`,
			{
				hint: 'Give a JavaScript regular expression, e.g. "Kernel panic" or "/login:\\\\s*$/i"; escape ( [ . * + ? with a backslash to match them literally.',
			},
		);
	}
}

/** Number of pixels that changed between two frames (all of them when the size changed). */
export function changedPixels(a: Frame, b: Frame): number {
	if (a.width !== b.width || a.height !== b.height) return Math.max(a.width * a.height, b.width * b.height);
	const n = a.width * a.height;
	let changed = 0;
	for (let i = 0, p = 0; i < n; i++, p += 4) {
		const d = Math.max(
			Math.abs((a.rgba[p] as number) - (b.rgba[p] as number)),
			Math.abs((a.rgba[p + 1] as number) - (b.rgba[p + 1] as number)),
			Math.abs((a.rgba[p + 2] as number) - (b.rgba[p + 2] as number)),
		);
		if (d > PIXEL_STEP) changed++;
	}
	return changed;
}

/**
 * Whether the screen stayed the same between two polls. Console text is compared as text (a blinking
 * cursor is not text, a spinner is); other screens by their pixels, up to about one cell of change.
 */
function unchanged(before: Poll, after: Poll): boolean {
	const a = before.text;
	const b = after.text;
	if (a?.method === "bitmap-font" && b?.method === "bitmap-font" && a.confidence >= 0.9 && b.confidence >= 0.9) {
		return a.lines.length === b.lines.length && a.lines.every((line, i) => line === b.lines[i]);
	}
	return changedPixels(before.frame, after.frame) <= STILL_PIXELS;
}

interface Poll {
	frame: Frame;
	text?: ScreenText;
}

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

function lineOf(lines: string[], index: number): number {
	let offset = 0;
	for (let i = 0; i < lines.length; i++) {
		offset += (lines[i] as string).length + 1;
		if (index < offset) return i + 1;
	}
	return lines.length;
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
				"screen text; on timeout it returns the last text and a screenshot (not an error), so you can see " +
				"where the machine is stuck.",
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
				...screenTextShape,
			},
			annotations: { readOnlyHint: true, openWorldHint: true },
		},
		async ({ serverId, text, timeoutSeconds, intervalSeconds }, extra) => {
			try {
				const pattern = text === undefined ? undefined : parsePattern(text);
				// Own deadline: the wait itself plus one ordinary call's worth for the last capture and picture.
				const signal = AbortSignal.any([extra.signal, AbortSignal.timeout(timeoutSeconds * 1000 + deps.toolTimeoutMs)]);
				const report = progressReporter(extra, signal);
				const started = Date.now();
				const deadline = started + timeoutSeconds * 1000;
				const elapsed = () => Math.round((Date.now() - started) / 100) / 10;
				let polls = 0;
				let last: Poll | undefined;
				let lastError: IkvmError | undefined;

				for (;;) {
					polls++;
					const ctx: CallContext = {
						signal: AbortSignal.any([signal, AbortSignal.timeout(deps.toolTimeoutMs)]),
						progress: (_stage, message) => report(message),
					};
					try {
						const frame = await deps.registry.capture(serverId, ctx);
						if (pattern) {
							const screen = await readScreenText(frame, { signal });
							last = { frame, text: screen };
							const joined = screen.lines.join("\n");
							const found = pattern.exec(joined);
							if (found) {
								const line = lineOf(screen.lines, found.index);
								const head = `Server ${serverId}: found ${pattern} after ${elapsed()} s (${polls} poll${polls > 1 ? "s" : ""}) on line ${line}: ${JSON.stringify(found[0])}.`;
								return {
									content: [textBlock(`${head}\n${describeText(screen)}`)],
									structuredContent: {
										status: "matched" as const,
										elapsedSeconds: elapsed(),
										polls,
										match: found[0],
										line,
										...structuredText(screen),
									},
								};
							}
							report(`Poll ${polls} at ${elapsed()} s: ${pattern} not on screen yet`);
						} else {
							// Text without OCR on every poll: OCR runs once, for the answer.
							const poll: Poll = { frame, text: await readScreenText(frame, { signal, ocr: false }) };
							const still = last !== undefined && unchanged(last, poll);
							last = poll;
							if (still) {
								const quick = poll.text;
								const screen =
									quick && quick.confidence >= BITMAP_CONFIDENT ? quick : await readScreenText(frame, { signal });
								const head = `Server ${serverId}: the screen stopped changing after ${elapsed()} s (${polls} polls, ${intervalSeconds} s apart).`;
								return {
									content: [textBlock(`${head}\n${describeText(screen)}`)],
									structuredContent: {
										status: "stable" as const,
										elapsedSeconds: elapsed(),
										polls,
										...structuredText(screen),
									},
								};
							}
							report(`Poll ${polls} at ${elapsed()} s: the screen is ${polls === 1 ? "captured" : "still changing"}`);
						}
					} catch (error) {
						const e = toIkvmError(error);
						if (signal.aborted) throw abortReasonToError(signal.reason, "wait");
						if (FATAL.has(e.code)) throw e;
						lastError = e;
						report(`Poll ${polls} failed (${e.code}); trying again`);
						log.info("wait_for_screen poll failed; polling on", { serverId, code: e.code, error: e.message });
					}
					const wait = Math.min(intervalSeconds * 1000, deadline - Date.now());
					if (wait <= 0) break;
					await sleep(wait, signal, "wait");
				}

				if (!last) {
					throw new IkvmError("TIMEOUT", `No screen could be captured in ${timeoutSeconds} s.`, {
						stage: "wait",
						hint: lastError ? `Last error: ${lastError.toUserMessage()}` : undefined,
						retryable: true,
					});
				}
				const lastText = last.text;
				const screen =
					lastText && (pattern || lastText.confidence >= BITMAP_CONFIDENT)
						? lastText
						: await readScreenText(last.frame, { signal });
				const shot = await renderScreenshot(last.frame, { raw: false });
				const what = pattern ? `${pattern} did not appear` : "the screen kept changing";
				const head = `Server ${serverId}: timed out after ${timeoutSeconds} s — ${what} (${polls} polls). Last screen (captured ${last.frame.capturedAt.toISOString()}), as text and as the image below.`;
				const content = [
					textBlock(`${head}\n${describeText(screen)}`),
					{ type: "image" as const, data: shot.png.toString("base64"), mimeType: "image/png" },
					textBlock(shot.caption),
				];
				if (deps.notice) content.push(textBlock(deps.notice));
				return {
					content,
					structuredContent: {
						status: "timeout" as const,
						elapsedSeconds: elapsed(),
						polls,
						...structuredText(screen),
					},
				};
			} catch (error) {
				return toolError(error, "wait_for_screen");
			}
		},
	);
}
