/**
 * Property-based fuzzing (fast-check) of the key notation: any string either
 * parses into a plan that round-trips through the notation, or fails with a
 * BAD_INPUT error that never quotes the text it was given.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { IkvmError } from "../../src/errors.ts";
import { describeKeys, type KeyToken, MAX_KEYS, parseKeys, planKeys } from "../../src/input/index.ts";

const PIECES = [
	"{",
	"}",
	"{{",
	"}}",
	"{Enter}",
	"{ctrl+alt+delete}",
	"{Alt+SysRq+b}",
	"{wait 5}",
	"{wait 99999}",
	"{secret A}",
	"{secret NOPE}",
	"{F13}",
	"{Ctrl+}",
	"{+}",
	"{Ctrl++}",
	"\n",
	"\u0000",
	"é",
	"ß",
	"😀",
];

const notation = fc
	.array(
		fc.oneof(
			fc.constantFrom(...PIECES),
			fc.string({ maxLength: 8 }),
			fc.string({ unit: "grapheme-ascii", maxLength: 6 }),
		),
		{
			maxLength: 30,
		},
	)
	.map((parts) => parts.join(""));

function reprint(tokens: readonly KeyToken[]): string {
	return tokens
		.map((t) => {
			if (t.kind === "text") return t.text.replaceAll("{", "{{").replaceAll("}", "}}");
			if (t.kind === "wait") return `{wait ${t.ms}}`;
			if (t.kind === "secret") return `{secret ${t.name}}`;
			const key = t.key.kind === "named" ? t.key.name : t.key.char;
			return `{${[...t.modifiers.map((m) => m.name), key].join("+")}}`;
		})
		.join("");
}

describe("key notation fuzz", () => {
	test("any input: a plan or a BAD_INPUT error, never a crash; text never echoed", () => {
		fc.assert(
			fc.property(notation, fc.constantFrom("us", "uk", "de", "fr" as const), (keys, layout) => {
				try {
					const plan = planKeys(keys, { layout, secret: (n) => (n === "A" ? "pw-Äb" : undefined) });
					expect(plan.keyCount).toBeLessThanOrEqual(MAX_KEYS);
					for (const s of plan.steps) {
						if (s.kind === "wait") expect(s.ms).toBeGreaterThanOrEqual(0);
						else expect(Number.isInteger(s.usage) && s.usage > 0 && s.usage < 0x100).toBe(true);
					}
					expect(plan.description).not.toContain("pw-");
				} catch (error) {
					if (!(error instanceof IkvmError)) throw error;
					expect(error.code).toBe("BAD_INPUT");
					expect(error.hint).toContain("Nothing was typed");
				}
			}),
			{ numRuns: 3000 },
		);
	});

	test("a word in braces that is no key is never quoted back", () => {
		// Letters and digits mixed (like a password): no key name or hint text contains such a word.
		const words = fc
			.tuple(
				fc.stringMatching(/^[A-Za-z]{3,10}$/),
				fc.stringMatching(/^[0-9]{1,4}$/),
				fc.stringMatching(/^[a-z]{0,5}$/),
			)
			.map((parts) => parts.join(""));
		fc.assert(
			fc.property(words, fc.string({ maxLength: 10 }), (word, before) => {
				let error: IkvmError | undefined;
				try {
					parseKeys(`${before.replaceAll("{", "{{").replaceAll("}", "}}")}{${word}}`);
				} catch (e) {
					error = e as IkvmError;
				}
				if (!error) return; // a real key name
				expect(`${error.message} ${error.hint}`).not.toContain(word);
			}),
			{ numRuns: 1000 },
		);
	});

	test("parse → reprint → parse is the identity", () => {
		fc.assert(
			fc.property(notation, (keys) => {
				let tokens: KeyToken[];
				try {
					tokens = parseKeys(keys);
				} catch {
					return;
				}
				const again = parseKeys(reprint(tokens));
				expect(describeKeys(again)).toBe(describeKeys(tokens));
				expect(reprint(again)).toBe(reprint(tokens));
			}),
			{ numRuns: 3000 },
		);
	});

	test("text of random printable ASCII (braces doubled) types one stroke per character on us", () => {
		fc.assert(
			fc.property(
				fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 200 }),
				(text) => {
					fc.pre(text.length > 0);
					const plan = planKeys(text.replaceAll("{", "{{").replaceAll("}", "}}"), {
						layout: "us",
						secret: () => undefined,
					});
					expect(plan.keyCount).toBe(text.length);
					expect(plan.description).toBe(`<${text.length} chars>`);
					const typed = plan.steps.map((s) => (s.kind === "stroke" ? String.fromCharCode(s.keysym) : "")).join("");
					expect(typed).toBe(text);
				},
			),
		);
	});
});
