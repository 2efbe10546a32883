/**
 * `bun run scripts/gen-fonts.ts`: builds the glyph tables in src/text/fonts/ from Debian's
 * console-setup fonts (package console-setup-linux, /usr/share/consolefonts/*.psf.gz), so the
 * shipped tables are reproducible. Install with:
 *   DEBIAN_FRONTEND=noninteractive apt-get install -y console-setup-linux keyboard-configuration
 *
 * Only the characters a console recogniser needs are kept (ASCII, Latin-1, the rest of code page 437:
 * box drawing, blocks, arrows), one glyph per distinct bitmap. Licences: see src/text/fonts/LICENSE-*.txt.
 * `--check` compares instead of writing (exit 1 on a difference).
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { CP437 } from "../src/text/cp437.ts";
import type { FontTable } from "../src/text/fonts/types.ts";

export const FONT_DIR = "/usr/share/consolefonts";
const OUT_DIR = join(import.meta.dir, "../src/text/fonts");

interface Spec {
	id: string;
	/** console-setup face, e.g. "VGA16"; read from the codeset files in CODESETS order. */
	face: string;
	bdf: string;
}

/**
 * Codesets read for each face, first wins per character. FullGreek has dedicated glyphs for all of code page 437's
 * box drawing; Uni2 draws double lines with single-line glyphs but has the few characters FullGreek lacks.
 */
const CODESETS = ["FullGreek", "Uni2"];

interface Group {
	/** Output module name (src/text/fonts/<module>.ts) and export name. */
	module: string;
	license: string;
	specs: Spec[];
}

const terminus = (id: string, face: string, bdf: string): Spec => ({ id, face, bdf });

export const GROUPS: Group[] = [
	{
		module: "vga",
		license:
			"u_vga16.bdf: MIT-style notice © 2000, 2001 Dmitry Bolkhovityanov; legacy*.bdf: public domain — LICENSE-vga.txt",
		specs: [
			{ id: "vga16", face: "VGA16", bdf: "u_vga16.bdf + legacy16*.bdf" },
			{ id: "vga14", face: "VGA14", bdf: "legacy14*.bdf" },
			{ id: "vga8", face: "VGA8", bdf: "legacy8*.bdf" },
		],
	},
	{
		module: "fixed",
		license: "public domain (console-setup) with the unifont.bdf and efont h16.bdf notices — LICENSE-fixed.txt",
		specs: [
			{ id: "fixed16", face: "Fixed16", bdf: "unifont.bdf + h16.bdf + etl16-unicode.bdf" },
			{ id: "fixed14", face: "Fixed14", bdf: "7x14*.bdf + h14.bdf + etl14-unicode.bdf" },
		],
	},
	{
		module: "terminus",
		license: "SIL Open Font License 1.1, © 2010 Dimitar Toshkov Zhekov — LICENSE-terminus.txt",
		specs: [
			terminus("ter-u12n", "Terminus12x6", "ter-u12n.bdf"),
			terminus("ter-u14n", "Terminus14", "ter-u14n.bdf"),
			terminus("ter-u14b", "TerminusBold14", "ter-u14b.bdf"),
			terminus("ter-u16n", "Terminus16", "ter-u16n.bdf"),
			terminus("ter-u16b", "TerminusBold16", "ter-u16b.bdf"),
			terminus("ter-u16v", "TerminusBoldVGA16", "ter-u16v.bdf"),
			terminus("ter-u18n", "Terminus18x10", "ter-u18n.bdf"),
			terminus("ter-u20n", "Terminus20x10", "ter-u20n.bdf"),
			terminus("ter-u22n", "Terminus22x11", "ter-u22n.bdf"),
			terminus("ter-u24n", "Terminus24x12", "ter-u24n.bdf"),
			terminus("ter-u28n", "Terminus28x14", "ter-u28n.bdf"),
			terminus("ter-u32n", "Terminus32x16", "ter-u32n.bdf"),
			terminus("ter-u32b", "TerminusBold32x16", "ter-u32b.bdf"),
		],
	},
];

export interface PsfFont {
	width: number;
	height: number;
	bytesPerRow: number;
	/** Raw rows of each glyph. */
	glyphs: Uint8Array[];
	/** Code points of each glyph (single code points only; sequences are dropped). */
	unicode: number[][];
}

/** Parses a PSF1 or PSF2 font (uncompressed bytes). */
export function parsePsf(data: Uint8Array): PsfFont {
	const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
	if (data[0] === 0x36 && data[1] === 0x04) {
		const mode = data[2] ?? 0;
		const height = data[3] ?? 0;
		const count = mode & 1 ? 512 : 256;
		const glyphs: Uint8Array[] = [];
		for (let i = 0; i < count; i++) glyphs.push(data.subarray(4 + i * height, 4 + (i + 1) * height));
		const unicode: number[][] = glyphs.map(() => []);
		if (mode & 0x06) {
			let p = 4 + count * height;
			for (let g = 0; g < count; g++) {
				let inSequence = false;
				for (;;) {
					const u = view.getUint16(p, true);
					p += 2;
					if (u === 0xffff) break;
					if (u === 0xfffe) inSequence = true;
					else if (!inSequence) unicode[g]?.push(u);
				}
			}
		}
		return { width: 8, height, bytesPerRow: 1, glyphs, unicode };
	}
	if (view.getUint32(0, true) === 0x864ab572) {
		const headerSize = view.getUint32(8, true);
		const flags = view.getUint32(12, true);
		const count = view.getUint32(16, true);
		const charSize = view.getUint32(20, true);
		const height = view.getUint32(24, true);
		const width = view.getUint32(28, true);
		const glyphs: Uint8Array[] = [];
		for (let i = 0; i < count; i++) {
			glyphs.push(data.subarray(headerSize + i * charSize, headerSize + (i + 1) * charSize));
		}
		const unicode: number[][] = glyphs.map(() => []);
		if (flags & 1) {
			let p = headerSize + count * charSize;
			const decoder = new TextDecoder();
			for (let g = 0; g < count; g++) {
				let start = p;
				let inSequence = false;
				for (;;) {
					const b = data[p];
					if (b === 0xff || b === 0xfe || b === undefined) {
						if (!inSequence && p > start) {
							for (const ch of decoder.decode(data.subarray(start, p))) unicode[g]?.push(ch.codePointAt(0) ?? 0);
						}
						p++;
						if (b !== 0xfe) break;
						inSequence = true;
						start = p;
					} else p++;
				}
			}
		}
		return { width, height, bytesPerRow: Math.ceil(width / 8), glyphs, unicode };
	}
	throw new Error("not a PSF1/PSF2 font");
}

