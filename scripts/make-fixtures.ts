/**
 * Makes the real-console fixture set in test/fixtures/screens/ (not run by CI):
 *
 *   bun run scripts/make-fixtures.ts [name ...]     # all fixtures, or only the named ones
 *
 * Every picture is QEMU's own `screendump` of a real boot (exact framebuffer, PPM → PNG),
 * or a documented transform of one (dim BMC, JPEG). Ground truth comes from the machine,
 * not from OCR: VGA text memory read through the monitor (`xp` at 0xb8000) for text mode,
 * `/dev/vcsa1` dumped to the serial port for framebuffer consoles. Both are checked against
 * the picture cell by cell (one glyph bitmap ↔ one character) before anything is written.
 * The UEFI setup screen is a GOP picture with no text buffer: its truth is kept in
 * UEFI_SETUP_TRUTH below, read from the screen by eye and checked with the same cell test.
 *
 * Needs (Debian): qemu-system-x86 linux-image-amd64 grub-pc-bin grub-common xorriso mtools
 * ovmf busybox-static cpio. Runs QEMU with accel=tcg; stops every VM it starts.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { findKernel, PANIC_CMDLINE, type Ppm, QemuVm } from "./qemu-vm.ts";

const OUT = join(import.meta.dir, "..", "test", "fixtures", "screens");
const KERNEL = installedKernel();
const KVER = KERNEL.slice("/boot/vmlinuz-".length);
const INITRD = `/boot/initrd.img-${KVER}`;
const TCG = ["-machine", "pc,accel=tcg"];

function installedKernel(): string {
	const kernel = findKernel();
	if (!kernel) throw new Error("no /boot/vmlinuz-* (apt-get install linux-image-amd64)");
	return kernel;
}

// ---------------------------------------------------------------- text decoding

/** CP437 upper half → Unicode (VGA ROM font and the Linux default console font order). */
const CP437_HIGH =
	"ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■ ";

const CP437_LOW = " ☺☻♥♦♣♠•◘○◙♂♀♪♫☼►◄↕‼¶§▬↨↑↓→←∟↔▲▼";

function cp437(code: number): string {
	if (code === 0 || code === 0xff) return " ";
	if (code < 0x20) return CP437_LOW[code] ?? "?";
	if (code < 0x7f) return String.fromCharCode(code);
	if (code === 0x7f) return "⌂";
	return CP437_HIGH[code - 0x80] ?? "?";
}

/** Lines as on screen, trailing blanks trimmed, trailing empty lines dropped. */
function gridToText(grid: string[][]): string {
	const lines = grid.map((row) => row.join("").replace(/\s+$/u, ""));
	while (lines.length && lines.at(-1) === "") lines.pop();
	return `${lines.join("\n")}\n`;
}

// ---------------------------------------------------------------- checking truth against pixels

interface Grid {
	cols: number;
	rows: number;
	cellW: number;
	cellH: number;
	/** pixel offset of the grid (GOP text is centred) */
	x0?: number;
	y0?: number;
}

function cellKey(ppm: Ppm, g: Grid, col: number, row: number): { key: string; blank: boolean } {
	const x0 = (g.x0 ?? 0) + col * g.cellW;
	const y0 = (g.y0 ?? 0) + row * g.cellH;
	const parts: number[] = [];
	const first = (y0 * ppm.width + x0) * 3;
	let blank = true;
	for (let y = y0; y < y0 + g.cellH; y++) {
		for (let x = x0; x < x0 + g.cellW; x++) {
			const i = (y * ppm.width + x) * 3;
			const v = ((ppm.rgb[i] ?? 0) << 16) | ((ppm.rgb[i + 1] ?? 0) << 8) | (ppm.rgb[i + 2] ?? 0);
			parts.push(v);
			if (
				ppm.rgb[i] !== ppm.rgb[first] ||
				ppm.rgb[i + 1] !== ppm.rgb[first + 1] ||
				ppm.rgb[i + 2] !== ppm.rgb[first + 2]
			)
				blank = false;
		}
	}
	// Glyph shape only (foreground mask), so the same letter in another colour is the same key.
	const bg = parts[0];
	const mask = parts.map((v) => (v === bg ? "0" : "1")).join("");
	return { key: mask, blank };
}

