/**
 * The key notation of send_keys, parsed whole before anything is typed:
 *
 *   plain text          typed as it is (printable characters; "\n" and "\t" count as Enter and Tab)
 *   {Enter} {F2} …      a named key, case-insensitive
 *   {Ctrl+Alt+Delete}   a chord: modifiers joined with "+", then one key (a name or one character)
 *   {{  }}              a literal brace
 *   {wait 500}          a pause in milliseconds (bounded)
 *   {secret NAME}       the value of the server's environment variable IKVM_SECRET_NAME
 *
 * Pure: the parser knows neither layouts nor the environment. Errors are BAD_INPUT
 * naming the problem by position and never quote typed text.
 */
import { IkvmError } from "../errors.ts";
import { MODIFIER_NAMES, type Modifier, modifier, NAMED_KEYS, namedKey } from "./keys.ts";

export type KeyToken =
	| { readonly kind: "text"; readonly text: string }
	| { readonly kind: "key"; readonly modifiers: readonly Modifier[]; readonly key: ChordKey }
	| { readonly kind: "wait"; readonly ms: number }
	| { readonly kind: "secret"; readonly name: string };

/** The key a chord ends with: a named key, a modifier pressed alone, or one character (e.g. the "c" of Ctrl+C). */
export type ChordKey =
	| { readonly kind: "named"; readonly name: string; readonly usage: number; readonly keysym: number }
	| { readonly kind: "char"; readonly char: string };

export const MAX_WAIT_MS = 10_000;
export const MAX_TOTAL_WAIT_MS = 60_000;
/** Longest notation string accepted (the key count is bounded separately after secrets are expanded). */
export const MAX_NOTATION_LENGTH = 65_536;

const SECRET_NAME = /^[A-Za-z0-9_]{1,64}$/;

function bad(message: string, hint?: string): never {
	throw new IkvmError("BAD_INPUT", message, {
		hint: hint ?? "Nothing was typed. Fix the keys and call send_keys again.",
	});
}

/**
 * A brace group is never quoted back: a model that put a password in braces by mistake must not see
 * it in a log or an error. Instead the error points at the position and suggests the nearest name.
 */
function nearest(word: string, names: readonly string[]): string | undefined {
	const w = word.toLowerCase();
	let best: { name: string; d: number } | undefined;
	for (const name of names) {
		const d = distance(w, name.toLowerCase());
		if (d <= Math.max(1, Math.min(2, Math.floor(name.length / 3))) && (!best || d < best.d)) best = { name, d };
	}
	return best?.name;
}

/** Edit distance with adjacent transpositions ("Atl" is one step from "Alt"). */
function distance(a: string, b: string): number {
	if (Math.abs(a.length - b.length) > 2) return 3;
	const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
		Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
	);
	const at = (i: number, j: number) => (d[i] as number[])[j] as number;
	for (let i = 1; i <= a.length; i++) {
		for (let j = 1; j <= b.length; j++) {
			let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1));
			if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, at(i - 2, j - 2) + 1);
			(d[i] as number[])[j] = v;
		}
	}
	return at(a.length, b.length);
}

function didYouMean(word: string, names: readonly string[], wrap: (n: string) => string): string {
	const guess = nearest(word, names);
	return guess ? ` (did you mean ${wrap(guess)}?)` : "";
}

export function parseKeys(input: string): KeyToken[] {
	if (input.length === 0) bad("keys is empty.");
	if (input.length > MAX_NOTATION_LENGTH)
		bad(`keys is ${input.length} characters long; at most ${MAX_NOTATION_LENGTH}.`);
	const tokens: KeyToken[] = [];
	let text = "";
	let totalWait = 0;
	const flush = () => {
		if (text) tokens.push({ kind: "text", text });
		text = "";
	};
	let i = 0;
	while (i < input.length) {
		const c = input[i] as string;
		if (c === "}") {
			if (input[i + 1] === "}") {
				text += "}";
				i += 2;
				continue;
			}
			bad(`Unmatched "}" at position ${i + 1}.`, 'Write "}}" to type a literal "}". Nothing was typed.');
		}
		if (c !== "{") {
			text += c;
			i++;
			continue;
		}
		if (input[i + 1] === "{") {
			text += "{";
			i += 2;
			continue;
		}
		const end = input.indexOf("}", i + 1);
		if (end < 0) bad(`Unclosed "{" at position ${i + 1}.`, 'Write "{{" to type a literal "{". Nothing was typed.');
		const group = input.slice(i + 1, end);
		const at = i + 1;
		i = end + 1;
		const token = parseGroup(group, at);
		if (token.kind === "wait") {
			totalWait += token.ms;
			if (totalWait > MAX_TOTAL_WAIT_MS) bad(`The waits add up to more than ${MAX_TOTAL_WAIT_MS} ms.`);
		}
		flush();
		tokens.push(token);
	}
	flush();
	return tokens;
}

