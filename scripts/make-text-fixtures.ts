/**
 * `bun run scripts/make-text-fixtures.ts`: renders the graphical fixture screens in
 * test/fixtures/text/ (anti-aliased proportional text, as graphical BIOS setups and installers
 * draw it) with their ground-truth .txt. Needs the DejaVu fonts (Debian fonts-dejavu-core) for
 * librsvg/Pango through sharp. The QEMU fixtures there are real screendumps, not made here.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import sharp, { type OverlayOptions } from "sharp";

const OUT = join(import.meta.dir, "../test/fixtures/text");

interface Label {
	x: number;
	y: number;
	text: string;
	colour: string;
	size: number;
	font?: string;
}

interface Screen {
	name: string;
	width: number;
	height: number;
	background: string;
	boxes: Array<{ x: number; y: number; width: number; height: number; colour: string }>;
	labels: Label[];
}

const escapeMarkup = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

async function render(screen: Screen): Promise<void> {
	const layers: OverlayOptions[] = [];
	for (const box of screen.boxes) {
		layers.push({
			input: {
				create: { width: box.width, height: box.height, channels: 4, background: box.colour },
			},
			left: box.x,
			top: box.y,
		});
	}
	for (const label of screen.labels) {
		const input = await sharp({
			text: {
				text: `<span foreground="${label.colour}">${escapeMarkup(label.text)}</span>`,
				font: `${label.font ?? "DejaVu Sans"} ${label.size}`,
				rgba: true,
				dpi: 72,
			},
		})
			.png()
			.toBuffer();
		layers.push({ input, left: label.x, top: label.y });
	}
	const png = await sharp({
		create: { width: screen.width, height: screen.height, channels: 3, background: screen.background },
	})
		.composite(layers)
		.png()
		.toBuffer();
	writeFileSync(join(OUT, `${screen.name}.png`), png);
	// Ground truth: labels grouped into rows by their top edge, left to right.
	const rows = new Map<number, Label[]>();
	for (const label of screen.labels) rows.set(label.y, [...(rows.get(label.y) ?? []), label]);
	const lines = [...rows.entries()]
		.sort(([a], [b]) => a - b)
		.map(([, row]) =>
			row
				.sort((a, b) => a.x - b.x)
				.map((l) => l.text)
				.join("  "),
		);
	writeFileSync(join(OUT, `${screen.name}.txt`), `${lines.join("\n")}\n`);
}

const white = "#ffffff";
const grey = "#c8c8c8";
const setup: Screen = {
	name: "graphical-setup-1024x768",
	width: 1024,
	height: 768,
	background: "#0a2456",
	boxes: [
		{ x: 0, y: 0, width: 1024, height: 48, colour: "#1b4f9c" },
		{ x: 40, y: 120, width: 600, height: 34, colour: "#2f6fd0" },
		{ x: 680, y: 80, width: 2, height: 640, colour: "#6d8fc7" },
	],
	labels: [
		{ x: 24, y: 12, text: "System Setup", colour: white, size: 22 },
		{ x: 40, y: 80, text: "Main", colour: white, size: 18 },
		{ x: 140, y: 80, text: "Advanced", colour: grey, size: 18 },
		{ x: 290, y: 80, text: "Boot", colour: grey, size: 18 },
		{ x: 390, y: 80, text: "Security", colour: grey, size: 18 },
		{ x: 530, y: 80, text: "Exit", colour: grey, size: 18 },
		{ x: 48, y: 126, text: "Boot Mode", colour: white, size: 18 },
		{ x: 420, y: 126, text: "UEFI", colour: white, size: 18 },
		{ x: 48, y: 176, text: "Secure Boot", colour: grey, size: 18 },
		{ x: 420, y: 176, text: "Disabled", colour: grey, size: 18 },
		{ x: 48, y: 226, text: "Boot Option 1", colour: grey, size: 18 },
		{ x: 420, y: 226, text: "Network PXE", colour: grey, size: 18 },
		{ x: 48, y: 276, text: "Boot Option 2", colour: grey, size: 18 },
		{ x: 420, y: 276, text: "NVMe Samsung 980", colour: grey, size: 18 },
		{ x: 48, y: 326, text: "Memory Frequency", colour: grey, size: 18 },
		{ x: 420, y: 326, text: "3200 MHz", colour: grey, size: 18 },
		{ x: 700, y: 126, text: "Select the firmware", colour: grey, size: 16 },
		{ x: 700, y: 156, text: "boot mode for the", colour: grey, size: 16 },
		{ x: 700, y: 186, text: "next start.", colour: grey, size: 16 },
		{ x: 700, y: 600, text: "F1 Help", colour: white, size: 16 },
		{ x: 700, y: 630, text: "F10 Save and Exit", colour: white, size: 16 },
		{ x: 700, y: 660, text: "ESC Exit", colour: white, size: 16 },
	],
};

const installer: Screen = {
	name: "graphical-installer-800x600",
	width: 800,
	height: 600,
	background: "#e8e8e8",
	boxes: [
		{ x: 0, y: 0, width: 800, height: 64, colour: "#2d2d2d" },
		{ x: 60, y: 200, width: 680, height: 30, colour: "#3465a4" },
	],
	labels: [
		{ x: 24, y: 18, text: "Install the operating system", colour: white, size: 22 },
		{ x: 60, y: 100, text: "Select a language", colour: "#202020", size: 20 },
		{ x: 60, y: 140, text: "Choose the language used for the installation process.", colour: "#303030", size: 16 },
		{ x: 70, y: 205, text: "English", colour: white, size: 16 },
		{ x: 70, y: 245, text: "Deutsch", colour: "#202020", size: 16 },
		{ x: 70, y: 285, text: "Francais", colour: "#202020", size: 16 },
		{ x: 70, y: 325, text: "Nederlands", colour: "#202020", size: 16 },
		{ x: 60, y: 540, text: "Go Back", colour: "#202020", size: 16 },
		{ x: 640, y: 540, text: "Continue", colour: "#202020", size: 16 },
	],
};

for (const screen of [setup, installer]) await render(screen);
console.error(`wrote ${OUT}`);
