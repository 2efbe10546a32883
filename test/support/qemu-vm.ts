/**
 * A real QEMU VM for end-to-end tests: a Debian kernel booted with no root filesystem, which stops
 * at a genuine kernel-panic screen; VNC on free loopback ports (TCP and WebSocket) and a monitor
 * socket for QEMU's own `screendump` (the ground truth). One VM per test file; `stop()` in afterAll.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { createFrame, type Frame } from "../../src/image/frame.ts";

export interface QemuVm {
	/** ws://127.0.0.1:<port>/ — QEMU's VNC WebSocket listener. */
	wsUrl: string;
	/** The kernel's messages as written to the serial port (console=ttyS0): independent ground truth. */
	serialLog(): string;
	vncPort: number;
	/** QEMU's own picture of the framebuffer. */
	screendump(): Promise<Frame>;
	stop(): Promise<void>;
}

/** Why the QEMU tests cannot run here, or undefined when they can. */
export function qemuMissing(): string | undefined {
	if (!Bun.which("qemu-system-x86_64")) return "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)";
	if (!findKernel()) return "no kernel in /boot (apt-get install linux-image-amd64)";
	return undefined;
}

export function findKernel(): string | undefined {
	if (!existsSync("/boot")) return undefined;
	const kernels = readdirSync("/boot")
		.filter((f) => f.startsWith("vmlinuz-"))
		.sort();
	const last = kernels[kernels.length - 1];
	return last ? join("/boot", last) : undefined;
}

export function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once("error", reject);
		server.listen(0, "127.0.0.1", () => {
			const address = server.address();
			const port = typeof address === "object" && address ? address.port : 0;
			server.close(() => resolve(port));
		});
	});
}

/** A free TCP port at or above 5900, so that VNC display N = port - 5900 is usable. */
async function freeVncPort(): Promise<number> {
	for (let attempt = 0; attempt < 50; attempt++) {
		const port = 5900 + 100 + Math.floor(Math.random() * 4000);
		const free = await new Promise<boolean>((resolve) => {
			const server = createServer();
			server.once("error", () => resolve(false));
			server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
		});
		if (free) return port;
	}
	throw new Error("no free VNC port");
}

export interface BootOptions {
	/** Extra kernel command line, e.g. "vga=791" for a 1024x768 framebuffer console. */
	append?: string;
}

export async function bootPanicVm(options: BootOptions = {}): Promise<QemuVm> {
	const kernel = findKernel();
	if (!kernel) throw new Error("no kernel");
	const dir = mkdtempSync(join(tmpdir(), "ikvm-text-qemu-"));
	const monitor = join(dir, "monitor.sock");
	const serial = join(dir, "serial.log");
	const vncPort = await freeVncPort();
	const wsPort = await freePort();
	const append = ["console=ttyS0 console=tty0 root=/dev/nonexistent panic=0 consoleblank=0", options.append ?? ""]
		.join(" ")
		.trim();
	const proc: Subprocess = Bun.spawn(
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
			"-no-reboot",
			"-kernel",
			kernel,
			"-append",
			append,
			"-vnc",
			`127.0.0.1:${vncPort - 5900},websocket=${wsPort}`,
			"-monitor",
			`unix:${monitor},server,nowait`,
			"-serial",
			`file:${serial}`,
		],
		{ stdout: "ignore", stderr: "pipe" },
	);
	for (let i = 0; i < 100 && !existsSync(monitor); i++) await Bun.sleep(50);
	if (!existsSync(monitor)) {
		proc.kill();
		throw new Error(`QEMU did not start: ${await new Response(proc.stderr as ReadableStream).text()}`);
	}
	let dumps = 0;
	return {
		wsUrl: `ws://127.0.0.1:${wsPort}/`,
		vncPort,
		serialLog: () => (existsSync(serial) ? readFileSync(serial, "latin1").replace(/\r/g, "") : ""),
		async screendump() {
			const file = join(dir, `dump-${dumps++}.ppm`);
			await monitorCommand(monitor, `screendump ${file}`);
			// QEMU writes the file after answering; wait until its size settles.
			let size = -1;
			for (let i = 0; i < 100; i++) {
				if (existsSync(file)) {
					const now = statSync(file).size;
					if (now > 0 && now === size) break;
					size = now;
				}
				await Bun.sleep(50);
			}
			return parsePpm(readFileSync(file));
		},
		async stop() {
			proc.kill("SIGTERM");
			const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(3000).then(() => false)]);
			if (!exited) proc.kill("SIGKILL");
			rmSync(dir, { recursive: true, force: true });
		},
	};
}

function monitorCommand(path: string, command: string): Promise<string> {
	return new Promise((resolve, reject) => {
		const socket = createConnection(path);
		let output = "";
		let sent = false;
		const timer = setTimeout(() => {
			socket.destroy();
			reject(new Error(`monitor command timed out: ${command}`));
		}, 10_000);
		socket.on("data", (chunk) => {
			output += chunk.toString("latin1");
			if (!sent && output.includes("(qemu)")) {
				sent = true;
				output = "";
				socket.write(`${command}\n`);
			} else if (sent && output.includes("(qemu)")) {
				clearTimeout(timer);
				socket.end();
				resolve(output);
			}
		});
		socket.on("error", (error) => {
			clearTimeout(timer);
			reject(error);
		});
	});
}

/** Binary PPM (P6, maxval 255) → Frame. */
export function parsePpm(data: Buffer): Frame {
	const fields: string[] = [];
	let i = 0;
	while (fields.length < 4) {
		while (data[i] === 0x20 || data[i] === 0x0a || data[i] === 0x0d || data[i] === 0x09) i++;
		if (data[i] === 0x23) {
			while (data[i] !== 0x0a) i++;
			continue;
		}
		let token = "";
		while (i < data.length && ![0x20, 0x0a, 0x0d, 0x09].includes(data[i] as number))
			token += String.fromCharCode(data[i++] as number);
		fields.push(token);
	}
	i++;
	const [magic, w, h, max] = fields;
	if (magic !== "P6" || max !== "255") throw new Error(`unsupported PPM ${magic} ${max}`);
	const width = Number(w);
	const height = Number(h);
	const rgba = new Uint8Array(width * height * 4);
	for (let p = 0; p < width * height; p++) {
		rgba[p * 4] = data[i + p * 3] as number;
		rgba[p * 4 + 1] = data[i + p * 3 + 1] as number;
		rgba[p * 4 + 2] = data[i + p * 3 + 2] as number;
		rgba[p * 4 + 3] = 255;
	}
	return createFrame(width, height, rgba);
}
