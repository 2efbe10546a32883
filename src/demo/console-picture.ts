/**
 * Text-console pictures for the demo's mock consoles, tests and benchmarks:
 * 8x16 character cells drawn with the shipped VGA console font, light grey on
 * black by default.
 */
import type { Picture } from "../frame.ts";
import { vga16 } from "../text/fonts/vga.ts";

export interface ConsoleLine {
	text: string;
	/** Foreground RGB, default VGA light grey (170, 170, 170). */
	fg?: readonly [number, number, number];
	/** Background RGB, default black. */
	bg?: readonly [number, number, number];
}

/** A rendered console screen. */
export type ConsolePicture = Picture;

/** The VGA 8x16 console font we ship (console-setup, MIT-style licence: see src/text/fonts/LICENSE-vga.txt). */
const FONT = vga16;
const FONT_BITS = Buffer.from(FONT.glyphs, "base64");
const GLYPH_INDEX = new Map([...FONT.chars].map((c, i) => [c, i]));

function glyphRow(char: string, row: number): number {
	const g = GLYPH_INDEX.get(char);
	return g === undefined ? 0 : (FONT_BITS[g * FONT.height + row] ?? 0);
}

const LIGHT_GREY = [170, 170, 170] as const;
const BLACK = [0, 0, 0] as const;

/** Draws `lines` (one per 16-pixel row, characters the font lacks blank) on a black screen. */
export function renderConsole(width: number, height: number, lines: readonly ConsoleLine[]): ConsolePicture {
	const rgba = new Uint8Array(width * height * 4);
	for (let i = 3; i < rgba.length; i += 4) rgba[i] = 255;
	lines.forEach((line, row) => {
		const fg = line.fg ?? LIGHT_GREY;
		const bg = line.bg ?? BLACK;
		const top = row * 16;
		if (top >= height) return;
		for (let y = top; y < Math.min(height, top + 16); y++) {
			for (let x = 0; x < width; x++) {
				const bits = glyphRow(line.text[Math.floor(x / 8)] ?? " ", y - top);
				const on = (bits >> (7 - (x % 8))) & 1;
				const c = on ? fg : bg;
				const o = (y * width + x) * 4;
				rgba[o] = c[0];
				rgba[o + 1] = c[1];
				rgba[o + 2] = c[2];
			}
		}
	});
	return { width, height, rgba };
}

const BOOT_LOG = [
	"[    0.000000] Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org)",
	"[    0.000000] Command line: BOOT_IMAGE=/boot/vmlinuz-6.1.0-18-amd64 root=/dev/sda1 ro quiet",
	"[    0.412345] ACPI: PM-Timer IO Port: 0x408",
	"[    1.203311] NET: Registered PF_INET6 protocol family",
	'[    2.118400] VFS: Cannot open root device "sda1" or unknown-block(0,0): error -6',
	'[    2.118512] Please append a correct "root=" boot option; here are the available partitions:',
	"[    2.118700] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)",
	"[    2.118811] CPU: 0 PID: 1 Comm: swapper/0 Not tainted 6.1.0-18-amd64 #1  Debian 6.1.76-1",
	"[    2.118920] Hardware name: ASRockRack E3C246D4U2-2T/E3C246D4U2-2T, BIOS L2.34 05/19/2022",
	"[    2.119001] Call Trace:",
	"[    2.119100]  <TASK>",
	"[    2.119200]  dump_stack_lvl+0x44/0x5c",
	"[    2.119300]  panic+0x118/0x2ed",
	"[    2.119400]  mount_block_root+0x1d3/0x1e6",
	"[    2.119500]  prepare_namespace+0x136/0x165",
	"[    2.119600]  kernel_init_freeable+0x25c/0x286",
	"[    2.119700] ---[ end Kernel panic - not syncing: VFS: Unable to mount root fs ]---",
];

/** A kernel-panic-like text screen filling the picture (the boot log repeats to fill the rows). */
export function sampleConsolePicture(width: number, height: number): ConsolePicture {
	const rows = Math.ceil(height / 16);
	const lines: ConsoleLine[] = [];
	for (let r = 0; r < rows; r++) {
		const text = BOOT_LOG[r % BOOT_LOG.length] ?? "";
		lines.push({ text, fg: r % BOOT_LOG.length === 6 ? [255, 255, 255] : LIGHT_GREY });
	}
	return renderConsole(width, height, lines);
}
