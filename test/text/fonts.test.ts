import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { FONT_DIR, GROUPS, generate } from "../../scripts/gen-fonts.ts";
import { CP437, LINE_GRAPHICS } from "../../src/text/cp437.ts";
import { FONTS } from "../../src/text/fonts/index.ts";

const FONTS_DIR = join(import.meta.dir, "../../src/text/fonts");
const installed = existsSync(join(FONT_DIR, "FullGreek-VGA16.psf.gz"));
if (!installed) console.log(`skipping the font reproducibility check: no console-setup fonts in ${FONT_DIR}`);

describe("glyph tables", () => {
	test("every shipped table names its source and a licence file that exists", () => {
		for (const font of FONTS) {
			expect(font.source).toContain("console-setup");
			const file = /LICENSE-\w+\.txt/.exec(font.license)?.[0];
			expect({ id: font.id, file }).toEqual({ id: font.id, file: expect.any(String) });
			expect(existsSync(join(FONTS_DIR, file as string))).toBe(true);
		}
		expect(readFileSync(join(FONTS_DIR, "LICENSE-terminus.txt"), "utf8")).toContain(
			"SIL OPEN FONT LICENSE Version 1.1",
		);
		expect(readFileSync(join(FONTS_DIR, "LICENSE-vga.txt"), "utf8")).toContain("Dmitry Bolkhovityanov");
	});

	test("tables hold the console character set, one glyph per character and per bitmap", () => {
		for (const font of FONTS) {
			const chars = [...font.chars];
			expect(new Set(chars).size).toBe(chars.length);
			const bytes = Buffer.from(font.glyphs, "base64");
			expect(bytes.length).toBe(chars.length * font.height * Math.ceil(font.width / 8));
			const bitmaps = new Set(
				chars.map((_, g) =>
					bytes
						.subarray(g * font.height * Math.ceil(font.width / 8), (g + 1) * font.height * Math.ceil(font.width / 8))
						.toString("hex"),
				),
			);
			expect(bitmaps.size).toBe(chars.length);
			for (const c of "AZaz09[]{}()<>|\\/-_=+*&^%$#@!~`'\":;,.?") expect(chars).toContain(c);
		}
	});

	test("code page 437: 256 code points, line graphics are 0xC0–0xDF", () => {
		expect(CP437).toHaveLength(256);
		expect(String.fromCodePoint(CP437[0xc4] as number)).toBe("─");
		expect(String.fromCodePoint(CP437[0xdb] as number)).toBe("█");
		expect(LINE_GRAPHICS.size).toBe(32);
		expect(LINE_GRAPHICS.has(0x2500)).toBe(true);
		expect(LINE_GRAPHICS.has(0x2502)).toBe(false); // │ is 0xB3: its 9th column stays blank
	});

	test.skipIf(!installed)(
		"the committed tables are exactly what scripts/gen-fonts.ts makes from the installed fonts",
		() => {
			const generated = generate();
			expect(generated.size).toBe(GROUPS.length);
			for (const [path, text] of generated) {
				// Compare the data, not the formatting (the script formats with Biome before writing).
				const committed = readFileSync(path, "utf8");
				const data = (s: string) => [...s.matchAll(/"?(glyphs|chars)"?:\s*"((?:[^"\\]|\\.)*)"/g)].map((m) => m[2]);
				expect(data(committed)).toEqual(data(text));
			}
		},
	);
});
