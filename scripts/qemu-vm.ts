/**
 * A QEMU VM for making fixtures, on the tests' QEMU process and monitor helpers, with what only
 * fixtures need: any machine arguments (cdrom, OVMF firmware, initrd), physical memory reads (`xp`),
 * key presses (`sendkey`) and waits for a screen that has settled. Used by scripts/make-fixtures.ts
 * (not CI).
 */

import type { Ppm } from "../test/support/qemu-monitor.ts";
import { QemuProcess } from "../test/support/qemu-process.ts";

export { PANIC_CMDLINE } from "../test/support/qemu.ts";
export type { Ppm } from "../test/support/qemu-monitor.ts";
export { findKernel } from "../test/support/qemu-process.ts";

export class QemuVm {
	private qemu?: QemuProcess;

	constructor(private readonly args: string[]) {}

	async start(): Promise<void> {
		// xp over the whole VGA window takes a while under TCG: a longer monitor limit than the tests'.
		this.qemu = await QemuProcess.start(this.args, { tmpPrefix: "ikvm-fixture-", monitorTimeoutMs: 20_000 });
	}

	private get running(): QemuProcess {
		if (!this.qemu) throw new Error("the VM is not started");
		return this.qemu;
	}

	/** One HMP command; returns its reply without the echo and prompt. */
	monitor(command: string, timeoutMs?: number): Promise<string> {
		return this.running.monitor(command, timeoutMs);
	}

	screendump(): Promise<Ppm> {
		return this.running.screendump();
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
		return this.qemu?.serialLog() ?? "";
	}

	async waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 120_000): Promise<void> {
		const deadline = Date.now() + timeoutMs;
		while (Date.now() < deadline) {
			if (this.running.exited) throw new Error(`qemu exited waiting for ${what}`);
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
		await this.qemu?.stop(5000);
	}
}
