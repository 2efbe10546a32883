/**
 * Watching a console: capture every interval until a pattern appears on screen,
 * or (without a pattern) until the screen stops changing, or the time is up.
 * Used by the `wait_for_screen` tool and the `ikvm-mcp wait` command; it works on
 * any capture function, so it knows nothing of MCP or providers.
 */
import type { CallContext } from "../call-context.ts";
import { abortReasonToError, type ErrorCode, IkvmError, toIkvmError } from "../errors.ts";
import type { Frame } from "../frame.ts";
import { log } from "../log.ts";
import { BITMAP_CONFIDENT, readScreenText, type ScreenText } from "../text/index.ts";
import { findOnScreen, type ScreenMatch } from "../text/pattern.ts";
import { sleep } from "../timing.ts";

/** Errors that another poll cannot fix: the watch ends at once with them. */
const FATAL = new Set<ErrorCode>([
	"UNKNOWN_SERVER",
	"NOT_CONFIGURED",
	"CONFIG_INVALID",
	"BAD_INPUT",
	"AUTH_FAILED",
	"ACCESS_DENIED",
	"NOT_SUPPORTED",
	"CANCELLED",
	"TOO_LARGE",
	"PROTOCOL",
]);

/** Whether another try may fix `error`: not for bad input, refused credentials, protocol violations, untrusted TLS. */
export function isFatalForRetry(error: IkvmError): boolean {
	if (FATAL.has(error.code)) return true;
	// An untrusted certificate stays untrusted until the operator changes the target.
	return error.code === "CONNECTION" && /TLS certificate that is not trusted/.test(error.message);
}

/** Pixels that differ by more than this in a channel count as changed (compression noise does not). */
const PIXEL_STEP = 24;
/** A picture with at most this many changed pixels has not changed: about one character cell (a blinking cursor). */
const STILL_PIXELS = 160;

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

interface Poll {
	frame: Frame;
	text?: ScreenText;
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

export interface WatchOptions {
	/** What to wait for; without it, wait until the screen is still. */
	pattern?: RegExp;
	timeoutMs: number;
	intervalMs: number;
	/** Deadline of each capture. */
	captureTimeoutMs: number;
	signal: AbortSignal;
	/** One line per poll, for progress notifications and logs. */
	report?: (message: string) => void;
}

export type WatchResult =
	| { status: "matched"; frame: Frame; text: ScreenText; polls: number; elapsedMs: number; found: ScreenMatch }
	| { status: "stable"; frame: Frame; text: ScreenText; polls: number; elapsedMs: number }
	| { status: "timeout"; frame: Frame; text: ScreenText; polls: number; elapsedMs: number };

/** Polls `capture` until the pattern shows, the screen settles, or `timeoutMs` passes. */
export async function watchScreen(
	capture: (ctx: CallContext) => Promise<Frame>,
	options: WatchOptions,
): Promise<WatchResult> {
	const { pattern, signal } = options;
	const report = options.report ?? (() => {});
	const started = Date.now();
	const deadline = started + options.timeoutMs;
	const elapsed = () => Date.now() - started;
	const secondsSoFar = () => Math.round(elapsed() / 100) / 10;
	let polls = 0;
	let last: Poll | undefined;
	let lastError: IkvmError | undefined;

	for (;;) {
		polls++;
		const ctx: CallContext = {
			signal: AbortSignal.any([signal, AbortSignal.timeout(options.captureTimeoutMs)]),
			progress: (_stage, message) => report(message),
		};
		try {
			const frame = await capture(ctx);
			if (pattern) {
				const screen = await readScreenText(frame, { signal });
				last = { frame, text: screen };
				const found = await findOnScreen(pattern, screen.lines);
				if (found) return { status: "matched", frame, text: screen, polls, elapsedMs: elapsed(), found };
				report(`Poll ${polls} at ${secondsSoFar()} s: ${pattern} not on screen yet`);
			} else {
				// Text without OCR on every poll: OCR runs once, for the answer.
				const poll: Poll = { frame, text: await readScreenText(frame, { signal, ocr: false }) };
				const still = last !== undefined && unchanged(last, poll);
				last = poll;
				if (still) {
					const quick = poll.text;
					const screen =
						quick && quick.confidence >= BITMAP_CONFIDENT ? quick : await readScreenText(frame, { signal });
					return { status: "stable", frame, text: screen, polls, elapsedMs: elapsed() };
				}
				report(`Poll ${polls} at ${secondsSoFar()} s: the screen is ${polls === 1 ? "captured" : "still changing"}`);
			}
		} catch (error) {
			const e = toIkvmError(error);
			if (signal.aborted) throw abortReasonToError(signal.reason, "wait");
			if (isFatalForRetry(e)) throw e;
			lastError = e;
			report(`Poll ${polls} failed (${e.code}); trying again`);
			log.info("screen watch: a poll failed; polling on", { code: e.code, error: e.message });
		}
		const wait = Math.min(options.intervalMs, deadline - Date.now());
		if (wait <= 0) break;
		await sleep(wait, signal, "wait");
	}

	if (!last) {
		throw new IkvmError("TIMEOUT", `No screen could be captured in ${Math.round(options.timeoutMs / 1000)} s.`, {
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
	return { status: "timeout", frame: last.frame, text: screen, polls, elapsedMs: elapsed() };
}
