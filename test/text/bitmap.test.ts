import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { recognizeBitmap } from "../../src/text/bitmap.ts";
import { FONTS } from "../../src/text/fonts/index.ts";
import { terU16n, terU32b } from "../../src/text/fonts/terminus.ts";
import type { FontTable } from "../../src/text/fonts/types.ts";
import { vga8, vga16 } from "../../src/text/fonts/vga.ts";
import { jpegRoundTrip, loadFrame, renderConsole, VGA } from "../support/console-render.ts";

const FIXTURES = join(import.meta.dir, "../fixtures/text");

/** Every character of a font, laid out in rows of `cols` with a blank column between groups. */
function charsetLines(font: FontTable, cols: number): string[] {
	const chars = [...font.chars].filter((c) => c !== " ");
	const lines: string[] = [];
	for (let i = 0; i < chars.length; i += cols / 2) {
		lines.push(
			chars
				.slice(i, i + cols / 2)
				.map((c) => `${c} `)
				.join("")
				.trimEnd(),
		);
	}
	return lines;
}

const BOOT = [
	"GRUB loading.",
	"Welcome to GRUB!",
	"",
	"error: no such device: 3f2a-11c9.",
	"Entering rescue mode...",
	"grub rescue> ls (hd0,gpt2)/boot",
	"[0.00] Linux 6.1.0 (gcc 12.2) #1 {x} | ~ ` ^ & * % $ @ ! ? < > = ; : ' \" \\",
];

describe("bitmap-font recognition", () => {
	test("every glyph of every shipped font reads back exactly, in its own cell size", () => {
		for (const font of FONTS) {
			const cols = Math.floor(1024 / font.width);
			const lines = charsetLines(font, cols);
			const frame = renderConsole(lines, { font, cols, rows: lines.length + 2 });
			const result = recognizeBitmap(frame);
			expect({ font: font.id, lines: result.lines }).toEqual({ font: font.id, lines });
			expect(result.confidence).toBe(1);
		}
	});

	test("VGA text mode: 9-dot cells with line graphics extended into the 9th column", () => {
		const lines = [
			"╔══════════════════╗",
			"║ Boot menu        ║",
			"╟──────────────────╢",
			"║ ▲ Debian  ▲▼ ░▒▓ ║",
			"╚══════════════════╝",
			"┌─┬─┐ █▄▀▌▐ ",
			"└─┴─┘ Ç ü é ß ±",
		];
		const frame = renderConsole(lines, { font: vga16, cols: 80, rows: 25, cellWidth: 9 });
		expect([frame.width, frame.height]).toEqual([720, 400]);
		const result = recognizeBitmap(frame);
		expect(result.grid).toMatchObject({ cellWidth: 9, cellHeight: 16, cols: 80, rows: 25, offsetX: 0, offsetY: 0 });
		expect(result.lines).toEqual(lines.map((l) => l.trimEnd()));
	});

	test("colours, inverse video and a dialog box: each cell against its own background", () => {
		const lines = [
			" Setup                                   ",
			"                                         ",
			"   ┌──────── Configure ────────┐         ",
			"   │ Keyboard layout:          │         ",
			"   │   English (US)            │         ",
			"   │   German                  │         ",
			"   │         <Ok>    <Cancel>  │         ",
			"   └───────────────────────────┘         ",
		];
		const colours = (col: number, row: number) => {
			if (row === 0) return { fg: VGA.black, bg: VGA.cyan };
			if (row >= 2 && row <= 7 && col >= 3 && col <= 31) {
				if (row === 4 && col >= 6 && col <= 17) return { fg: VGA.white, bg: VGA.blue }; // highlighted item
				if (row === 6 && col >= 12 && col <= 15) return { fg: VGA.yellow, bg: VGA.red };
				return { fg: VGA.black, bg: VGA.grey };
			}
			return { fg: VGA.white, bg: VGA.blue };
		};
		const frame = renderConsole(lines, { font: vga16, cols: 80, rows: 25, cellWidth: 9, colours });
		const result = recognizeBitmap(frame);
		expect(result.lines).toEqual(lines.map((l) => l.trimEnd()));
		expect(result.confidence).toBe(1);
	});

	test("low-contrast pairs (dark blue on black, red on green) are read on their best channel", () => {
		const lines = ["dark blue on black", "red on green"];
		const frame = renderConsole(lines, {
			font: vga16,
			cols: 80,
			rows: 25,
			colours: (_c, row) => (row === 0 ? { fg: VGA.blue, bg: VGA.black } : { fg: VGA.red, bg: VGA.green }),
		});
		expect(recognizeBitmap(frame).lines).toEqual(lines);
	});

	test("a grid that does not start at the origin is found (border, centred console)", () => {
		const lines = ["Loading Linux 6.1.0-56-amd64 ...", "Loading initial ramdisk ...", "  x = (a + b) * 42;"];
		const frame = renderConsole(lines, {
			font: vga16,
			cols: 60,
			rows: 20,
			offsetX: 37,
			offsetY: 11,
			width: 560,
			height: 360,
			margin: VGA.darkGrey,
		});
		const result = recognizeBitmap(frame);
		expect(result.grid).toMatchObject({ offsetX: 37 % 8, offsetY: 11 % 16, cellWidth: 8, cellHeight: 16 });
		const trimmed = result.lines.map((l) => l.trim()).filter(Boolean);
		expect(trimmed).toEqual(lines.map((l) => l.trim()));
	});

	test("8x8 (80x50), Terminus 8x16 and 16x32 framebuffer fonts", () => {
		for (const [font, cellWidth] of [
			[vga8, 9],
			[vga8, 8],
			[terU16n, 8],
			[terU32b, 16],
		] as const) {
			const frame = renderConsole(BOOT, { font, cols: 100, rows: 12, cellWidth });
			const result = recognizeBitmap(frame);
			expect({ font: font.id, cellWidth, lines: result.lines }).toEqual({ font: font.id, cellWidth, lines: BOOT });
		}
	});

	test("a blinking cursor (an underline bar) does not change the text under it", () => {
		const lines = ["login: root", "Password: _"];
		for (const cursor of [
			{ col: 11, row: 0, from: 13, to: 14 }, // vgacon underline, on a blank cell
			{ col: 4, row: 0, from: 14, to: 15 }, // BIOS cursor on "n"
			{ col: 10, row: 1, from: 14, to: 15 }, // on "_"
		]) {
			const frame = renderConsole(lines, { font: vga16, cols: 80, rows: 25, cellWidth: 9, cursor });
			expect(recognizeBitmap(frame).lines).toEqual(lines);
		}
	});

	test("region: only the cells inside the rectangle, layout kept", () => {
		const frame = renderConsole(BOOT, { font: vga16, cols: 80, rows: 25, cellWidth: 9 });
		const result = recognizeBitmap(frame, { region: { x: 9 * 6, y: 16 * 3, width: 9 * 10, height: 16 * 3 } });
		expect(result.lines).toEqual([" no such d", "ng rescue", "escue> ls"]);
	});

	test("a blank screen has no text and full confidence", () => {
		const frame = renderConsole([], { font: vga16, cols: 80, rows: 25, cellWidth: 9 });
		const result = recognizeBitmap(frame);
		expect(result.lines).toEqual([]);
		expect(result.inkedCells).toBe(0);
		expect(result.confidence).toBe(1);
	});

	test("JPEG 4:2:0 at quality 75 and 50: still exact", async () => {
		const colours = (_c: number, row: number) =>
			row % 3 === 0 ? { fg: VGA.white, bg: VGA.blue } : { fg: VGA.grey, bg: VGA.black };
		const clean = renderConsole(BOOT, { font: vga16, cols: 80, rows: 25, cellWidth: 9, colours });
		for (const quality of [75, 50]) {
			const noisy = await jpegRoundTrip(clean, quality);
			const result = recognizeBitmap(noisy);
			expect({ quality, lines: result.lines }).toEqual({ quality, lines: BOOT });
			expect(result.confidence).toBeGreaterThan(0.8);
		}
	});
});