/**
 * Every glyph bitmap must stand for exactly one character and blank cells must be spaces.
 * Returns the number of disagreements (0 = the text is exactly what the screen shows).
 */
function checkGrid(ppm: Ppm, g: Grid, grid: string[][], skipCells: Set<string> = new Set()): string[] {
	const problems: string[] = [];
	const seen = new Map<string, string>();
	const drawn = new Map<string, string>();
	for (let r = 0; r < g.rows; r++) {
		for (let c = 0; c < g.cols; c++) {
			if (skipCells.has(`${c},${r}`)) continue;
			const ch = grid[r]?.[c] ?? " ";
			const { key, blank } = cellKey(ppm, g, c, r);
			const isSpace = ch === " " || ch === "\u00a0";
			if (blank !== isSpace && !(blank && ch === "█")) {
				problems.push(`cell ${c},${r}: '${ch}' but ${blank ? "blank" : "ink"}`);
				continue;
			}
			if (blank) continue;
			const prev = seen.get(key);
			if (prev === undefined) seen.set(key, ch);
			else if (prev !== ch) problems.push(`cell ${c},${r}: '${ch}' draws like '${prev}'`);
			const shape = drawn.get(ch);
			if (shape === undefined) drawn.set(ch, key);
			else if (shape !== key) problems.push(`cell ${c},${r}: '${ch}' drawn two ways`);
		}
	}
	return problems;
}

// ---------------------------------------------------------------- ground truth sources

/** VGA text mode: find the 80x25 page in 0xb8000..0xbffff that the picture shows. */
async function vgaTextTruth(vm: QemuVm, ppm: Ppm, skipCells?: Set<string>): Promise<string> {
	if (ppm.width !== 720 || ppm.height !== 400) throw new Error(`not VGA text mode: ${ppm.width}x${ppm.height}`);
	const g: Grid = { cols: 80, rows: 25, cellW: 9, cellH: 16 };
	const mem = await vm.readPhys(0xb8000, 0x8000);
	let best: { problems: string[]; grid: string[][] } | undefined;
	for (let origin = 0; origin + 4000 <= mem.length; origin += 160) {
		const grid: string[][] = [];
		for (let r = 0; r < 25; r++) {
			const row: string[] = [];
			for (let c = 0; c < 80; c++) row.push(cp437(mem[origin + (r * 80 + c) * 2] ?? 0));
			grid.push(row);
		}
		const problems = checkGrid(ppm, g, grid, skipCells);
		if (!best || problems.length < best.problems.length) best = { problems, grid };
		if (problems.length === 0) break;
	}
	if (!best || best.problems.length)
		throw new Error(`VGA text does not match the picture: ${best?.problems.slice(0, 5).join("; ")}`);
	return gridToText(best.grid);
}

/** Framebuffer console: the newest /dev/vcsa1 dump the fixture initramfs wrote to the serial log. */
async function vcsaTruth(vm: QemuVm, ppm: Ppm, cellW = 8, cellH = 16): Promise<string> {
	const after = vm.serial().length;
	await vm.waitFor("a vcsa dump", () => vm.serial().slice(after).includes("@@END@@"), 60_000);
	const text = vm.serial().slice(after);
	const end = text.lastIndexOf("@@END@@");
	const start = text.lastIndexOf("@@VCSA@@", end);
	const hex = start >= 0 ? text.slice(start + "@@VCSA@@".length, end).replace(/\s+/g, "") : "";
	if (!/^[0-9a-f]+$/.test(hex)) throw new Error("no vcsa dump in the serial log");
	const bytes = Buffer.from(hex, "hex");
	const rows = bytes[0] ?? 0;
	const cols = bytes[1] ?? 0;
	const grid: string[][] = [];
	for (let r = 0; r < rows; r++) {
		const row: string[] = [];
		for (let c = 0; c < cols; c++) row.push(cp437(bytes[4 + (r * cols + c) * 2] ?? 0));
		grid.push(row);
	}
	if (cols * cellW > ppm.width || rows * cellH > ppm.height)
		throw new Error(`vcsa ${cols}x${rows} does not fit ${ppm.width}x${ppm.height}`);
	const problems = checkGrid(ppm, { cols, rows, cellW, cellH }, grid);
	if (problems.length) throw new Error(`vcsa text does not match the picture: ${problems.slice(0, 5).join("; ")}`);
	return gridToText(grid);
}

