import { describe, expect, test } from "bun:test";
import {
	describeKeys,
	describeSteps,
	destructiveChords,
	KEYSYM,
	MAX_KEYS,
	parseKeys,
	planKeys,
	planPointer,
	qemuKeycode,
	SCANCODE_USAGES,
	xtScancode,
} from "../../src/input/index.ts";
import { HID_MODIFIER, type KeyStroke, POINTER_BUTTON } from "../../src/input/types.ts";
import { errorOf } from "../support/ikvm-error.ts";

const secrets: Record<string, string> = { ROOT: "s3cr3t-Pw!" };
const plan = (keys: string, layout: "us" | "uk" | "de" | "fr" = "us") =>
	planKeys(keys, { layout, secret: (n) => secrets[n] });
const strokes = (keys: string, layout: "us" | "uk" | "de" | "fr" = "us") =>
	plan(keys, layout).steps.filter((s): s is KeyStroke => s.kind === "stroke");

describe("key notation parser", () => {
	test("text, named keys, chords, braces, waits, secrets", () => {
		expect(parseKeys("ls -l{Enter}{{x}}{wait 250}{secret ROOT}{ctrl+alt+DELETE}")).toEqual([
			{ kind: "text", text: "ls -l" },
			{ kind: "key", modifiers: [], key: { kind: "named", name: "Enter", usage: 0x28, keysym: KEYSYM.Return } },
			{ kind: "text", text: "{x}" },
			{ kind: "wait", ms: 250 },
			{ kind: "secret", name: "ROOT" },
			{
				kind: "key",
				modifiers: [expect.objectContaining({ name: "Ctrl" }), expect.objectContaining({ name: "Alt" })] as never,
				key: { kind: "named", name: "Delete", usage: 0x4c, keysym: KEYSYM.Delete },
			},
		]);
	});

	test("every named key of the issue parses, case-insensitively", () => {
		const names =
			"Enter Tab Esc Backspace Delete Insert Home End PageUp PageDown Up Down Left Right Space PrintScreen Pause".split(
				" ",
			);
		for (let i = 1; i <= 12; i++) names.push(`F${i}`);
		for (const name of names) {
			for (const spelled of [name, name.toLowerCase(), name.toUpperCase()]) {
				const [s] = strokes(`{${spelled}}`);
				expect(s?.label).toBe(name);
				expect(s?.modifiers).toEqual([]);
				expect(xtScancode(s?.usage ?? -1)).toBeDefined();
			}
		}
		expect(strokes("{F5}")[0]).toMatchObject({ usage: 0x3e, keysym: 0xffc2 });
		expect(strokes("{F12}")[0]).toMatchObject({ usage: 0x45, keysym: 0xffc9 });
	});

	test("errors name the problem and never quote typed text", () => {
		expect(errorOf(() => plan("abc{Entr}")).message).toBe("Unknown key name at position 4 (did you mean {Enter}?).");
		expect(errorOf(() => plan("{PgDown}")).message).toBe("Unknown key name at position 1 (did you mean {PageDown}?).");
		expect(errorOf(() => plan("{Hyper+x}")).message).toBe("The chord at position 1: part 1 is not a modifier.");
		expect(errorOf(() => plan("{Ctrl+Atl+Del}")).message).toBe(
			"The chord at position 1: part 2 is not a modifier (did you mean Alt?).",
		);
		expect(errorOf(() => plan("{hunter2}")).message).toBe("Unknown key name at position 1.");
		expect(errorOf(() => plan("abc{Enter")).message).toBe('Unclosed "{" at position 4.');
		expect(errorOf(() => plan("a}b")).message).toBe('Unmatched "}" at position 2.');
		expect(errorOf(() => plan("{wait 20000}")).message).toContain("longer than 10000 ms");
		expect(errorOf(() => plan("{wait soon}")).message).toContain("needs milliseconds");
		expect(errorOf(() => plan("{secret NOPE}")).message).toBe("Unknown secret NOPE.");
		expect(errorOf(() => plan("{secret NOPE}")).hint).toContain("IKVM_SECRET_NOPE");
		expect(errorOf(() => plan("")).code).toBe("BAD_INPUT");
		const long = errorOf(() => plan("x".repeat(MAX_KEYS + 1)));
		expect(long.code).toBe("BAD_INPUT");
		expect(long.message).toContain(`more than ${MAX_KEYS} keystrokes`);
		expect(plan("x".repeat(MAX_KEYS)).keyCount).toBe(MAX_KEYS);
		const odd = errorOf(() => plan("hunter2{my password is hunter2!}"));
		expect(odd.message).not.toContain("hunter2");
		const ctl = errorOf(() => plan("ab\u0007"));
		expect(ctl.message).toBe(
			"Character 3 of the text is a control character (U+0007); use a named key such as {Enter}.",
		);
	});

	test("the whole string is checked: a late error means no plan at all", () => {
		expect(() => plan(`${"a".repeat(100)}{Bogus}`)).toThrow();
	});

	test("destructive chords", () => {
		expect(destructiveChords(parseKeys("{Ctrl+Alt+Delete}"))).toEqual(["Ctrl+Alt+Delete"]);
		expect(destructiveChords(parseKeys("{Alt+Ctrl+Del}"))).toEqual(["Alt+Ctrl+Delete"]);
		expect(destructiveChords(parseKeys("{Alt+SysRq+b}"))).toEqual(["Alt+SysRq+b"]);
		expect(destructiveChords(parseKeys("{Alt+PrintScreen}"))).toEqual(["Alt+PrintScreen"]);
		expect(destructiveChords(parseKeys("{Ctrl+C}{Alt+F2}{Shift+Tab}{Meta+R}reboot{Delete}"))).toEqual([]);
	});

	test("describeKeys shows names and chords, counts text, names secrets", () => {
		expect(describeKeys(parseKeys("root{Enter}{wait 500}{secret ROOT}{Enter}"))).toBe(
			"<4 chars> Enter wait 500 <secret ROOT> Enter",
		);
		expect(describeKeys(parseKeys("a{{b\nc{Ctrl+C}{x}{Shift+Y}"))).toBe("<3 chars> Enter <1 chars> Ctrl+C <2 chars>");
		expect(plan("{secret ROOT}").description).toBe("<secret ROOT>");
		expect(describeSteps(plan("ls{Enter}{wait 5}{secret ROOT}{secret ROOT}x{Ctrl+C}").steps)).toBe(
			"<2 chars> Enter wait 5 <secret> <1 chars> Ctrl+C",
		);
	});
});

