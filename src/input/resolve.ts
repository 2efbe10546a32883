/**
 * Parsed key notation → KeyStep[] for one keyboard layout: each character
 * becomes the physical key and modifiers that type it on that layout, with the
 * X keysym of what it types (for VNC KeyEvent). Secrets are expanded here, so
 * the whole input — secrets included — is checked before the first key is sent.
 */
import { IkvmError } from "../errors.ts";
import { KEYSYM, modifier } from "./keys.ts";
import { type Layout, type LayoutName, layout } from "./layouts.ts";
import { chordLabel, destructiveChords, type KeyToken, parseKeys } from "./notation.ts";
import { HID_MODIFIER, type KeyStep, type KeyStroke } from "./types.ts";

export const MAX_KEYS = 4096;

export interface KeyPlanOptions {
	layout: LayoutName;
	/** The value of secret NAME (IKVM_SECRET_NAME), or undefined when there is none. */
	secret: (name: string) => string | undefined;
	/** Extra pause between strokes, ms (0: the protocol's own pace). */
	keyDelayMs?: number;
}

export interface KeyPlan {
	readonly tokens: readonly KeyToken[];
	readonly steps: readonly KeyStep[];
	/** Strokes to send (waits not counted). */
	readonly keyCount: number;
	/** The audit line's view of the keys: names and chords, `<N chars>`, `<secret NAME>`. */
	readonly description: string;
	/** Chords that need confirmation (Ctrl+Alt+Delete, Alt+SysRq+…). */
	readonly destructive: readonly string[];
	/** Names of the secrets typed. */
	readonly secrets: readonly string[];
}

/** Parses and resolves `keys` whole; throws BAD_INPUT naming the problem, before anything is sent. */
export function planKeys(keys: string, options: KeyPlanOptions): KeyPlan {
	const tokens = parseKeys(keys);
	const steps = resolveKeys(tokens, options);
	const keyCount = steps.filter((s) => s.kind === "stroke").length;
	return {
		tokens,
		steps,
		keyCount,
		description: describeKeys(tokens),
		destructive: destructiveChords(tokens),
		secrets: [...new Set(tokens.flatMap((t) => (t.kind === "secret" ? [t.name] : [])))],
	};
}

function bad(message: string, hint = "Nothing was typed. Fix the keys and call send_keys again."): never {
	throw new IkvmError("BAD_INPUT", message, { hint });
}

const SHIFT = { usage: HID_MODIFIER.leftShift, keysym: KEYSYM.Shift_L };
const ALTGR = { usage: HID_MODIFIER.rightAlt, keysym: KEYSYM.ISO_Level3_Shift };

/** X keysym of a character: Latin-1 maps to itself, the Euro sign has its own, the rest use Unicode keysyms. */
export function charKeysym(char: string): number {
	const cp = char.codePointAt(0) as number;
	if ((cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xff)) return cp;
	if (cp === 0x20ac) return 0x20ac;
	return 0x01000000 | cp;
}

function stroke(usage: number, mods: ReadonlyArray<{ usage: number; keysym: number }>, keysym: number, label: string) {
	const seen = new Set<number>();
	const unique = mods.filter((m) => {
		if (seen.has(m.usage)) return false;
		seen.add(m.usage);
		return true;
	});
	return {
		kind: "stroke",
		usage,
		modifiers: unique.map((m) => m.usage),
		keysym,
		modifierKeysyms: unique.map((m) => m.keysym),
		label,
	} satisfies KeyStroke;
}

const ENTER = modifierFree(0x28, KEYSYM.Return, "Enter");
const TAB = modifierFree(0x2b, KEYSYM.Tab, "Tab");
function modifierFree(usage: number, keysym: number, label: string): KeyStroke {
	return stroke(usage, [], keysym, label);
}

/** The strokes that type `char` on `map`, or a reason it cannot be typed. */
function charStrokes(char: string, map: Layout, label: string): KeyStroke[] | string {
	if (char === "\n") return [ENTER];
	if (char === "\t") return [TAB];
	const cp = char.codePointAt(0) as number;
	if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) {
		return `a control character (U+${cp.toString(16).toUpperCase().padStart(4, "0")}); use a named key such as {Enter}`;
	}
	const pos = map.position(char);
	if (!pos) return `a character the ${map.name} keyboard layout cannot type`;
	const mods = [...(pos.shift ? [SHIFT] : []), ...(pos.altGr ? [ALTGR] : [])];
	const first = stroke(pos.usage, mods, charKeysym(char), label);
	// A dead key waits for the next key; Space makes it type the bare character. That Space has no
	// keysym of its own: a console fed keysyms already got the character from the first stroke.
	return pos.dead ? [first, stroke(0x2c, [], KEYSYM.VoidSymbol, label)] : [first];
}