describe("real QEMU screens", () => {
	for (const name of ["qemu-vga-panic-720x400", "qemu-fbcon-panic-1024x768"]) {
		test(`${name}: exactly the kernel's text, also after JPEG 4:2:0 q75`, async () => {
			const truth = (await Bun.file(join(FIXTURES, `${name}.txt`)).text()).trimEnd().split("\n");
			const frame = await loadFrame(join(FIXTURES, `${name}.png`));
			const result = recognizeBitmap(frame);
			expect(result.lines).toEqual(truth);
			expect(result.font).toBe("vga16");
			expect(result.confidence).toBeGreaterThan(0.8);
			const noisy = recognizeBitmap(await jpegRoundTrip(frame, 75));
			expect(noisy.lines).toEqual(truth);
		});
	}

	test("the panic line is where the screen shows it", async () => {
		const frame = await loadFrame(join(FIXTURES, "qemu-vga-panic-720x400.png"));
		const result = recognizeBitmap(frame);
		expect(result.lines[3]).toBe("[    4.699022] Kernel panic - not syncing: VFS: Unable to mount root fs on unkno");
		expect(result.grid).toEqual({ cols: 80, rows: 25, cellWidth: 9, cellHeight: 16, offsetX: 0, offsetY: 0 });
	});
});

describe("the console fixture set (test/fixtures/screens)", () => {
	const dir = join(import.meta.dir, "../fixtures/screens");
	const names = readdirSync(dir)
		.filter((f) => f.endsWith(".png") && !/uefi|graphical/.test(f))
		.map((f) => f.replace(/\.png$/, ""));
	test("there are console fixtures to read", () => {
		expect(names.length).toBeGreaterThanOrEqual(8);
	});
	for (const name of names) {
		test(`${name}: every character exactly`, async () => {
			const truth = (await Bun.file(join(dir, `${name}.txt`)).text())
				.replace(/\n+$/, "")
				.split("\n")
				.map((l) => l.trimEnd());
			const result = recognizeBitmap(await loadFrame(join(dir, `${name}.png`)));
			expect(result.lines).toEqual(truth);
			expect(result.confidence).toBeGreaterThanOrEqual(0.8);
		});
	}
});