// ---------------------------------------------------------------- output

async function writeFixture(name: string, ppm: Ppm, truth: string): Promise<void> {
	mkdirSync(OUT, { recursive: true });
	await sharp(ppm.rgb, { raw: { width: ppm.width, height: ppm.height, channels: 3 } })
		.png({ compressionLevel: 9 })
		.toFile(join(OUT, `${name}.png`));
	writeFileSync(join(OUT, `${name}.txt`), truth);
	console.error(`wrote ${name} (${ppm.width}x${ppm.height}, ${truth.split("\n").length - 1} lines)`);
}

async function readFixture(name: string): Promise<Ppm> {
	const { data, info } = await sharp(join(OUT, `${name}.png`))
		.removeAlpha()
		.raw()
		.toBuffer({ resolveWithObject: true });
	return { width: info.width, height: info.height, rgb: new Uint8Array(data) };
}

async function withVm<T>(args: string[], fn: (vm: QemuVm) => Promise<T>): Promise<T> {
	const vm = new QemuVm(args);
	await vm.start();
	try {
		return await fn(vm);
	} finally {
		await vm.stop();
	}
}

function run(cmd: string[], cwd?: string): void {
	const r = Bun.spawnSync(cmd, { cwd, stdout: "pipe", stderr: "pipe" });
	if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")} failed: ${r.stderr.toString()}`);
}

const tmp = mkdtempSync(join(tmpdir(), "ikvm-make-fixtures-"));

// ---------------------------------------------------------------- a small busybox initramfs

const INIT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev /tmp /root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
hostname web-03
mode=$(sed -n 's/.*fixture=\\([a-z0-9]*\\).*/\\1/p' /proc/cmdline)
if [ "$mode" = fb1080 ]; then
	for m in drm drm_kms_helper ttm drm_ttm_helper drm_vram_helper bochs; do insmod /lib/modules/$m.ko; done
	sleep 2
fi
if [ "$mode" = crash ]; then
	# A real oops and panic, as a driver bug gives: the register dump and call trace fill the screen.
	sleep 1
	echo 1 > /proc/sys/kernel/sysrq
	echo c > /proc/sysrq-trigger
fi
# Ground truth for the fixture script: the exact screen text of tty1, every 2 s, on the serial port.
(while :; do sleep 2; echo "@@VCSA@@ $(od -An -v -tx1 /dev/vcsa1 | tr -d ' \\n') @@END@@" > /dev/ttyS0; done) &
case "$mode" in
login)
	printf '\\033c' > /dev/tty1
	while :; do setsid getty 38400 tty1; done ;;
*)
	while :; do setsid sh -c 'exec sh -i </dev/tty1 >/dev/tty1 2>&1'; done ;;
