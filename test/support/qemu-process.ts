/**
 * One qemu-system-x86_64 process in its own temp dir: no display and no default devices, the monitor
 * on a unix socket and the serial port in a file there; the caller adds the machine (kernel, disks,
 * VNC). Stops only the process it started. Shared by the QEMU tests (./qemu.ts) and
 * scripts/qemu-vm.ts.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { type Ppm, QemuMonitor, screendump } from "./qemu-monitor.ts";

/** The newest /boot/vmlinuz-*, or undefined when there is none. */
export function findKernel(): string | undefined {
	try {
		const last = readdirSync("/boot")
			.filter((f) => f.startsWith("vmlinuz-"))
			.sort()
			.at(-1);
		return last ? join("/boot", last) : undefined;
	} catch {
		return undefined;
	}
}

export interface QemuProcessOptions {
	/** Prefix of the temp dir's name, so a leftover dir says who made it. */
	tmpPrefix?: string;
	/** How long QEMU may take to open its monitor socket. */
	startTimeoutMs?: number;
	/** Default time limit of one monitor command. */
	monitorTimeoutMs?: number;
}

export class QemuProcess {
	private dumps = 0;

	private constructor(
		readonly dir: string,
		readonly serialPath: string,
		private readonly proc: Subprocess<"ignore", "ignore", "pipe">,
		private readonly hmp: QemuMonitor,
	) {}

	/** Starts QEMU with `args` added to the fixed ones, and connects to its monitor. */
	static async start(args: string[], options: QemuProcessOptions = {}): Promise<QemuProcess> {
		const dir = mkdtempSync(join(tmpdir(), options.tmpPrefix ?? "ikvm-qemu-"));
		const monitorPath = join(dir, "mon.sock");
		const serialPath = join(dir, "serial.log");
		const proc = Bun.spawn(
			[
				"qemu-system-x86_64",
				"-nodefaults",
				"-display",
				"none",
				"-monitor",
				`unix:${monitorPath},server,nowait`,
				"-serial",
				`file:${serialPath}`,
				"-no-reboot",
				...args,
			],
			{ stdin: "ignore", stdout: "ignore", stderr: "pipe" },
		);
		try {
			const deadline = Date.now() + (options.startTimeoutMs ?? 20_000);
			while (!existsSync(monitorPath)) {
				// Callers retry on "exited": that is how a VNC port taken since we probed it shows.
				if (proc.exitCode !== null)
					throw new Error(`qemu exited at start: ${(await new Response(proc.stderr).text()).trim()}`);
				if (Date.now() > deadline) throw new Error("the QEMU monitor socket did not appear");
				await Bun.sleep(50);
			}
			const hmp = await QemuMonitor.connect(monitorPath, options.monitorTimeoutMs);
			return new QemuProcess(dir, serialPath, proc, hmp);
		} catch (error) {
			proc.kill("SIGKILL");
			await proc.exited;
			rmSync(dir, { recursive: true, force: true });
			throw error;
		}
	}

	get exited(): boolean {
		return this.proc.exitCode !== null;
	}

	/** One HMP command; its reply without the echo and prompt. */
	monitor(command: string, timeoutMs?: number): Promise<string> {
		return this.hmp.run(command, timeoutMs);
	}

	/** QEMU's own picture of the framebuffer: the ground truth for pixels. */
	screendump(): Promise<Ppm> {
		return screendump(this.hmp, join(this.dir, `dump-${this.dumps++}.ppm`));
	}

	/** What the guest wrote to its serial port so far, line ends as "\n". */
	serialLog(): string {
		return existsSync(this.serialPath) ? readFileSync(this.serialPath, "latin1").replace(/\r/g, "") : "";
	}

	async stop(graceMs = 3000): Promise<void> {
		this.hmp.close();
		if (this.proc.exitCode === null) {
			this.proc.kill("SIGTERM");
			const done = await Promise.race([this.proc.exited.then(() => true), Bun.sleep(graceMs).then(() => false)]);
			if (!done) {
				this.proc.kill("SIGKILL");
				await this.proc.exited;
			}
		}
		rmSync(this.dir, { recursive: true, force: true });
	}
}