describe("layouts", () => {
	test("us: shifted characters hold Shift, keysym is the character", () => {
		expect(strokes("aA!")).toEqual([
			{ kind: "stroke", usage: 0x04, modifiers: [], keysym: 0x61, modifierKeysyms: [], label: "char" },
			{
				kind: "stroke",
				usage: 0x04,
				modifiers: [HID_MODIFIER.leftShift],
				keysym: 0x41,
				modifierKeysyms: [0xffe1],
				label: "char",
			},
			{
				kind: "stroke",
				usage: 0x1e,
				modifiers: [HID_MODIFIER.leftShift],
				keysym: 0x21,
				modifierKeysyms: [0xffe1],
				label: "char",
			},
		]);
	});

	test("every printable ASCII character is typeable on us, uk, de and fr", () => {
		let ascii = "";
		for (let c = 0x20; c < 0x7f; c++) ascii += String.fromCharCode(c);
		for (const layout of ["us", "uk", "de", "fr"] as const) {
			const out = plan(ascii.replaceAll("{", "{{").replaceAll("}", "}}"), layout);
			expect(out.keyCount).toBeGreaterThanOrEqual(95);
			for (const s of out.steps) if (s.kind === "stroke") expect(xtScancode(s.usage)).toBeDefined();
		}
	});

	test("uk, de and fr put characters where those keyboards have them", () => {
		expect(strokes('"', "uk")[0]).toMatchObject({ usage: 0x1f, modifiers: [HID_MODIFIER.leftShift] });
		expect(strokes("@", "uk")[0]).toMatchObject({ usage: 0x34, modifiers: [HID_MODIFIER.leftShift] });
		expect(strokes("#", "uk")[0]).toMatchObject({ usage: 0x32, modifiers: [] });
		expect(strokes("\\", "uk")[0]).toMatchObject({ usage: 0x64, modifiers: [] });
		expect(strokes("z", "de")[0]).toMatchObject({ usage: 0x1c });
		expect(strokes("y", "de")[0]).toMatchObject({ usage: 0x1d });
		expect(strokes("@", "de")[0]).toMatchObject({
			usage: 0x14,
			modifiers: [HID_MODIFIER.rightAlt],
			modifierKeysyms: [0xfe03],
		});
		expect(strokes("{{", "de")[0]).toMatchObject({ usage: 0x24, modifiers: [HID_MODIFIER.rightAlt], keysym: 0x7b });
		expect(strokes("|", "de")[0]).toMatchObject({ usage: 0x64, modifiers: [HID_MODIFIER.rightAlt] });
		// A dead key on de: the key, then Space without a keysym of its own.
		expect(strokes("^", "de")).toEqual([
			{ kind: "stroke", usage: 0x35, modifiers: [], keysym: 0x5e, modifierKeysyms: [], label: "char" },
			{ kind: "stroke", usage: 0x2c, modifiers: [], keysym: KEYSYM.VoidSymbol, modifierKeysyms: [], label: "char" },
		]);
		expect(strokes("a", "fr")[0]).toMatchObject({ usage: 0x14, modifiers: [] });
		expect(strokes("q", "fr")[0]).toMatchObject({ usage: 0x04 });
		expect(strokes("m", "fr")[0]).toMatchObject({ usage: 0x33 });
		expect(strokes("1", "fr")[0]).toMatchObject({ usage: 0x1e, modifiers: [HID_MODIFIER.leftShift] });
		expect(strokes("é", "fr")[0]).toMatchObject({ usage: 0x1f, modifiers: [], keysym: 0xe9 });
		expect(strokes("@", "fr")[0]).toMatchObject({ usage: 0x27, modifiers: [HID_MODIFIER.rightAlt] });
		expect(strokes("€", "de")[0]).toMatchObject({ usage: 0x08, keysym: 0x20ac });
	});

	test("a character the layout cannot type is a clear error", () => {
		const e = errorOf(() => plan("ok ß", "us"));
		expect(e.code).toBe("BAD_INPUT");
		expect(e.message).toBe("Character 4 of the text is a character the us keyboard layout cannot type.");
		const s = errorOf(() => planKeys("{secret X}", { layout: "us", secret: () => "pässword" }));
		expect(s.message).toBe(
			"Secret X cannot be typed: its character 2 is a character the us keyboard layout cannot type.",
		);
		expect(s.message + (s.hint ?? "")).not.toContain("ä");
	});

	test("chords: a letter names the key, modifiers in order, SysRq held like a modifier", () => {
		expect(strokes("{Ctrl+C}")[0]).toEqual({
			kind: "stroke",
			usage: 0x06,
			modifiers: [0xe0],
			keysym: 0x63,
			modifierKeysyms: [0xffe3],
			label: "Ctrl+C",
		});
		expect(strokes("{Ctrl+Alt+Delete}")[0]).toMatchObject({ usage: 0x4c, modifiers: [0xe0, 0xe2], keysym: 0xffff });
		expect(strokes("{Alt+F2}")[0]).toMatchObject({ usage: 0x3b, modifiers: [0xe2], modifierKeysyms: [0xffe9] });
		expect(strokes("{Shift+Tab}")[0]).toMatchObject({ usage: 0x2b, modifiers: [0xe1] });
		expect(strokes("{Meta+R}")[0]).toMatchObject({ usage: 0x15, modifiers: [0xe3], modifierKeysyms: [0xffeb] });
		expect(strokes("{Alt+SysRq+b}")[0]).toMatchObject({
			usage: 0x05,
			modifiers: [0xe2, 0x46],
			modifierKeysyms: [0xffe9, 0xff61],
			label: "Alt+SysRq+b",
		});
		expect(strokes("{Ctrl+z}", "de")[0]).toMatchObject({ usage: 0x1c, modifiers: [0xe0] });
	});

	test("\\n and \\t are Enter and Tab; the key delay goes between strokes", () => {
		expect(strokes("a\nb\t").map((s) => s.label)).toEqual(["char", "Enter", "char", "Tab"]);
		const paced = planKeys("ab{wait 5}c", { layout: "us", secret: () => undefined, keyDelayMs: 7 });
		expect(paced.steps.map((s) => (s.kind === "wait" ? `w${s.ms}` : s.keysym.toString(16)))).toEqual([
			"61",
			"w7",
			"62",
			"w5",
			"w7",
			"63",
		]);
	});
});