esac
`;

function busyboxInitramfs(): string {
	const root = join(tmp, "initramfs");
	for (const d of ["bin", "etc", "lib/modules", "proc", "sys", "dev", "tmp", "root"])
		mkdirSync(join(root, d), { recursive: true });
	copyFileSync("/bin/busybox", join(root, "bin/busybox"));
	writeFileSync(join(root, "init"), INIT, { mode: 0o755 });
	writeFileSync(join(root, "etc/issue"), "Debian GNU/Linux 12 \\n \\l\n\n");
	writeFileSync(join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
	writeFileSync(join(root, "etc/group"), "root:x:0:\n");
	// A password hash nobody types in the fixture: the login attempt fails on purpose.
	writeFileSync(
		join(root, "etc/shadow"),
		"root:$6$fixture$9Wq7rPZ0rnVv8bEo0n0kI4d3GJ0fXmA5LQ1C2b0rV8dNzq5Y0yq7x1cG4eD3dL1vQ2mZ4a6s8k0J2h4f6d8b0:19000:0:99999:7:::\n",
		{ mode: 0o600 },
	);
	for (const m of ["drm", "drm_kms_helper", "ttm", "drm_ttm_helper", "drm_vram_helper", "bochs"]) {
		const r = Bun.spawnSync(["modinfo", "-k", KVER as string, "-n", m]);
		copyFileSync(r.stdout.toString().trim(), join(root, "lib/modules", `${m}.ko`));
	}
	const out = join(tmp, "busybox-initramfs.cpio.gz");
	run(["sh", "-c", `find . | cpio -o -H newc 2>/dev/null | gzip -1 > ${out}`], root);
	return out;
}

// ---------------------------------------------------------------- fixtures

type Maker = () => Promise<void>;

/** A VM that boots the installed kernel directly (no firmware, no boot loader) on the std VGA card. */
function kernelVm(append: string, options: { memoryMb?: number; initrd?: string } = {}): string[] {
	const initrd = options.initrd ? ["-initrd", options.initrd] : [];
	return [
		...TCG,
		"-vga",
		"std",
		"-m",
		String(options.memoryMb ?? 256),
		"-kernel",
		KERNEL,
		...initrd,
		"-append",
		append,
	];
}

/** The tests' kernel-panic VM (no root fs), the text cursor hidden so the screen settles. */
const PANIC_APPEND = `${PANIC_CMDLINE} vt.global_cursor_default=0`;

const kernelPanic720: Maker = () =>
	withVm(kernelVm(PANIC_APPEND), async (vm) => {
		await vm.waitFor("Kernel panic", () => vm.serial().includes("end Kernel panic"));
		const ppm = await vm.waitStable(1);
		await writeFixture("kernel-panic-720x400", ppm, await vgaTextTruth(vm, ppm));
	});

/** The same panic from another boot (more memory: other timestamps, addresses and trace). */
const kernelPanic720Boot2: Maker = () =>
	withVm(kernelVm(PANIC_APPEND, { memoryMb: 512 }), async (vm) => {
		await vm.waitFor("Kernel panic", () => vm.serial().includes("end Kernel panic"));
		const ppm = await vm.waitStable(1);
		await writeFixture("kernel-panic-boot2-720x400", ppm, await vgaTextTruth(vm, ppm));
	});

/** An oops turned panic (sysrq crash) in VGA text mode: registers, hex addresses and a call trace. */
const kernelOops720: Maker = () =>
	withVm(
		kernelVm("console=ttyS0 console=tty0 panic=0 consoleblank=0 fixture=crash vt.global_cursor_default=0", {
			initrd: busyboxInitramfs(),
		}),
		async (vm) => {
			await vm.waitFor("Kernel panic", () => vm.serial().includes("end Kernel panic"), 180_000);
			const ppm = await vm.waitStable(1);
			await writeFixture("kernel-oops-720x400", ppm, await vgaTextTruth(vm, ppm));
		},
	);

const kernelPanic1024: Maker = () =>
	withVm(kernelVm(`${PANIC_APPEND} vga=791`), async (vm) => {
		await vm.waitFor("Kernel panic", () => vm.serial().includes("end Kernel panic"));
		const ppm = await vm.waitStable(1);
		// No user space runs after a panic, so the truth is the serial log laid out on the
		// 128x48 fbcon grid (last 47 lines + the empty cursor row), checked against the picture.
		const lines = vm
			.serial()
			.replace(/\r/g, "")
			.split("\n")
			.flatMap((l) => (l.length ? (l.match(/.{1,128}/g) ?? [""]) : [""]));
		while (lines.length && lines.at(-1) === "") lines.pop();
		const shown = lines.slice(-47);
		const grid = Array.from({ length: 48 }, (_, r) => [...(shown[r] ?? "").padEnd(128)]);
		const problems = checkGrid(ppm, { cols: 128, rows: 48, cellW: 8, cellH: 16 }, grid);
		if (problems.length) throw new Error(`serial text does not match the picture: ${problems.slice(0, 5).join("; ")}`);
		await writeFixture("kernel-panic-1024x768", ppm, gridToText(grid));
	});

function grubIso(withNormal: boolean): string {
	const name = withNormal ? "grub" : "grub-rescue";
	const tree = join(tmp, `${name}-tree`);
	mkdirSync(join(tree, "boot/grub"), { recursive: true });
	copyFileSync(KERNEL, join(tree, "boot/vmlinuz"));
	// The menu Debian's grub-mkconfig writes (default entry, advanced submenu, memtest, setup).
	writeFileSync(
		join(tree, "boot/grub/grub.cfg"),
		`set default=0
