/**
 * The demo's tiny machine behind a console: it boots (a few kernel-like lines),
 * asks for a login, and runs a small shell that echoes what is typed and knows
 * `help`, `echo`, `uptime`, `clear` and `exit`. Ctrl+Alt+Delete reboots it,
 * power off shows "no signal", power on boots it again, and the pointer is
 * drawn where it was last moved or clicked. Pure state plus one timer for the
 * boot; the mock BMC and the demo RFB server feed it keys and render it.
 */
import { type ConsoleLine, type ConsolePicture, renderConsole } from "./console-picture.ts";

export type ShellState = "booting" | "login" | "password" | "shell" | "off";

export interface DemoShellOptions {
	hostname?: string;
	width?: number;
	height?: number;
	/** Time from power on to the login prompt. */
	bootMs?: number;
	/** Called whenever the picture changed. */
	onChange?: () => void;
}

const BOOT_LINES = [
	"[    0.000000] Linux version 6.1.0-demo (ikvm-mcp demo machine)",
	"[    0.112233] ACPI: Core revision 20220331",
	"[    0.733001] Run /sbin/init as init process",
	"[    1.020304] systemd[1]: Reached target Multi-User System.",
	"",
];

const WHITE = [255, 255, 255] as const;

export class DemoShell {
	readonly hostname: string;
	readonly width: number;
	readonly height: number;
	private readonly bootMs: number;
	private lines: string[] = [];
	private input = "";
	private user = "";
	private stateValue: ShellState = "off";
	private bootedAt = Date.now();
	private bootTimer: ReturnType<typeof setTimeout> | undefined;
	private pointerAt: { x: number; y: number; clicked: boolean } | undefined;
	private version = 0;
	private rendered: { version: number; picture: ConsolePicture } | undefined;
	onChange: (() => void) | undefined;

	constructor(options: DemoShellOptions = {}) {
		this.hostname = options.hostname ?? "demo";
		this.width = options.width ?? 640;
		this.height = options.height ?? 480;
		this.bootMs = options.bootMs ?? 1200;
		this.onChange = options.onChange;
		this.powerOn();
	}

	get state(): ShellState {
		return this.stateValue;
	}

	/** Changes with every repaint; a renderer caches by it. */
	get pictureVersion(): number {
		return this.version;
	}

	private get rows(): number {
		return Math.floor(this.height / 16);
	}

	private get columns(): number {
		return Math.floor(this.width / 8);
	}

	powerOn(): void {
		if (this.stateValue !== "off") return;
		this.boot([]);
	}

	powerOff(): void {
		clearTimeout(this.bootTimer);
		this.stateValue = "off";
		this.lines = [];
		this.input = "";
		this.changed();
	}

	/** Ctrl+Alt+Delete or a hard reset: the boot lines, then the login prompt again. */
	reboot(how: "ctrl-alt-del" | "reset" = "ctrl-alt-del"): void {
		if (this.stateValue === "off") return;
		this.boot(how === "ctrl-alt-del" ? [...this.lines, "", "Rebooting (Ctrl+Alt+Delete)...", ""] : []);
	}

	stop(): void {
		clearTimeout(this.bootTimer);
	}

	private boot(before: string[]): void {
		clearTimeout(this.bootTimer);
		this.stateValue = "booting";
		this.lines = [...before.slice(-this.rows), ...BOOT_LINES];
		this.input = "";
		this.changed();
		this.bootTimer = setTimeout(() => {
			this.bootedAt = Date.now();
			this.stateValue = "login";
			this.lines = [...this.lines, `Demo Linux 12 ${this.hostname} tty1`, ""];
			this.changed();
		}, this.bootMs);
		this.bootTimer.unref?.();
	}

	/** A printable character typed. */
	typeChar(ch: string): void {
		if (this.stateValue === "off" || this.stateValue === "booting") return;
		if (this.input.length < 200) this.input += ch;
		this.changed();
	}

	backspace(): void {
		if (!this.input) return;
		this.input = this.input.slice(0, -1);
		this.changed();
	}

	/** Ctrl+C: abandon the line. */
	interrupt(): void {
		if (this.stateValue === "off" || this.stateValue === "booting") return;
		this.lines.push(`${this.prompt()}${this.visibleInput()}^C`);
		this.input = "";
		this.changed();
	}

	enter(): void {
		if (this.stateValue === "off" || this.stateValue === "booting") return;
		const line = this.input;
		this.lines.push(`${this.prompt()}${this.visibleInput()}`);
		this.input = "";
		if (this.stateValue === "login") {
			if (line.trim()) {
				this.user = line.trim();
				this.stateValue = "password";
			}
		} else if (this.stateValue === "password") {
			this.stateValue = "shell";
			this.lines.push(`Welcome, ${this.user}. Type "help" for the commands.`);
		} else {
			this.run(line.trim());
		}
		this.changed();
	}