describe("scan codes", () => {
	test("set 1 codes and QEMU keycodes", () => {
		expect(xtScancode(0x04)).toBe(0x1e);
		expect(xtScancode(0x28)).toBe(0x1c);
		expect(xtScancode(0x4c)).toBe(0xe053);
		expect(qemuKeycode(0x4c)).toBe(0xd3);
		expect(qemuKeycode(0xe6)).toBe(0xb8);
		expect(qemuKeycode(0x45)).toBe(0x58);
		expect(xtScancode(0x99)).toBeUndefined();
		expect(new Set(SCANCODE_USAGES.map((u) => xtScancode(u))).size).toBeGreaterThan(85);
	});
});

describe("pointer plans", () => {
	test("click, double click, down/up, scroll", () => {
		expect(planPointer("click", 10, 20).steps).toEqual([
			{ kind: "pointer", x: 10, y: 20, buttons: 0 },
			{ kind: "pointer", x: 10, y: 20, buttons: 1 },
			{ kind: "wait", ms: 30 },
			{ kind: "pointer", x: 10, y: 20, buttons: 0 },
		]);
		const dbl = planPointer("double_click", 1, 2, { button: "right" }).steps;
		expect(dbl.filter((s) => s.kind === "pointer" && s.buttons === POINTER_BUTTON.right)).toHaveLength(2);
		expect(dbl.at(-1)).toEqual({ kind: "pointer", x: 1, y: 2, buttons: 0 });
		const down = planPointer("down", 5, 5, { button: "middle" });
		expect(down.held).toBe(2);
		expect(planPointer("move", 9, 9, { held: down.held }).steps).toEqual([{ kind: "pointer", x: 9, y: 9, buttons: 2 }]);
		expect(planPointer("up", 9, 9, { held: 2, button: "middle" })).toEqual({
			steps: [
				{ kind: "pointer", x: 9, y: 9, buttons: 2 },
				{ kind: "pointer", x: 9, y: 9, buttons: 0 },
			],
			held: 0,
		});
		const scroll = planPointer("scroll", 3, 4, { amount: 2 }).steps;
		expect(scroll.map((s) => (s.kind === "pointer" ? s.buttons : -1))).toEqual([0, 16, 0, 16, 0]);
		expect(
			planPointer("scroll", 3, 4, { amount: -1 }).steps.map((s) => (s.kind === "pointer" ? s.buttons : -1)),
		).toEqual([0, 8, 0]);
		expect(errorOf(() => planPointer("scroll", 0, 0, { amount: 0 })).code).toBe("BAD_INPUT");
		expect(errorOf(() => planPointer("scroll", 0, 0, { amount: 51 })).code).toBe("BAD_INPUT");
	});
});