function parseGroup(raw: string, at: number): KeyToken {
	const group = raw.trim();
	if (group === "") bad(`Empty {} at position ${at}.`);
	const command = /^(wait|secret)\s+(.*)$/i.exec(group);
	if (command) {
		const verb = (command[1] as string).toLowerCase();
		const arg = (command[2] as string).trim();
		if (verb === "wait") {
			if (!/^\d{1,6}$/.test(arg)) bad(`{wait …} at position ${at} needs milliseconds, e.g. {wait 500}.`);
			const ms = Number(arg);
			if (ms > MAX_WAIT_MS) bad(`{wait ${ms}} at position ${at} is longer than ${MAX_WAIT_MS} ms.`);
			return { kind: "wait", ms };
		}
		if (!SECRET_NAME.test(arg)) {
			bad(
				`{secret …} at position ${at} needs a name of letters, digits and _, e.g. {secret ROOT_PASSWORD}.`,
				"The value comes from the environment variable IKVM_SECRET_<NAME> of the ikvm-mcp process. Nothing was typed.",
			);
		}
		return { kind: "secret", name: arg };
	}
	const parts = group.split("+").map((p) => p.trim());
	// "{Ctrl++}" types Ctrl and "+": an empty last part after a "+" is the plus key itself.
	if (parts.length > 1 && parts.at(-1) === "" && parts.at(-2) === "") parts.splice(-2, 2, "+");
	if (parts.some((p) => p === "")) bad(`The chord at position ${at} has an empty part.`);
	const last = parts.pop() as string;
	const modifiers: Modifier[] = [];
	for (const part of parts) {
		const m = modifier(part);
		if (!m) {
			bad(
				`The chord at position ${at}: part ${modifiers.length + 1} is not a modifier${didYouMean(part, MODIFIER_NAMES, (n) => n)}.`,
				"Modifiers are Ctrl, Shift, Alt, AltGr, Meta (Win) and SysRq. Nothing was typed.",
			);
		}
		if (modifiers.includes(m)) bad(`The chord at position ${at} names ${m.name} twice.`);
		modifiers.push(m);
	}
	return { kind: "key", modifiers, key: chordKey(last, at) };
}

function chordKey(name: string, at: number): ChordKey {
	const named = namedKey(name);
	if (named) return { kind: "named", name: named.name, usage: named.usage, keysym: named.keysym };
	const m = modifier(name);
	if (m) return { kind: "named", name: m.name, usage: m.usage, keysym: m.keysym };
	// A single character, as the last key of a chord ({Ctrl+C}, {Alt+SysRq+b}) or alone ({a}).
	if ([...name].length === 1 && name >= " ") return { kind: "char", char: name };
	bad(
		`Unknown key name at position ${at}${didYouMean(name, [...NAMED_KEYS, ...MODIFIER_NAMES], (n) => `{${n}}`)}.`,
		`Known keys: ${NAMED_KEYS.join(", ")}; chords like {Ctrl+C}; {wait 500}; {secret NAME}; {{ and }} for braces. Nothing was typed.`,
	);
}

/**
 * Whether typing these tokens is destructive enough to need confirmation: Ctrl+Alt+Delete
 * (reboots most consoles) and any Alt+SysRq chord (the kernel's magic keys: reboot, kill all).
 */
export function destructiveChords(tokens: readonly KeyToken[]): string[] {
	const found: string[] = [];
	for (const t of tokens) {
		if (t.kind !== "key") continue;
		const names = new Set(t.modifiers.map((m) => m.name));
		const key = t.key.kind === "named" ? t.key.name : t.key.char.toLowerCase();
		const ctrlAltDel = names.has("Ctrl") && names.has("Alt") && key === "Delete";
		const sysrq = names.has("Alt") && (names.has("SysRq") || key === "PrintScreen" || key === "SysRq");
		if (ctrlAltDel || sysrq) found.push(chordLabel(t));
	}
	return found;
}

/** "Ctrl+Alt+Delete", "Alt+SysRq+b", "Enter". */
export function chordLabel(token: Extract<KeyToken, { kind: "key" }>): string {
	const key = token.key.kind === "named" ? token.key.name : token.key.char === " " ? "Space" : token.key.char;
	return [...token.modifiers.map((m) => m.name), key].join("+");
}
