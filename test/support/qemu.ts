/**
 * A real console to test against: QEMU boots the installed kernel with no root filesystem, under
 * TCG, and stops at a genuine kernel panic on the VGA text
 * console, or on a framebuffer console with `append: "vga=791"`. QEMU's VNC server listens over TCP
 * and WebSocket on free loopback ports, optionally with a second display that wants a VNC password.
 * The monitor's `screendump` is the ground truth for pixels, the serial log for text.
 * One VM per test file; `stop()` in afterAll.
 */
import { createFrame, type Frame } from "../../src/frame.ts";
import { freePort, freeVncDisplay } from "./ports.ts";
import type { Ppm } from "./qemu-monitor.ts";
import { findKernel, QemuProcess } from "./qemu-process.ts";

/** Kernel command line that ends in a panic (no root fs) and keeps it on screen (no reboot, no blanking). */
export const PANIC_CMDLINE = "console=ttyS0 console=tty0 root=/dev/nonexistent panic=0 consoleblank=0";

export interface BootOptions {
	/** Added to PANIC_CMDLINE, e.g. "vga=791" for a 1024x768 framebuffer console. */
	append?: string;
	/** A second VNC display with VNC password authentication (set with `setPassword`). */
	passwordDisplay?: boolean;
	/** Return only once the panic is on screen and the screen is still (else at once). */
	untilPanic?: boolean;
	/** Limit for booting to the panic. */
	timeoutMs?: number;
}

export interface VncDisplay {
	/** TCP port 5900 + display. */
	vncPort: number;
	/** QEMU's VNC WebSocket listener. */
	wsPort: number;
	/** ws://127.0.0.1:<wsPort>/ */
	wsUrl: string;
}

export interface QemuVm extends VncDisplay {
	/** The kernel's messages as written to the serial port (console=ttyS0): independent ground truth. */
	serialLog(): string;
	/** QEMU's own picture of the framebuffer. */
	screendump(): Promise<Frame>;
	stop(): Promise<void>;
}

export interface PasswordQemuVm extends QemuVm {
	/** The display that wants the password. */
	auth: VncDisplay;
	setPassword(password: string): Promise<void>;
}

/** Why the QEMU tests cannot run here, or undefined when they can. */
export function qemuMissing(): string | undefined {
	if (!Bun.which("qemu-system-x86_64")) return "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)";
	if (!findKernel()) return "no /boot/vmlinuz-* kernel (apt-get install linux-image-amd64)";
	return undefined;
}

export function bootPanicVm(options: BootOptions & { passwordDisplay: true }): Promise<PasswordQemuVm>;
export function bootPanicVm(options?: BootOptions): Promise<QemuVm>;
export async function bootPanicVm(options: BootOptions = {}): Promise<QemuVm | PasswordQemuVm> {
	const kernel = findKernel();
	if (!kernel) throw new Error(qemuMissing());
	const timeoutMs = options.timeoutMs ?? 90_000;
	let lastError: unknown;
	for (let attempt = 0; attempt < 3; attempt++) {
		const display = await vncDisplay([]);
		const auth = options.passwordDisplay ? await vncDisplay([display.vncPort - 5900]) : undefined;
		const vnc = ["-vnc", `127.0.0.1:${display.vncPort - 5900},websocket=${display.wsPort}`];
		if (auth) vnc.push("-vnc", `127.0.0.1:${auth.vncPort - 5900},websocket=${auth.wsPort},password=on,id=auth`);
		let qemu: QemuProcess;
		try {
			qemu = await QemuProcess.start(
				[
					...["-machine", "pc,accel=tcg", "-vga", "std", "-m", "256"],
					...["-kernel", kernel, "-append", [PANIC_CMDLINE, options.append ?? ""].join(" ").trim()],
					...vnc,
				],
				{ tmpPrefix: "ikvm-qemu-" },
			);
		} catch (error) {
			lastError = error;
			// A port taken between our probe and QEMU's bind: try other ports.
			if (String(error).includes("exited")) continue;
			throw error;
		}
		try {
			if (options.untilPanic) await waitForPanic(qemu, Date.now() + timeoutMs, timeoutMs);
		} catch (error) {
			await qemu.stop();
			throw error;
		}
		const vm: QemuVm = {
			...display,
			serialLog: () => qemu.serialLog(),
			screendump: async () => toFrame(await qemu.screendump()),
			stop: () => qemu.stop(),
		};
		if (!auth) return vm;
		return {
			...vm,
			auth,
			async setPassword(password) {
				const reply = await qemu.monitor(`set_password vnc ${password} -d auth`);
				if (reply.trim()) throw new Error(`set_password: ${reply.trim()}`);
			},
		};
	}
	throw lastError;
}

async function vncDisplay(exclude: number[]): Promise<VncDisplay> {
	const display = await freeVncDisplay(exclude);
	const wsPort = await freePort();
	return { vncPort: 5900 + display, wsPort, wsUrl: `ws://127.0.0.1:${wsPort}/` };
}

/** The serial line comes first; then waits until the console has drawn everything and stays still. */
async function waitForPanic(qemu: QemuProcess, deadline: number, timeoutMs: number): Promise<void> {
	while (!qemu.serialLog().includes("Kernel panic - not syncing")) {
		if (qemu.exited) throw new Error("qemu exited while booting");
		if (Date.now() > deadline) throw new Error(`no kernel panic within ${timeoutMs / 1000} s`);
		await Bun.sleep(200);
	}
	let previous = await qemu.screendump();
	for (;;) {
		await Bun.sleep(400);
		const current = await qemu.screendump();
		if (Buffer.compare(Buffer.from(previous.rgb), Buffer.from(current.rgb)) === 0) return;
		if (Date.now() > deadline) throw new Error("the panic screen never settled");
		previous = current;
	}
}

function toFrame(ppm: Ppm): Frame {
	const rgba = new Uint8Array(ppm.width * ppm.height * 4);
	for (let i = 0, o = 0; o < rgba.length; i += 3, o += 4) {
		rgba[o] = ppm.rgb[i] as number;
		rgba[o + 1] = ppm.rgb[i + 1] as number;
		rgba[o + 2] = ppm.rgb[i + 2] as number;
		rgba[o + 3] = 255;
	}
	return createFrame(ppm.width, ppm.height, rgba);
}
