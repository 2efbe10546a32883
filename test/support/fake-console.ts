/**
 * A console that records the input it is given and shows what was typed, like a
 * tiny shell: characters appear on the prompt line, Enter starts a new line. It
 * goes through the real ConsolePool (opened by `recordingOpener`), so queueing,
 * exclusivity and warm sessions are the real ones.
 */
import type { CallContext } from "../../src/call-context.ts";
import type { ConsoleHandle, ConsoleOpener, ConsoleSession, ConsoleTarget } from "../../src/console/types.ts";
import { abortReasonToError } from "../../src/errors.ts";
import type { Frame } from "../../src/frame.ts";
import type { LayoutName } from "../../src/input/layouts.ts";
import type { InputOutcome, KeyStep, KeyStroke, PointerStep, PowerAction, PowerResult } from "../../src/input/types.ts";
import type { Provider, ServerInfo, TargetControl } from "../../src/providers/types.ts";
import { vga16 } from "../../src/text/fonts/vga.ts";
import { renderConsole } from "./console-render.ts";

export interface ConsoleRecord {
	opened: number;
	strokes: KeyStroke[];
	pointer: PointerStep[];
	/** "keys-start", "keys-end", "pointer", "released" in order, to check calls never interleave. */
	events: string[];
	/** Lines on screen; the last is the prompt line being typed. */
	lines: string[];
	/** Keys held right now (pressed, not yet released). */
	held: Set<number>;
	/** Per-stroke delay, ms (to make calls overlap and to abort in the middle). */
	strokeMs: number;
	/** When set, input is reported not delivered with this reason. */
	notDelivered?: string;
}

export function newRecord(): ConsoleRecord {
	return { opened: 0, strokes: [], pointer: [], events: [], lines: ["# "], held: new Set(), strokeMs: 0 };
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
	return new Promise((resolve, reject) => {
		if (signal.aborted) return reject(abortReasonToError(signal.reason));
		const t = setTimeout(() => {
			signal.removeEventListener("abort", onAbort);
			resolve();
		}, ms);
		const onAbort = () => {
			clearTimeout(t);
			reject(abortReasonToError(signal.reason));
		};
		signal.addEventListener("abort", onAbort, { once: true });
	});
}

export const SCREEN = { width: 720, height: 400 };

/** Opens recording sessions; `records[target.url]` (the server id) collects what each received. */
export function recordingOpener(records: Record<string, ConsoleRecord>): ConsoleOpener {
	return async (target: ConsoleTarget) => {
		const id = (target as { url?: string }).url ?? "?";
		const rec = records[id] ?? newRecord();
		records[id] = rec;
		rec.opened++;
		let closed = false;
		const session: ConsoleSession = {
			description: `recording ${id}`,
			get closed() {
				return closed;
			},
			screenSize: SCREEN,
			async capture(): Promise<Frame> {
				return renderConsole(rec.lines.slice(-25), { font: vga16, cols: 80, rows: 25, cellWidth: 9 });
			},
			async sendKeys(steps: readonly KeyStep[], ctx: CallContext): Promise<InputOutcome> {
				if (rec.notDelivered) return { status: "not-delivered", reason: rec.notDelivered, sent: 0 };
				rec.events.push("keys-start");
				let sent = 0;
				try {
					for (const step of steps) {
						if (step.kind === "wait") {
							await pause(step.ms, ctx.signal);
							continue;
						}
						for (const m of step.modifiers) rec.held.add(m);
						rec.held.add(step.usage);
						rec.strokes.push(step);
						sent++;
						if (rec.strokeMs > 0) await pause(rec.strokeMs, ctx.signal);
						rec.held.clear();
						type(rec, step);
					}
				} finally {
					// Every key pressed is released on every exit.
					if (rec.held.size > 0) rec.events.push("released");
					rec.held.clear();
					rec.events.push("keys-end");
				}
				return { status: "delivered", sent };
			},
			async pointer(steps: readonly PointerStep[], ctx: CallContext): Promise<InputOutcome> {
				if (rec.notDelivered) return { status: "not-delivered", reason: rec.notDelivered, sent: 0 };
				rec.events.push("pointer");
				let sent = 0;
				for (const step of steps) {
					if (step.kind === "wait") await pause(step.ms, ctx.signal);
					else {
						rec.pointer.push(step);
						sent++;
					}
				}
				return { status: "delivered", sent };
			},
			async close() {
				closed = true;
			},
		};
		return session;
	};
}

function type(rec: ConsoleRecord, s: KeyStroke): void {
	const last = rec.lines.length - 1;
	if (s.label === "Enter") rec.lines.push("# ");
	else if (s.keysym >= 0x20 && s.keysym <= 0x7e && (s.modifiers.length === 0 || s.modifiers.every((m) => m === 0xe1))) {
		rec.lines[last] += String.fromCharCode(s.keysym);
	}
}

export interface ControlServer {
	readonly info: ServerInfo;
	readonly control: TargetControl["allowed"];
	readonly layout?: LayoutName;
}

/** A provider of recording consoles through the real pool, with per-target control and recorded power. */
export class ControlProvider implements Provider {
	readonly name = "fake";
	readonly powerCalls: PowerAction[] = [];

	constructor(
		private readonly servers: ControlServer[],
		private readonly canPower = true,
	) {}

	private find(serverId: string): ControlServer {
		const s = this.servers.find((x) => x.info.id === serverId);
		if (!s) throw new Error(`not mine: ${serverId}`);
		return s;
	}

	async listServers(): Promise<ServerInfo[]> {
		return this.servers.map((s) => s.info);
	}

	console(serverId: string): ConsoleHandle {
		this.find(serverId);
		return { key: serverId, resolve: async () => ({ kind: "vnc", url: serverId }) as ConsoleTarget };
	}

	control(serverId: string): TargetControl {
		const s = this.find(serverId);
		return { allowed: s.control, keyboardLayout: s.layout ?? "us", switchName: `the control field of "${serverId}"` };
	}

	async power(serverId: string, action: PowerAction): Promise<PowerResult> {
		this.find(serverId);
		if (!this.canPower) throw new Error("no power here");
		this.powerCalls.push(action);
		return {
			state: action === "off" || action === "shutdown" ? "off" : "on",
			source: "fake BMC",
			message: `did ${action}.`,
		};
	}
}