set timeout=-1
terminal_output console
menuentry 'Debian GNU/Linux' --class debian --class gnu-linux --class gnu --class os {
	linux /boot/vmlinuz root=/dev/sda1 ro quiet
}
submenu 'Advanced options for Debian GNU/Linux' {
	menuentry 'Debian GNU/Linux, with Linux ${KVER}' { linux /boot/vmlinuz root=/dev/sda1 ro quiet }
	menuentry 'Debian GNU/Linux, with Linux ${KVER} (recovery mode)' { linux /boot/vmlinuz root=/dev/sda1 ro single }
}
menuentry 'Memory test (memtest86+x64.bin)' { linux16 /boot/memtest86+x64.bin }
menuentry 'Memory test (memtest86+x64.bin, serial console)' { linux16 /boot/memtest86+x64.bin console=ttyS0,115200 }
`,
	);
	let moduleDir = "/usr/lib/grub/i386-pc";
	if (!withNormal) {
		// Without normal.mod GRUB's core cannot load its menu and enters rescue mode: the real
		// "grub rescue>" a broken /boot gives.
		moduleDir = join(tmp, "i386-pc-no-normal");
		run(["cp", "-r", "/usr/lib/grub/i386-pc", moduleDir]);
		rmSync(join(moduleDir, "normal.mod"));
	}
	const iso = join(tmp, `${name}.iso`);
	run(["grub-mkrescue", "-d", moduleDir, "-o", iso, tree]);
	return iso;
}

const grubMenu: Maker = () =>
	withVm([...TCG, "-vga", "std", "-m", "256", "-cdrom", grubIso(true), "-boot", "d"], async (vm) => {
		await vm.waitFor("the GRUB menu", async () => (await vm.readPhys(0xb8000, 4000)).includes(0xda), 60_000);
		// Move the highlight to the advanced submenu, like a user picking an older kernel.
		await vm.sendKeys(["down"]);
		const ppm = await vm.waitStable(1);
		await writeFixture("grub-menu-720x400", ppm, await vgaTextTruth(vm, ppm));
	});

const grubRescue: Maker = () =>
	withVm([...TCG, "-vga", "std", "-m", "256", "-cdrom", grubIso(false), "-boot", "d"], async (vm) => {
		await vm.waitFor(
			"grub rescue>",
			async () =>
				Buffer.from(await vm.readPhys(0xb8000, 4000))
					.toString("latin1")
					.includes("r\x07e\x07s\x07c\x07u\x07e\x07>"),
			60_000,
		);
		await vm.sendKeys(["l", "s", "ret"]);
		await Bun.sleep(1500);
		await vm.sendKeys(["s", "e", "t", "ret"]);
		const ppm = await vm.waitStable(40);
		// The blinking cursor cell is not text.
		await writeFixture("grub-rescue-720x400", ppm, await vgaTextTruth(vm, ppm, await cursorCells(vm, ppm)));
	});

/** Cells that blink (the text cursor): compare two dumps half a second apart. */
async function cursorCells(vm: QemuVm, first: Ppm): Promise<Set<string>> {
	const cells = new Set<string>();
	for (let k = 0; k < 4; k++) {
		await Bun.sleep(270);
		const other = await vm.screendump();
		for (let i = 0; i < first.rgb.length; i += 3) {
			if (first.rgb[i] !== other.rgb[i]) {
				const p = i / 3;
				cells.add(`${Math.floor((p % first.width) / 9)},${Math.floor(p / first.width / 16)}`);
			}
		}
	}
	return cells;
}

const initramfsShell: Maker = () =>
	withVm(
		kernelVm("console=tty0 root=/dev/sda1 rootdelay=5 consoleblank=0", { memoryMb: 512, initrd: INITRD }),
		async (vm) => {
			await vm.waitFor(
				"(initramfs) prompt",
				async () =>
					Buffer.from(await vm.readPhys(0xb8000, 0x8000))
						.toString("latin1")
						.replace(/(.)./gs, "$1")
						.includes("(initramfs)"),
				240_000,
			);
			const ppm = await vm.waitStable(40);
			await writeFixture("initramfs-shell-720x400", ppm, await vgaTextTruth(vm, ppm, await cursorCells(vm, ppm)));
		},
	);

const loginPrompt: Maker = () =>
	withVm(
		kernelVm("console=ttyS0 console=tty0 panic=0 consoleblank=0 vga=791 fixture=login vt.global_cursor_default=0", {
			initrd: busyboxInitramfs(),
		}),
		async (vm) => {
			await vm.waitFor("the vcsa loop", () => vm.serial().includes("@@END@@"));
			await Bun.sleep(3000);
			await vm.sendKeys(["r", "o", "o", "t", "ret"]);
			await Bun.sleep(2000);
			await vm.sendKeys(["h", "u", "n", "t", "e", "r", "2", "ret"]);
			await Bun.sleep(6000);
			const ppm = await vm.waitStable(1);
			await writeFixture("login-1024x768", ppm, await vcsaTruth(vm, ppm));
		},
	);

const fb1080: Maker = () =>
	withVm(
		kernelVm(
			"console=ttyS0 console=tty0 panic=0 consoleblank=0 video=1920x1080 fixture=fb1080 vt.global_cursor_default=0",
			{ memoryMb: 512, initrd: busyboxInitramfs() },
		),
		async (vm) => {
			await vm.waitFor("the vcsa loop", () => vm.serial().includes("@@END@@"), 180_000);
			await Bun.sleep(2000);
			await vm.sendKeys([..."dmesg".split(""), "ret"]);
			await Bun.sleep(8000);
			const ppm = await vm.waitStable(1);
			if (ppm.width !== 1920 || ppm.height !== 1080)
				throw new Error(`expected 1920x1080, got ${ppm.width}x${ppm.height}`);
			await writeFixture("fbcon-1920x1080", ppm, await vcsaTruth(vm, ppm));
		},
	);

/** The UEFI setup front page of Debian's OVMF, read from the screen and checked cell by cell. */
const UEFI_SETUP_TRUTH = `
 Standard PC (i440FX + PIIX, 1996)
 pc-i440fx-7.2                                       2.00 GHz
 0.0.0                                               256 MB RAM



   Select Language            <Standard English>         This is the option
                                                         one adjusts to change
 ► Device Manager                                        the language for the
 ► Boot Manager                                          current system
 ► Boot Maintenance Manager

   Continue
   Reset







  ↑↓=Move Highlight       <Enter>=Select Entry
