/**
 * A QEMU VM for making fixtures: starts qemu-system-x86_64 with a monitor on a
 * unix socket in its own temp dir, talks HMP (screendump, sendkey, xp), and
 * stops only the process it started. Used by scripts/make-fixtures.ts (not CI).
 */

import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Subprocess, spawn } from "bun";

const ANSI_ESCAPE = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*[A-Za-z]`, "g");

export interface Ppm {
	width: number;
	height: number;
	rgb: Uint8Array;
}

export function readPpm(path: string): Ppm {
	const data = readFileSync(path);
	const head = data.subarray(0, 64).toString("latin1");
	const m = /^P6\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(head);
	if (!m) throw new Error(`${path}: not a P6 ppm`);
	const width = Number(m[1]);
	const height = Number(m[2]);
	const rgb = new Uint8Array(data.subarray(m[0].length, m[0].length + width * height * 3));
	if (rgb.length !== width * height * 3) throw new Error(`${path}: truncated`);
	return { width, height, rgb };
}

export class QemuVm {
	readonly dir: string;
	readonly monitorPath: string;
	readonly serialPath: string;
	private proc?: Subprocess;

	constructor(private readonly args: string[]) {
		this.dir = mkdtempSync(join(tmpdir(), "ikvm-fixture-"));
		this.monitorPath = join(this.dir, "mon.sock");
		this.serialPath = join(this.dir, "serial.log");
	}

	async start(): Promise<void> {
		const argv = [
			"qemu-system-x86_64",
			"-nodefaults",
			"-display",
			"none",
			"-monitor",
			`unix:${this.monitorPath},server,nowait`,
			"-serial",
			`file:${this.serialPath}`,
			"-no-reboot",
			...this.args,
		];
		this.proc = spawn(argv, { stdout: "ignore", stderr: "pipe", stdin: "ignore" });
		for (let i = 0; i < 100 && !existsSync(this.monitorPath); i++) await Bun.sleep(100);
		if (!existsSync(this.monitorPath)) {
			const err = await new Response(this.proc.stderr as ReadableStream).text();
			throw new Error(`qemu did not start: ${err}`);
		}
	}

	/** One HMP command; returns its reply without the echo and prompt. */
	monitor(command: string, timeoutMs = 20_000): Promise<string> {
		return new Promise((resolve, reject) => {
			const sock = createConnection(this.monitorPath);
			let buf = "";
			let sent = false;
			const timer = setTimeout(() => {
				sock.destroy();
				reject(new Error(`monitor timeout: ${command}`));
			}, timeoutMs);
			sock.on("data", (d) => {
				buf += d.toString("latin1");
				if (!buf.endsWith("(qemu) ")) return;
				if (!sent) {
					sent = true;
					buf = "";
					sock.write(`${command}\n`);
					return;
				}
				clearTimeout(timer);
				sock.end();
				const clean = buf.replace(ANSI_ESCAPE, "").replace(/\r/g, "");
				const body = clean.includes("\n") ? clean.slice(clean.indexOf("\n") + 1) : "";
				resolve(body.slice(0, -"(qemu) ".length));
			});
			sock.on("error", (e) => {
				clearTimeout(timer);
				reject(e);
			});
		});
	}

	async screendump(): Promise<Ppm> {
		const path = join(this.dir, `shot-${Date.now()}.ppm`);
		await this.monitor(`screendump ${path}`);
		for (let i = 0; i < 50; i++) {
			try {
				const ppm = readPpm(path);
				rmSync(path);
				return ppm;
			} catch {
				await Bun.sleep(100);
			}
		}
		throw new Error("screendump failed");
	}

	/** Physical memory bytes via `xp` (works for the VGA window too). */
	async readPhys(addr: number, length: number): Promise<Uint8Array> {
		const out = new Uint8Array(length);
		const chunk = 1024;
		for (let off = 0; off < length; off += chunk) {
			const n = Math.min(chunk, length - off);
			const reply = await this.monitor(`xp /${n}bx 0x${(addr + off).toString(16)}`);
			let i = off;
			for (const line of reply.split("\n")) {
				const colon = line.indexOf(":");
				if (colon < 0) continue;
				for (const hex of line
					.slice(colon + 1)
					.trim()
					.split(/\s+/)) {
					if (hex) out[i++] = Number.parseInt(hex, 16);
				}
			}
			if (i !== off + n) throw new Error(`xp returned ${i - off} of ${n} bytes`);
		}
		return out;
	}

	async sendKeys(keys: string[], gapMs = 150): Promise<void> {
		for (const k of keys) {
			await this.monitor(`sendkey ${k}`);
			await Bun.sleep(gapMs);
		}
	}

	serial(): string {
		try {
			return readFileSync(this.serialPath, "latin1");
		} catch {
			return "";
		}
	}

	async waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 120_000): Promise<void> {
		const deadline = Date.now() + timeoutMs;
		while (Date.now() < deadline) {
			if (this.proc?.exitCode !== null && this.proc?.exitCode !== undefined)
				throw new Error(`qemu exited waiting for ${what}`);
			if (await check()) return;
			await Bun.sleep(500);
		}
		throw new Error(`timed out waiting for ${what}`);
	}

	/** Waits until two screendumps a second apart differ in fewer than `tolerance` pixels. */
	async waitStable(tolerance = 200, timeoutMs = 60_000): Promise<Ppm> {
		const deadline = Date.now() + timeoutMs;
		let prev = await this.screendump();
		while (Date.now() < deadline) {
			await Bun.sleep(1000);
			const cur = await this.screendump();
			if (cur.width === prev.width && cur.height === prev.height) {
				let diff = 0;
				for (let i = 0; i < cur.rgb.length; i += 3) {
					if (cur.rgb[i] !== prev.rgb[i] || cur.rgb[i + 1] !== prev.rgb[i + 1] || cur.rgb[i + 2] !== prev.rgb[i + 2])
						diff++;
				}
				if (diff < tolerance) return cur;
			}
			prev = cur;
		}
		throw new Error("screen never settled");
	}

	async stop(): Promise<void> {
		if (this.proc && this.proc.exitCode === null) {
			this.proc.kill("SIGTERM");
			const exited = await Promise.race([this.proc.exited.then(() => true), Bun.sleep(5000).then(() => false)]);
			if (!exited) this.proc.kill("SIGKILL");
		}
		rmSync(this.dir, { recursive: true, force: true });
	}
}
