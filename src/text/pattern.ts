/**
 * The patterns `wait_for_screen` (and `ikvm-mcp wait`) look for on a screen:
 * parsing, and matching with a time budget. JavaScript regular expressions
 * backtrack, and one like `(.|\s)*NEVER` can take seconds on a screenful of
 * text; matching runs in a worker that is stopped when the budget runs out, and
 * the caller gets "pattern too expensive" instead of a stalled server.
 */
import { IkvmError } from "../errors.ts";

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

export interface ScreenMatch {
	/** What the pattern matched. */
	match: string;
	/** 1-based screen row where the match starts. */
	line: number;
	/** That whole row. */
	lineText: string;
}

/** How long one match over one screen may take before the worker is stopped. */
export const DEFAULT_MATCH_BUDGET_MS = 2000;
/**
 * A search that took longer than this was backtracking: JavaScriptCore gives up on runaway
 * backtracking after about a second and answers "no match", which would be a silent wrong answer.
 * An ordinary pattern searches a screenful in well under 10 ms.
 */
export const EXPENSIVE_MATCH_MS = 250;

interface Pending {
	resolve(found: { index: number; match: string } | null, ms: number): void;
	reject(error: Error): void;
}

let worker: Promise<Worker> | undefined;
let current: Worker | undefined;
let nextId = 1;
const pending = new Map<number, Pending>();

type Answer = {
	id: number;
	ready?: true;
	ms?: number;
	found?: { index: number; match: string } | null;
	error?: string;
};

/** The matching worker, once it has started (its start-up does not count against a budget). */
function matcher(): Promise<Worker> {
	if (worker) return worker;
	const w = new Worker(new URL("./regex-worker.ts", import.meta.url).href);
	current = w;
	w.unref();
	worker = new Promise<Worker>((ready) => {
		w.onmessage = (event: MessageEvent<Answer>) => {
			if (event.data.ready) return ready(w);
			const job = pending.get(event.data.id);
			if (!job) return;
			pending.delete(event.data.id);
			if (event.data.error !== undefined) job.reject(new Error(event.data.error));
			else job.resolve(event.data.found ?? null, event.data.ms ?? 0);
		};
	});
	return worker;
}

function stopMatcher(): void {
	current?.terminate();
	current = undefined;
	worker = undefined;
	for (const job of pending.values()) job.reject(new Error("stopped"));
	pending.clear();
}

/** Finds `pattern` in the screen's lines (joined by newlines), within `budgetMs`. */
export async function findOnScreen(
	pattern: RegExp,
	lines: readonly string[],
	budgetMs = DEFAULT_MATCH_BUDGET_MS,
): Promise<ScreenMatch | undefined> {
	const text = lines.join("\n");
	const id = nextId++;
	const w = await startedWithin(matcher(), 10_000);
	const tooExpensive = (ms: number) =>
		new IkvmError("BAD_INPUT", `The pattern ${pattern} is too expensive: one screen took over ${ms} ms to search.`, {
			stage: "wait",
			hint: "Simplify it: avoid nested or overlapping repetition such as (.|\\s)* or (a+)+; a plain word or a short phrase works best.",
		});
	const found = await new Promise<{ index: number; match: string } | null>((resolve, reject) => {
		const timer = setTimeout(() => {
			pending.delete(id);
			// The only way to stop a runaway regular expression is to stop its thread.
			stopMatcher();
			reject(tooExpensive(budgetMs));
		}, budgetMs);
		pending.set(id, {
			resolve: (value, ms) => {
				clearTimeout(timer);
				if (ms > EXPENSIVE_MATCH_MS) reject(tooExpensive(EXPENSIVE_MATCH_MS));
				else resolve(value);
			},
			reject: (error) => {
				clearTimeout(timer);
				reject(error);
			},
		});
		w.postMessage({ id, source: pattern.source, flags: pattern.flags, text });
	});
	if (!found) return undefined;
	const line = lineOf(lines, found.index);
	return { match: found.match, line, lineText: lines[line - 1] ?? "" };
}

function lineOf(lines: readonly string[], index: number): number {
	let offset = 0;
	for (let i = 0; i < lines.length; i++) {
		offset += (lines[i] as string).length + 1;
		if (index < offset) return i + 1;
	}
	return lines.length;
}

function startedWithin(start: Promise<Worker>, ms: number): Promise<Worker> {
	let timer: ReturnType<typeof setTimeout> | undefined;
	const late = new Promise<never>((_, reject) => {
		timer = setTimeout(() => {
			stopMatcher();
			reject(new IkvmError("INTERNAL", `The pattern matcher did not start within ${ms / 1000} s.`, { stage: "wait" }));
		}, ms);
	});
	return Promise.race([start, late]).finally(() => clearTimeout(timer));
}
