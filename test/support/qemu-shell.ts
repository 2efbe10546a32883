/**
 * A real console that answers keys: QEMU boots the installed kernel with a
 * busybox initramfs built at test time from /bin/busybox (the recipe in the
 * team's QEMU console notes), to an `ash` prompt on the VGA text console.
 * Ctrl+Alt+Delete reboots the kernel at once (kernel.ctrl-alt-del = 1), and
 * with QEMU's -no-reboot the process then exits. One VM per test file.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFrame, type Frame } from "../../src/frame.ts";
import { readScreenText } from "../../src/text/index.ts";
import { freePort, freeVncDisplay } from "./ports.ts";
import { qemuMissing } from "./qemu.ts";
import { findKernel, QemuProcess } from "./qemu-process.ts";

const BUSYBOX = ["/bin/busybox", "/usr/bin/busybox"];
export const SHELL_READY = "test shell ready";

const INIT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
echo 1 > /proc/sys/kernel/ctrl-alt-del
echo "${SHELL_READY}"
exec setsid cttyhack sh
`;

/** Why the busybox shell tests cannot run here, or undefined when they can. */
export function shellVmMissing(): string | undefined {
	const qemu = qemuMissing();
	if (qemu) return qemu;
	if (!busyboxPath()) return "no static busybox at /bin/busybox (apt-get install busybox-static)";
	return undefined;
}

function busyboxPath(): string | undefined {
	return BUSYBOX.find((p) => existsSync(p));
}

/** One file or directory of a newc cpio archive (what the kernel unpacks as its initramfs). */
interface CpioEntry {
	name: string;
	mode: number;
	data?: Uint8Array;
	rdev?: [number, number];
}

function cpioNewc(entries: CpioEntry[]): Uint8Array<ArrayBuffer> {
	const parts: Uint8Array[] = [];
	let size = 0;
	const push = (b: Uint8Array) => {
		parts.push(b);
		size += b.length;
	};
	const pad = () => {
		const n = (4 - (size % 4)) % 4;
		if (n) push(new Uint8Array(n));
	};
	const hex = (n: number) => n.toString(16).padStart(8, "0");
	let ino = 1;
	for (const e of [...entries, { name: "TRAILER!!!", mode: 0 }]) {
		const data = e.data ?? new Uint8Array(0);
		const name = new TextEncoder().encode(`${e.name}\0`);
		const [maj, min] = "rdev" in e && e.rdev ? e.rdev : [0, 0];
		const fields = [ino++, e.mode, 0, 0, 1, 0, data.length, 0, 0, maj, min, name.length, 0];
		push(new TextEncoder().encode(`070701${fields.map(hex).join("")}`));
		push(name);
		pad();
		push(data);
		pad();
	}
	const out = new Uint8Array(size);
	let at = 0;
	for (const p of parts) {
		out.set(p, at);
		at += p.length;
	}
	return out;
}

/** Builds the initramfs in `dir`; returns its path. */
export async function buildShellInitramfs(dir: string): Promise<string> {
	const busybox = busyboxPath();
	if (!busybox) throw new Error(shellVmMissing());
	const bytes = new Uint8Array(await Bun.file(busybox).arrayBuffer());
	const archive = cpioNewc([
		{ name: "bin", mode: 0o40755 },
		{ name: "dev", mode: 0o40755 },
		{ name: "dev/console", mode: 0o20600, rdev: [5, 1] },
		{ name: "proc", mode: 0o40755 },
		{ name: "sys", mode: 0o40755 },
		{ name: "bin/busybox", mode: 0o100755, data: bytes },
		{ name: "init", mode: 0o100755, data: new TextEncoder().encode(INIT) },
	]);
	const path = join(dir, "initrd.gz");
	writeFileSync(path, Bun.gzipSync(archive as Uint8Array<ArrayBuffer>));
	return path;
}

export interface ShellVm {
	vncPort: number;
	wsPort: number;
	wsUrl: string;
	get exited(): boolean;
	/** Resolves when QEMU exits (the guest rebooted: -no-reboot), or false after `ms`. */
	waitForExit(ms: number): Promise<boolean>;
	screendump(): Promise<Frame>;
	/** The screen's text rows read from QEMU's own screendump. */
	screenLines(): Promise<string[]>;
	stop(): Promise<void>;
}

export async function bootShellVm(options: { timeoutMs?: number; append?: string } = {}): Promise<ShellVm> {
	const kernel = findKernel();
	if (!kernel) throw new Error(qemuMissing());
	const dir = mkdtempSync(join(tmpdir(), "ikvm-initrd-"));
	const initrd = await buildShellInitramfs(dir);
	const timeoutMs = options.timeoutMs ?? 90_000;
	let lastError: unknown;
	for (let attempt = 0; attempt < 3; attempt++) {
		const display = await freeVncDisplay();
		const wsPort = await freePort();
		let qemu: QemuProcess;
		try {
			qemu = await QemuProcess.start(
				[
					...["-machine", "pc,accel=tcg", "-vga", "std", "-m", "256"],
					...["-kernel", kernel, "-initrd", initrd],
					...[
						"-append",
						`console=tty0 rdinit=/init quiet consoleblank=0 vt.global_cursor_default=0 ${options.append ?? ""}`.trim(),
					],
					...["-vnc", `127.0.0.1:${display},websocket=${wsPort}`],
				],
				{ tmpPrefix: "ikvm-shell-" },
			);
		} catch (error) {
			lastError = error;
			if (String(error).includes("exited")) continue;
			rmSync(dir, { recursive: true, force: true });
			throw error;
		}
		const screenLines = async () => (await readScreenText(toFrame(await qemu.screendump()), { ocr: false })).lines;
		const vm: ShellVm = {
			vncPort: 5900 + display,
			wsPort,
			wsUrl: `ws://127.0.0.1:${wsPort}/`,
			get exited() {
				return qemu.exited;
			},
			async waitForExit(ms) {
				const until = Date.now() + ms;
				while (!qemu.exited && Date.now() < until) await Bun.sleep(100);
				return qemu.exited;
			},
			screendump: async () => toFrame(await qemu.screendump()),
			screenLines,
			async stop() {
				await qemu.stop();
				rmSync(dir, { recursive: true, force: true });
			},
		};
		try {
			const deadline = Date.now() + timeoutMs;
			for (;;) {
				if (qemu.exited) throw new Error("qemu exited while booting the shell");
				const lines = await screenLines().catch(() => [] as string[]);
				if (lines.some((l) => l.includes(SHELL_READY)) && lines.some((l) => /[#$] ?$/.test(l))) break;
				if (Date.now() > deadline)
					throw new Error(`no shell prompt within ${timeoutMs / 1000} s: ${lines.slice(-3).join(" | ")}`);
				await Bun.sleep(500);
			}
		} catch (error) {
			await vm.stop();
			throw error;
		}
		return vm;
	}
	rmSync(dir, { recursive: true, force: true });
	throw lastError;
}

function toFrame(ppm: { width: number; height: number; rgb: Uint8Array }): Frame {
	const rgba = new Uint8Array(ppm.width * ppm.height * 4);
	for (let i = 0, o = 0; o < rgba.length; i += 3, o += 4) {
		rgba[o] = ppm.rgb[i] as number;
		rgba[o + 1] = ppm.rgb[i + 1] as number;
		rgba[o + 2] = ppm.rgb[i + 2] as number;
		rgba[o + 3] = 255;
	}
	return createFrame(ppm.width, ppm.height, rgba);
}