export function resolveKeys(tokens: readonly KeyToken[], options: KeyPlanOptions): KeyStep[] {
	const map = layout(options.layout);
	const steps: KeyStep[] = [];
	let strokes = 0;
	let typed = 0;
	const delay = options.keyDelayMs ?? 0;
	const push = (s: KeyStroke) => {
		if (++strokes > MAX_KEYS) {
			bad(`keys needs more than ${MAX_KEYS} keystrokes.`, "Split it into several send_keys calls. Nothing was typed.");
		}
		if (delay > 0 && steps.some((p) => p.kind === "stroke")) steps.push({ kind: "wait", ms: delay });
		steps.push(s);
	};
	for (const token of tokens) {
		switch (token.kind) {
			case "wait":
				steps.push({ kind: "wait", ms: token.ms });
				break;
			case "text":
				for (const char of token.text) {
					typed++;
					const out = charStrokes(char, map, "char");
					if (typeof out === "string") bad(`Character ${typed} of the text is ${out}.`);
					for (const s of out) push(s);
				}
				break;
			case "secret": {
				const value = options.secret(token.name);
				if (value === undefined || value === "") {
					bad(
						`Unknown secret ${token.name}.`,
						`Set the environment variable IKVM_SECRET_${token.name} of the ikvm-mcp process and restart it. Nothing was typed.`,
					);
				}
				let n = 0;
				for (const char of value) {
					n++;
					const out = charStrokes(char, map, "secret");
					if (typeof out === "string") {
						// Which character it is would say something about the secret: only its place.
						bad(
							`Secret ${token.name} cannot be typed: its character ${n} is ${out.startsWith("a control") ? "a control character" : out}.`,
						);
					}
					for (const s of out) push(s);
				}
				break;
			}
			case "key":
				push(chordStroke(token, map));
				break;
		}
	}
	return steps;
}

function chordStroke(token: Extract<KeyToken, { kind: "key" }>, map: Layout): KeyStroke {
	const label = chordLabel(token);
	const held = token.modifiers.map((m) => ({ usage: m.usage, keysym: m.keysym }));
	if (token.key.kind === "named") return stroke(token.key.usage, held, token.key.keysym, label);
	// A letter in a chord names the key ({Ctrl+C} is Ctrl and the C key, not Ctrl+Shift+c).
	const char = /^[A-Za-z]$/.test(token.key.char) ? token.key.char.toLowerCase() : token.key.char;
	const pos = map.position(char);
	if (!pos) bad(`{${label}}: the ${map.name} keyboard layout has no key for that character.`);
	const extra = [...(pos.shift ? [SHIFT] : []), ...(pos.altGr ? [ALTGR] : [])];
	return stroke(pos.usage, [...held, ...extra], charKeysym(char), token.modifiers.length === 0 ? "char" : label);
}

/**
 * What the audit may say about typed keys: key names and chords, printable text as
 * `<N chars>`, secrets as `<secret NAME>`, pauses as `wait N`.
 */
export function describeKeys(tokens: readonly KeyToken[]): string {
	const parts: string[] = [];
	let chars = 0;
	const flush = () => {
		if (chars > 0) parts.push(`<${chars} chars>`);
		chars = 0;
	};
	const shiftOnly = modifier("Shift");
	for (const t of tokens) {
		if (t.kind === "text") {
			for (const c of t.text) {
				if (c === "\n" || c === "\t") {
					flush();
					parts.push(c === "\n" ? "Enter" : "Tab");
				} else chars++;
			}
		} else if (t.kind === "key" && t.key.kind === "char" && t.modifiers.every((m) => m === shiftOnly)) {
			chars++;
		} else {
			flush();
			if (t.kind === "key") parts.push(chordLabel(t));
			else if (t.kind === "wait") parts.push(`wait ${t.ms}`);
			else parts.push(`<secret ${t.name}>`);
		}
	}
	flush();
	return parts.join(" ");
}

/**
 * The same view from resolved steps alone (for code that never saw the notation): strokes labelled
 * "char" count as `<N chars>`, a run of "secret" strokes is `<secret>` (steps do not carry its name).
 */
export function describeSteps(steps: readonly KeyStep[]): string {
	const parts: string[] = [];
	let chars = 0;
	let inSecret = false;
	const flush = () => {
		if (chars > 0) parts.push(`<${chars} chars>`);
		chars = 0;
		inSecret = false;
	};
	for (const step of steps) {
		if (step.kind === "wait") {
			flush();
			parts.push(`wait ${step.ms}`);
		} else if (step.label === "char") {
			if (inSecret) flush();
			if (step.keysym !== KEYSYM.VoidSymbol) chars++;
		} else if (step.label === "secret") {
			if (!inSecret) {
				flush();
				parts.push("<secret>");
				inSecret = true;
			}
		} else {
			flush();
			parts.push(step.label);
		}
	}
	flush();
	return parts.join(" ");
}