	/** The pointer moved (and maybe clicked) at framebuffer pixels. */
	pointer(x: number, y: number, buttons: number): void {
		const clicked = buttons !== 0 || (this.pointerAt?.clicked ?? false);
		this.pointerAt = { x, y, clicked };
		this.changed();
	}

	private run(command: string): void {
		const [name = "", ...args] = command.split(/\s+/);
		switch (name) {
			case "":
				return;
			case "help":
				this.lines.push("Commands: help, echo TEXT, uptime, clear, exit. Ctrl+Alt+Delete reboots.");
				return;
			case "echo":
				this.lines.push(command.replace(/^echo\s?/, ""));
				return;
			case "uptime": {
				const s = Math.floor((Date.now() - this.bootedAt) / 1000);
				const clock = new Date().toISOString().slice(11, 19);
				this.lines.push(
					` ${clock} up ${Math.floor(s / 60)} min, ${s % 60} s,  1 user,  load average: 0.00, 0.01, 0.05`,
				);
				return;
			}
			case "clear":
				this.lines = [];
				return;
			case "exit":
			case "logout":
				this.stateValue = "login";
				this.lines.push("", `Demo Linux 12 ${this.hostname} tty1`, "");
				return;
			default:
				this.lines.push(`-sh: ${name}: command not found${args.length ? "" : ""}`);
		}
	}

	private prompt(): string {
		switch (this.stateValue) {
			case "login":
				return `${this.hostname} login: `;
			case "password":
				return "Password: ";
			case "shell":
				return `${this.user}@${this.hostname}:~# `;
			default:
				return "";
		}
	}

	/** Passwords are not echoed. */
	private visibleInput(): string {
		return this.stateValue === "password" ? "" : this.input;
	}

	/** The screen text rows (for tests), as drawn. */
	screenLines(): string[] {
		if (this.stateValue === "off") return [];
		const all = [...this.lines];
		if (this.stateValue !== "booting") all.push(`${this.prompt()}${this.visibleInput()}_`);
		const wrapped = all.flatMap((l) => wrap(l, this.columns));
		return wrapped.slice(-this.rows);
	}

	render(): ConsolePicture {
		if (this.rendered?.version === this.version) return this.rendered.picture;
		const picture =
			this.stateValue === "off"
				? noSignal(this.width, this.height)
				: renderConsole(
						this.width,
						this.height,
						this.screenLines().map((text): ConsoleLine => ({ text })),
					);
		if (this.pointerAt && this.stateValue !== "off") drawPointer(picture, this.pointerAt.x, this.pointerAt.y);
		this.rendered = { version: this.version, picture };
		return picture;
	}

	private changed(): void {
		this.version++;
		this.onChange?.();
	}
}

function wrap(line: string, columns: number): string[] {
	if (line.length <= columns) return [line];
	const out: string[] = [];
	for (let i = 0; i < line.length; i += columns) out.push(line.slice(i, i + columns));
	return out;
}

/** What a monitor shows without a signal: black, with a framed "No signal" in the middle. */
function noSignal(width: number, height: number): ConsolePicture {
	const rows = Math.floor(height / 16);
	const columns = Math.floor(width / 8);
	const text = "  No signal  ";
	const pad = " ".repeat(Math.max(0, Math.floor((columns - text.length) / 2)));
	const lines: ConsoleLine[] = Array.from({ length: rows }, () => ({ text: "" }));
	lines[Math.floor(rows / 2)] = { text: `${pad}${text}`, fg: [0, 0, 0], bg: [200, 200, 200] };
	return renderConsole(width, height, lines);
}

/** A classic arrow pointer, white with a black outline, its tip at (x, y). */
const ARROW = [
	"X",
	"XX",
	"XOX",
	"XOOX",
	"XOOOX",
	"XOOOOX",
	"XOOOOOX",
	"XOOOOOOX",
	"XOOOOOOOX",
	"XOOOOOXXXX",
	"XOOXOOX",
	"XOX XOOX",
	"XX  XOOX",
	"     XOOX",
	"     XXX",
];

function drawPointer(picture: ConsolePicture, x: number, y: number): void {
	ARROW.forEach((row, dy) => {
		for (let dx = 0; dx < row.length; dx++) {
			const c = row[dx];
			if (c === " ") continue;
			const px = x + dx;
			const py = y + dy;
			if (px >= picture.width || py >= picture.height) continue;
			const o = (py * picture.width + px) * 4;
			const v = c === "O" ? WHITE : ([0, 0, 0] as const);
			picture.rgba[o] = v[0];
			picture.rgba[o + 1] = v[1];
			picture.rgba[o + 2] = v[2];
		}
	});
}
