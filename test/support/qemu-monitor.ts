/**
 * QEMU's human monitor (HMP) on a unix socket, and the PPM files its `screendump` writes.
 * Shared by the QEMU tests and scripts/make-fixtures.ts.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";

const PROMPT = "(qemu) ";
const ANSI_ESCAPE = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*[A-Za-z]`, "g");

/** One HMP client on the monitor socket: QEMU serves one at a time, so commands run in order on it. */
export class QemuMonitor {
	private buffer = "";
	private waiting: ((text: string) => void) | undefined;
	private chain: Promise<unknown> = Promise.resolve();

	private constructor(
		private readonly socket: net.Socket,
		private readonly timeoutMs: number,
	) {
		socket.setEncoding("latin1");
		socket.on("data", (data: string) => {
			this.buffer += data;
			this.answer();
		});
	}

	/** Connects and waits for the first prompt. */
	static async connect(path: string, timeoutMs = 10_000): Promise<QemuMonitor> {
		const socket = net.connect(path);
		const monitor = new QemuMonitor(socket, timeoutMs);
		try {
			await new Promise<void>((resolve, reject) => {
				socket.once("connect", resolve);
				socket.once("error", reject);
			});
			await monitor.untilPrompt("the first prompt", timeoutMs);
		} catch (error) {
			socket.destroy();
			throw error;
		}
		return monitor;
	}

	/** Runs one command; resolves with its reply, without the echoed command line, escapes and prompt. */
	run(command: string, timeoutMs = this.timeoutMs): Promise<string> {
		const next = this.chain.then(async () => {
			const reply = this.untilPrompt(command, timeoutMs);
			this.socket.write(`${command}\n`);
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
		this.socket.destroy();
	}

	private answer(): void {
		if (!this.waiting || !this.buffer.endsWith(PROMPT)) return;
		const text = this.buffer;
		const waiting = this.waiting;
		this.buffer = "";
		this.waiting = undefined;
		waiting(text);
	}

	private untilPrompt(what: string, timeoutMs: number): Promise<string> {
		return new Promise((resolve, reject) => {
			const timer = setTimeout(() => {
				this.waiting = undefined;
				reject(new Error(`the QEMU monitor did not answer ${what} within ${timeoutMs / 1000} s`));
			}, timeoutMs);
			this.waiting = (text) => {
				clearTimeout(timer);
				resolve(text);
			};
			this.answer();
		});
	}
}

/** A binary PPM as QEMU writes it (P6, maxval 255): RGB, 3 bytes a pixel. */
export interface Ppm {
	width: number;
	height: number;
	rgb: Uint8Array;
}

/** The picture, or undefined while the file is not complete (QEMU writes it after answering). */
export function parsePpm(data: Uint8Array): Ppm | undefined {
	const head = new TextDecoder("latin1").decode(data.subarray(0, 64));
	const m = /^P6\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(head);
	if (m?.[3] !== "255") return undefined;
	const width = Number(m[1]);
	const height = Number(m[2]);
	const start = m[0].length;
	if (data.length < start + width * height * 3) return undefined;
	return { width, height, rgb: new Uint8Array(data.subarray(start, start + width * height * 3)) };
}

/** QEMU's own picture of the framebuffer, through a file `file` that is removed afterwards. */
export async function screendump(monitor: QemuMonitor, file: string): Promise<Ppm> {
	await monitor.run(`screendump ${file}`);
	for (let i = 0; i < 250; i++) {
		const ppm = existsSync(file) ? parsePpm(new Uint8Array(readFileSync(file))) : undefined;
		if (ppm) {
			rmSync(file, { force: true });
			return ppm;
		}
		await Bun.sleep(20);
	}
	throw new Error("screendump did not produce a complete PPM within 5 s");
}