`;

const uefiSetup: Maker = async () => {
	const vars = join(tmp, "OVMF_VARS.fd");
	copyFileSync("/usr/share/OVMF/OVMF_VARS_4M.fd", vars);
	await withVm(
		[
			...TCG,
			"-vga",
			"std",
			"-m",
			"256",
			"-drive",
			"if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd",
			"-drive",
			`if=pflash,format=raw,file=${vars}`,
		],
		async (vm) => {
			// Tap Esc while the firmware starts, as a user does to get into setup.
			for (let i = 0; i < 40; i++) {
				await vm.monitor("sendkey esc");
				await Bun.sleep(500);
			}
			const ppm = await vm.waitStable(1, 60_000);
			// The GOP text console: 80x25 cells of 8x19 pixels, centred vertically.
			const grid: Grid = { cols: 80, rows: 25, cellW: 8, cellH: 19, y0: Math.floor((ppm.height - 25 * 19) / 2) };
			const truth = UEFI_SETUP_TRUTH.split("\n").map((l) => [...l.padEnd(80)]);
			const problems = checkGrid(ppm, grid, truth);
			if (problems.length) {
				await writeFixture("uefi-setup-mismatch", ppm, "");
				throw new Error(`UEFI truth does not match the picture: ${problems.slice(0, 5).join("; ")}`);
			}
			await writeFixture(`uefi-setup-${ppm.width}x${ppm.height}`, ppm, UEFI_SETUP_TRUTH);
		},
	);
};

interface DimRecipe {
	source: string;
	/** v' = round(offset + gain * v) + blue cast + noise, clamped to 0..255 */
	offset: number;
	gain: number;
	blueCast: number;
	/** noise is uniform in -noise..+noise from an LCG with seed 7 */
	noise: number;
}

/** A dim, low-contrast BMC-style capture derived from a real screen (see README.md). */
function dim(name: string, recipe: DimRecipe): Maker {
	return async () => {
		const src = await readFixture(recipe.source);
		const out = new Uint8Array(src.rgb.length);
		let seed = 7;
		for (let i = 0; i < src.rgb.length; i++) {
			seed = (seed * 1103515245 + 12345) >>> 0;
			const noise = ((seed >>> 16) % (2 * recipe.noise + 1)) - recipe.noise;
			const cast = i % 3 === 2 ? recipe.blueCast : 0;
			const v = Math.round(recipe.offset + (src.rgb[i] ?? 0) * recipe.gain) + cast + noise;
			out[i] = Math.max(0, Math.min(255, v));
		}
		const truth = await Bun.file(join(OUT, `${recipe.source}.txt`)).text();
		await writeFixture(name, { width: src.width, height: src.height, rgb: out }, truth);
	};
}

// Washed-out video path: black lifted to 12, full scale squeezed to 28%, slight blue cast.
const dimBmc = dim("dim-bmc-1024x768", {
	source: "kernel-panic-1024x768",
	offset: 12,
	gain: 0.28,
	blueCast: 4,
	noise: 2,
});
// Dark grey on black, the common dim BMC look: VGA grey 170 becomes about 38 on a background of 8.
const dimDark = dim("dim-dark-720x400", {
	source: "initramfs-shell-720x400",
	offset: 8,
	gain: 0.18,
	blueCast: 0,
	noise: 3,
});

/** A JPEG-compressed capture (quality 30, 4:2:0 chroma, as BMC video often is), decoded back. */
const JPEG_QUALITY = 30;
const jpegCapture: Maker = async () => {
	const src = await readFixture("login-1024x768");
	const jpeg = await sharp(src.rgb, { raw: { width: src.width, height: src.height, channels: 3 } })
		.jpeg({ quality: JPEG_QUALITY, chromaSubsampling: "4:2:0" })
		.toBuffer();
	const { data } = await sharp(jpeg).removeAlpha().raw().toBuffer({ resolveWithObject: true });
	const truth = await Bun.file(join(OUT, "login-1024x768.txt")).text();
	await writeFixture(
		`jpeg-q${JPEG_QUALITY}-1024x768`,
		{ width: src.width, height: src.height, rgb: new Uint8Array(data) },
		truth,
	);
};

const MAKERS: Record<string, Maker> = {
	"kernel-panic-720x400": kernelPanic720,
	"kernel-panic-boot2-720x400": kernelPanic720Boot2,
	"kernel-oops-720x400": kernelOops720,
	"kernel-panic-1024x768": kernelPanic1024,
	"grub-menu-720x400": grubMenu,
	"grub-rescue-720x400": grubRescue,
	"initramfs-shell-720x400": initramfsShell,
	"login-1024x768": loginPrompt,
	"fbcon-1920x1080": fb1080,
	"uefi-setup-640x480": uefiSetup,
	"dim-bmc-1024x768": dimBmc,
	"dim-dark-720x400": dimDark,
	"jpeg-q30-1024x768": jpegCapture,
};

const wanted = process.argv.slice(2);
try {
	for (const [name, make] of Object.entries(MAKERS)) {
		if (wanted.length && !wanted.includes(name)) continue;
		console.error(`making ${name} ...`);
		await make();
	}
} finally {
	rmSync(tmp, { recursive: true, force: true });
}
