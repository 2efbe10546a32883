/**
 * A real console to test against: QEMU boots the installed kernel with no
 * root filesystem, under TCG, and stops at a genuine kernel panic on the VGA
 * text console (see ../shared/docs/qemu-console.md). QEMU's VNC server is
 * exposed on two displays: "default" without authentication and "auth" with
 * VNC password authentication, each over TCP and WebSocket. The monitor's
 * `screendump` is the ground truth for pixels.
 */

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import type { RgbaImage } from "../../src/vnc/types.ts";

export interface PanicVm {
	/** No authentication. */
	tcpPort: number;
	wsPort: number;
	/** VNC password authentication (set with `setPassword`). */
	authTcpPort: number;
	authWsPort: number;
	monitor(command: string): Promise<string>;
	setPassword(password: string): Promise<void>;
	/** The exact current framebuffer, from QEMU itself. */
	screendump(): Promise<RgbaImage>;
	stop(): Promise<void>;
}

/** Why QEMU tests cannot run here, or undefined when they can. */
export function qemuUnavailable(): string | undefined {
	if (!Bun.which("qemu-system-x86_64")) return "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)";
	if (!kernelPath()) return "no /boot/vmlinuz-* kernel (apt-get install linux-image-amd64)";
	return undefined;
}

function kernelPath(): string | undefined {
	try {
		const kernels = readdirSync("/boot")
			.filter((f) => f.startsWith("vmlinuz-"))
			.sort();
		const last = kernels.at(-1);
		return last ? join("/boot", last) : undefined;
	} catch {
		return undefined;
	}
}

function canBind(port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const s = net.createServer();
		s.once("error", () => resolve(false));
		s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
	});
}

async function freePort(): Promise<number> {
	const s = net.createServer();
	await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
	const port = (s.address() as net.AddressInfo).port;
	await new Promise<void>((r) => s.close(() => r()));
	return port;
}

/** A VNC display number whose TCP port (5900 + N) is free. */
async function freeDisplay(exclude: number[]): Promise<number> {
	for (let attempt = 0; attempt < 200; attempt++) {
		const n = 100 + Math.floor(Math.random() * 3000);
		if (!exclude.includes(n) && (await canBind(5900 + n))) return n;
	}
	throw new Error("no free VNC display port");
}