/** Lower is preferred when two code points share a bitmap: ASCII, then Latin-1, then the rest of CP437. */
function priority(cp: number): number {
	if (cp >= 0x20 && cp <= 0x7e) return cp;
	if (cp >= 0xa1 && cp <= 0xff && cp !== 0xad) return 0x1000 + cp;
	const i = CP437.indexOf(cp);
	return i > 0 ? 0x2000 + i : -1;
}

export function buildTable(spec: Spec, license: string, fonts: PsfFont[], version: string): FontTable {
	const first = fonts[0];
	if (!first || fonts.some((f) => f.width !== first.width || f.height !== first.height)) {
		throw new Error(`${spec.id}: codeset files disagree on the cell size`);
	}
	const isWanted = (cp: number) => priority(cp) >= 0;
	// Per font: code point → glyph, and whether that glyph is also some other wanted character (a stand-in).
	const pick = new Map<number, Uint8Array>();
	const fallback = new Map<number, Uint8Array>();
	for (const font of fonts) {
		font.glyphs.forEach((glyph, g) => {
			const cps = (font.unicode[g] ?? []).filter(isWanted);
			for (const cp of cps) {
				if (cps.length === 1 && !pick.has(cp)) pick.set(cp, glyph);
				if (!fallback.has(cp)) fallback.set(cp, glyph);
			}
		});
	}
	for (const [cp, glyph] of fallback) if (!pick.has(cp)) pick.set(cp, glyph);
	const wanted = [...pick.keys()].sort((a, b) => priority(a) - priority(b));
	const seen = new Set<string>();
	let chars = "";
	const rows: number[] = [];
	for (const cp of wanted) {
		const glyph = pick.get(cp) as Uint8Array;
		const key = Buffer.from(glyph).toString("hex");
		if (seen.has(key)) continue;
		seen.add(key);
		chars += String.fromCodePoint(cp);
		rows.push(...glyph);
	}
	const files = CODESETS.map((c) => `${c}-${spec.face}.psf.gz`).join(" + ");
	return {
		id: spec.id,
		width: first.width,
		height: first.height,
		source: `Debian console-setup-linux ${version}, ${files} (built from ${spec.bdf})`,
		license,
		chars,
		glyphs: Buffer.from(rows).toString("base64"),
	};
}

function packageVersion(): string {
	try {
		return execFileSync("dpkg-query", ["-W", `-f=${"$"}{Version}`, "console-setup-linux"], { encoding: "utf8" }).trim();
	} catch {
		return "unknown";
	}
}

export function renderModule(group: Group, tables: FontTable[]): string {
	const header = [
		"// Generated by scripts/gen-fonts.ts from Debian's console-setup fonts. Do not edit by hand.",
		`// Glyph data licence: ${group.license}`,
		'import type { FontTable } from "./types.ts";',
		"",
	];
	const body = tables.map((t) => {
		const name = t.id.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
		return `export const ${name}: FontTable = ${JSON.stringify(t, null, "\t")};\n`;
	});
	return `${header.join("\n")}\n${body.join("\n")}`;
}

export function generate(): Map<string, string> {
	const version = packageVersion();
	const out = new Map<string, string>();
	for (const group of GROUPS) {
		const tables = group.specs.map((spec) => {
			const fonts = CODESETS.map((c) => parsePsf(gunzipSync(readFileSync(join(FONT_DIR, `${c}-${spec.face}.psf.gz`)))));
			return buildTable(spec, group.license, fonts, version);
		});
		out.set(join(OUT_DIR, `${group.module}.ts`), renderModule(group, tables));
	}
	return out;
}

function formatted(files: Map<string, string>): Map<string, string> {
	// Biome owns the layout of committed code; format the generated text the same way.
	const result = new Map<string, string>();
	for (const [path, text] of files) {
		const out = execFileSync("bunx", ["biome", "format", `--stdin-file-path=${path}`], {
			input: text,
			encoding: "utf8",
			cwd: join(import.meta.dir, ".."),
		});
		result.set(path, out);
	}
	return result;
}

if (import.meta.main) {
	if (!existsSync(join(FONT_DIR, "FullGreek-VGA16.psf.gz"))) {
		console.error(`${FONT_DIR} has no console-setup fonts: apt-get install -y console-setup-linux`);
		process.exit(2);
	}
	const check = process.argv.includes("--check");
	const files = formatted(generate());
	let differ = 0;
	for (const [path, text] of files) {
		if (check) {
			const current = existsSync(path) ? readFileSync(path, "utf8") : "";
			if (current !== text) {
				console.error(`differs: ${path}`);
				differ++;
			}
		} else {
			writeFileSync(path, text);
			console.error(`wrote ${path}`);
		}
	}
	process.exit(differ > 0 ? 1 : 0);
}