const ANSI_ESCAPE = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*[A-Za-z]`, "g");

/** One HMP client on the monitor socket (QEMU takes one at a time); commands run in order. */
class Monitor {
	private socket!: net.Socket;
	private buffer = "";
	private waiting: ((text: string) => void) | undefined;
	private chain: Promise<unknown> = Promise.resolve();

	async connect(path: string): Promise<void> {
		this.socket = net.connect(path);
		this.socket.setEncoding("utf8");
		this.socket.on("data", (d: string) => {
			this.buffer += d;
			if (this.buffer.endsWith("(qemu) ") && this.waiting) {
				const text = this.buffer;
				this.buffer = "";
				const w = this.waiting;
				this.waiting = undefined;
				w(text);
			}
		});
		await new Promise<void>((resolve, reject) => {
			this.socket.once("connect", resolve);
			this.socket.once("error", reject);
		});
		await this.untilPrompt();
	}

	private untilPrompt(): Promise<string> {
		return new Promise((resolve, reject) => {
			const timer = setTimeout(() => reject(new Error("QEMU monitor did not answer")), 10_000);
			this.waiting = (text) => {
				clearTimeout(timer);
				resolve(text);
			};
			if (this.buffer.endsWith("(qemu) ")) {
				const text = this.buffer;
				this.buffer = "";
				this.waiting(text);
			}
		});
	}

	run(command: string): Promise<string> {
		const next = this.chain.then(async () => {
			const reply = this.untilPrompt();
			this.socket.write(`${command}\n`);
			// Drop the echoed command line and terminal escapes.
			const text = (await reply).replace(ANSI_ESCAPE, "").replace(/\r/g, "");
			return text
				.split("\n")
				.slice(1)
				.join("\n")
				.replace(/\(qemu\) $/, "");
		});
		this.chain = next.catch(() => {});
		return next;
	}

	close(): void {
		this.socket?.destroy();
	}
}

function parsePpm(data: Uint8Array): RgbaImage | undefined {
	const head = new TextDecoder("latin1").decode(data.subarray(0, 64));
	const m = /^P6\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(head);
	if (m?.[3] !== "255") return undefined; // QEMU writes maxval 255
	const width = Number(m[1]);
	const height = Number(m[2]);
	const start = m[0].length;
	if (data.length < start + width * height * 3) return undefined;
	const rgba = new Uint8Array(width * height * 4);
	for (let i = 0; i < width * height; i++) {
		rgba[i * 4] = data[start + i * 3] as number;
		rgba[i * 4 + 1] = data[start + i * 3 + 1] as number;
		rgba[i * 4 + 2] = data[start + i * 3 + 2] as number;
		rgba[i * 4 + 3] = 255;
	}
	return { width, height, rgba };
}

/** Boots the VM and waits until the panic is on screen and the screen is still. */
export async function startPanicVm(timeoutMs = 90_000): Promise<PanicVm> {
	const kernel = kernelPath() as string;
	let lastError: unknown;
	for (let attempt = 0; attempt < 3; attempt++) {
		const dir = mkdtempSync(join(tmpdir(), "ikvm-qemu-"));
		const d1 = await freeDisplay([]);
		const d2 = await freeDisplay([d1]);
		const ws1 = await freePort();
		const ws2 = await freePort();
		const mon = join(dir, "mon.sock");
		const serial = join(dir, "serial.log");
		const proc = Bun.spawn(
			[
				"qemu-system-x86_64",
				"-nodefaults",
				"-machine",
				"pc,accel=tcg",
				"-vga",
				"std",
				"-display",
				"none",
				"-m",
				"256",
				"-kernel",
				kernel,
				"-append",
				"console=ttyS0 console=tty0 root=/dev/nonexistent panic=0 consoleblank=0 vt.global_cursor_default=0",
				"-vnc",
				`127.0.0.1:${d1},websocket=${ws1}`,
				"-vnc",
				`127.0.0.1:${d2},websocket=${ws2},password=on,id=auth`,
				"-monitor",
				`unix:${mon},server,nowait`,
				"-serial",
				`file:${serial}`,
				"-no-reboot",
			],
			{ stdin: "ignore", stdout: "ignore", stderr: "pipe" },
		);
		try {
			return await waitForPanic(proc, dir, mon, serial, timeoutMs, {
				tcpPort: 5900 + d1,
				wsPort: ws1,
				authTcpPort: 5900 + d2,
				authWsPort: ws2,
			});
		} catch (error) {
			lastError = error;
			proc.kill("SIGKILL");
			await proc.exited;
			rmSync(dir, { recursive: true, force: true });
			// A port taken between our probe and QEMU's bind: try other ports.
			if (!String(error).includes("exited")) break;
		}
	}
	throw lastError;
}

async function waitForPanic(
	proc: Subprocess<"ignore", "ignore", "pipe">,
	dir: string,
	monPath: string,
	serial: string,
	timeoutMs: number,
	ports: Pick<PanicVm, "tcpPort" | "wsPort" | "authTcpPort" | "authWsPort">,
): Promise<PanicVm> {
	const deadline = Date.now() + timeoutMs;
	let exited = false;
	void proc.exited.then(() => {
		exited = true;
	});
	while (!existsSync(monPath)) {
		if (exited) throw new Error(`qemu exited at start: ${(await new Response(proc.stderr).text()).trim()}`);
		if (Date.now() > deadline) throw new Error("QEMU monitor socket did not appear");
		await Bun.sleep(50);
	}
	const monitor = new Monitor();
	await monitor.connect(monPath);
	let dumps = 0;
	const screendump = async (): Promise<RgbaImage> => {
		const file = join(dir, `dump-${dumps++}.ppm`);
		await monitor.run(`screendump ${file}`);
		for (let i = 0; i < 100; i++) {
			if (existsSync(file)) {
				const image = parsePpm(new Uint8Array(readFileSync(file)));
				if (image) {
					rmSync(file, { force: true });
					return image;
				}
			}
			await Bun.sleep(20);
		}
		throw new Error("screendump did not produce a complete PPM");
	};
	const stop = async () => {
		monitor.close();
		proc.kill();
		const done = await Promise.race([proc.exited.then(() => true), Bun.sleep(3000).then(() => false)]);
		if (!done) {
			proc.kill("SIGKILL");
			await proc.exited;
		}
		rmSync(dir, { recursive: true, force: true });
	};
	try {
		while (!(existsSync(serial) && readFileSync(serial, "utf8").includes("Kernel panic - not syncing"))) {
			if (exited) throw new Error("qemu exited while booting");
			if (Date.now() > deadline) throw new Error(`no kernel panic within ${timeoutMs / 1000} s`);
			await Bun.sleep(200);
		}
		// The serial line comes first; wait until the VGA console has drawn everything and stays still.
		let previous = await screendump();
		for (;;) {
			await Bun.sleep(400);
			const current = await screendump();
			if (Buffer.compare(Buffer.from(previous.rgba), Buffer.from(current.rgba)) === 0) break;
			if (Date.now() > deadline) throw new Error("the panic screen never settled");
			previous = current;
		}
	} catch (error) {
		monitor.close();
		throw error;
	}
	return {
		...ports,
		monitor: (command) => monitor.run(command),
		async setPassword(password) {
			const reply = await monitor.run(`set_password vnc ${password} -d auth`);
			if (reply.trim()) throw new Error(`set_password: ${reply.trim()}`);
		},
		screendump,
		stop,
	};
}
