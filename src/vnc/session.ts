/**
 * A VNC console session: a byte stream (WebSocket or TCP) driving the RFB
 * state machine, with a deadline on every wait (connect, handshake, frame),
 * cancellation through the caller's signal, and one error per failure that
 * names the stage. A session stays connected between captures; each capture
 * asks for the whole screen again and returns once every pixel has been
 * repainted, so a picture is never a mix of stale and fresh rectangles.
 */

import type { CallContext } from "../call-context.ts";
import type { ConsoleLimits, ConsoleOpener, ConsoleSession, ConsoleTarget } from "../console/types.ts";
import { IkvmError, type Stage, throwIfAborted, wrapUnknown } from "../errors.ts";
import type { Frame } from "../frame.ts";
import type { InputOutcome, KeyStep, PointerStep } from "../input/types.ts";
import { log } from "../log.ts";
import {
	type ByteStream,
	type CloseInfo,
	describeEndpoint,
	openByteStream,
	type StreamEndpoint,
} from "../net/byte-stream.ts";
import { bunTlsOptions } from "../net/tls.ts";
import { registerSecret } from "../redact.ts";
import { seconds, sleep, withDeadline } from "../timing.ts";
import { HeldInput, keyMessage, pointerEventMessage, strokeEvents, XvpCode, xvpMessage } from "./input.ts";
import { RfbClient, type UpdateSummary } from "./rfb-client.ts";
import type { VncTarget } from "./target.ts";

export interface VncTimeouts {
	/** TCP connect or WebSocket upgrade. */
	connectMs: number;
	/** From connected to ServerInit (version, security, authentication). */
	handshakeMs: number;
	/** From our update request to a completely painted framebuffer. */
	frameMs: number;
}

export const DEFAULT_VNC_TIMEOUTS: VncTimeouts = { connectMs: 10_000, handshakeMs: 10_000, frameMs: 20_000 };

/**
 * Pause after each key event. QEMU queues key events itself and lost none even
 * unpaced (bench/input.ts: 66 mixed characters at 0, 1, 2 and 4 ms per event,
 * each read back exactly); servers that inject straight into X or uinput see a
 * burst as one, so a small pause keeps the order and the key repeat timers calm.
 */
export const DEFAULT_KEY_EVENT_DELAY_MS = 2;
/** Pause after each pointer event (a double click's two clicks stay well inside any double-click time). */
export const DEFAULT_POINTER_EVENT_DELAY_MS = 15;

export interface VncSessionOptions {
	timeouts?: Partial<VncTimeouts>;
	/** Pixel encodings to announce, in preference order (tests pin one to exercise its decoder). */
	encodings?: readonly number[];
	/** Called after every framebuffer update (diagnostics, tests). */
	onUpdate?: (summary: UpdateSummary) => void;
	/** Pause after each key event (default DEFAULT_KEY_EVENT_DELAY_MS). */
	keyEventDelayMs?: number;
	/** Pause after each pointer event (default DEFAULT_POINTER_EVENT_DELAY_MS). */
	pointerEventDelayMs?: number;
	/** Send plain KeyEvents even when the server offers QEMU extended key events (tests, comparison). */
	keysymsOnly?: boolean;
	/**
	 * The server ignores this viewer's input (a view-only password or server setting). RFB does not say
	 * so on the wire, so only the operator can; input is then reported "not-delivered".
	 */
	viewOnly?: boolean;
}

/** What a VNC session can do about power: XVP, when the server announced it. */
export type VncPowerAction = "shutdown" | "reboot" | "reset";

const vncLog = log.child("vnc");

/** Where a VncTarget points, validated. */
export function vncEndpoint(target: VncTarget): StreamEndpoint {
	if (target.url) {
		let url: URL;
		try {
			url = new URL(target.url);
		} catch {
			throw new IkvmError("BAD_INPUT", "The VNC target URL is not a valid URL.", {
				stage: "connect",
				hint: "Use ws://host:port/path, wss://host:port/path, or host and port for plain TCP.",
			});
		}
		if (url.protocol === "ws:" || url.protocol === "wss:") {
			return {
				kind: "ws",
				url: target.url,
				headers: target.headers,
				insecure: target.tls?.insecure === true,
				tls: bunTlsOptions(target.tls),
			};
		}
		if (url.protocol === "vnc:" && url.hostname) {
			return { kind: "tcp", host: url.hostname.replace(/^\[|\]$/g, ""), port: url.port ? Number(url.port) : 5900 };
		}
		throw new IkvmError("BAD_INPUT", `A VNC target URL must start with ws:// or wss:// (got ${url.protocol}//).`, {
			stage: "connect",
			hint: "For a plain TCP VNC server give host and port instead of url.",
		});
	}
	if (target.host) {
		const port = target.port ?? 5900;
		if (!Number.isInteger(port) || port < 1 || port > 65535) {
			throw new IkvmError("BAD_INPUT", `Invalid VNC port ${port}.`, { stage: "connect" });
		}
		return { kind: "tcp", host: target.host, port };
	}
	throw new IkvmError("BAD_INPUT", "A VNC target needs a url (ws:// or wss://) or a host and port.", {
		stage: "connect",
	});
}

interface Waiter {
	stage: Stage;
	resolve(): void;
	reject(error: IkvmError): void;
}

export class VncSession implements ConsoleSession {
	readonly description: string;
	private readonly client: RfbClient;
	private failure: IkvmError | undefined;
	private waiter: Waiter | undefined;
	private capturing = false;
	private chain: Promise<unknown> = Promise.resolve();
	private readonly held = new HeldInput();
	private xvpFailures = 0;

	constructor(
		private readonly stream: ByteStream,
		limits: ConsoleLimits,
		private readonly timeouts: VncTimeouts,
		password: string | undefined,
		private readonly options: VncSessionOptions,
	) {
		this.description = `vnc ${stream.description}`;
		this.client = new RfbClient(
			{ password, limits, encodings: options.encodings },
			{
				send: (bytes) => this.stream.send(bytes),
				ready: () => this.settle(),
				updateEnd: (summary) => this.onUpdateEnd(summary),
				xvp: (code) => {
					if (code === XvpCode.FAIL) this.xvpFailures++;
				},
			},
		);
		stream.start(
			(chunk) => this.onData(chunk),
			(info) => this.onClose(info),
		);
	}

	get closed(): boolean {
		return this.failure !== undefined || this.stream.closed;
	}

	get screenSize(): { width: number; height: number } | undefined {
		const fb = this.client.framebuffer;
		return fb ? { width: fb.width, height: fb.height } : undefined;
	}

	/** The server takes QEMU extended key events (XT scan codes), and this session uses them. */
	get sendsScancodes(): boolean {
		return this.client.extendedKeyEvents && !this.options.keysymsOnly;
	}

	/** The server announced XVP power control. */
	get supportsXvp(): boolean {
		return this.client.xvpSupported;
	}

	/** For logs: what the server told us about itself. */
	details(): Record<string, unknown> {
		const init = this.client.serverInit;
		return {
			console: this.description,
			rfb: this.client.negotiatedVersion,
			size: init ? `${init.width}x${init.height}` : undefined,
			name: init?.name,
		};
	}

	/** Waits for ServerInit. */
	async handshake(ctx: CallContext): Promise<void> {
		ctx.progress("handshake", `RFB handshake with ${this.stream.description}`);
		if (this.client.isReady) return;
		await this.waitFor("handshake", ctx, this.timeouts.handshakeMs, () => {
			return new IkvmError(
				"TIMEOUT",
				`The VNC server ${this.stream.description} did not finish the handshake within ${seconds(this.timeouts.handshakeMs)}: no answer while waiting for ${this.client.awaiting ?? "ServerInit"}.`,
				{
					stage: "handshake",
					hint: "Check that this address is a VNC server (for WebSocket consoles, the URL path), and that it is not waiting on another viewer.",
					retryable: true,
				},
			);
		});
	}

	capture(ctx: CallContext): Promise<Frame> {
		const run = this.chain.then(() => this.captureNow(ctx));
		this.chain = run.catch(() => {});
		return run;
	}

	private async captureNow(ctx: CallContext): Promise<Frame> {
		throwIfAborted(ctx.signal, "first-frame");
		if (this.failure) throw this.failure;
		const fb = this.client.framebuffer;
		if (!fb || this.stream.closed) throw this.closedError("first-frame");
		ctx.progress("first-frame", `Waiting for a full frame from ${this.stream.description}`);
		fb.resetPainted();
		this.capturing = true;
		try {
			const painted = this.waitFor("first-frame", ctx, this.timeouts.frameMs, () => {
				const now = this.client.framebuffer ?? fb;
				return new IkvmError(
					"TIMEOUT",
					`The VNC server ${this.stream.description} did not send a complete ${now.width}x${now.height} frame within ${seconds(this.timeouts.frameMs)}.`,
					{
						stage: "first-frame",
						hint: "The server took the connection but did not send the whole screen: it may be overloaded, or waiting for someone to approve this viewer. Try again.",
						retryable: true,
					},
				);
			});
			this.client.requestFullUpdate();
			await painted;
		} finally {
			this.capturing = false;
		}
		return (this.client.framebuffer ?? fb).snapshot();
	}

	sendKeys(steps: readonly KeyStep[], ctx: CallContext): Promise<InputOutcome> {
		return this.serial(() => this.sendKeysNow(steps, ctx));
	}

	pointer(steps: readonly PointerStep[], ctx: CallContext): Promise<InputOutcome> {
		return this.serial(() => this.pointerNow(steps, ctx));
	}

	/**
	 * Asks the server for a power action over XVP (shutdown = ACPI power button, reboot = clean reboot,
	 * reset = hard reset). XVP has no acknowledgement of success, only XVP_FAIL; a failure that
	 * arrives within `waitMs` is reported.
	 */
	power(action: VncPowerAction, ctx: CallContext, waitMs = 500): Promise<void> {
		return this.serial(async () => {
			this.checkOpen("input");
			if (!this.client.xvpSupported) {
				throw new IkvmError(
					"NOT_SUPPORTED",
					`The VNC server ${this.stream.description} offers no power control (it did not announce the XVP extension).`,
					{
						stage: "input",
						hint: "Switch power where the VM or machine is managed (hypervisor, BMC, provider panel). Keyboard and mouse still work over VNC.",
					},
				);
			}
			const failuresBefore = this.xvpFailures;
			const code = action === "shutdown" ? XvpCode.SHUTDOWN : action === "reboot" ? XvpCode.REBOOT : XvpCode.RESET;
			this.client.sendMessage(xvpMessage(code));
			const until = Date.now() + waitMs;
			while (Date.now() < until && this.xvpFailures === failuresBefore && !this.closed) {
				await sleep(Math.min(50, waitMs), ctx.signal, "input");
			}
			if (this.xvpFailures !== failuresBefore) {
				throw new IkvmError("UPSTREAM", `The VNC server ${this.stream.description} refused the XVP ${action}.`, {
					stage: "input",
					hint: "The server's XVP is enabled but it could not carry out the action (some need a user or password set for XVP).",
				});
			}
		});
	}

	/** Runs `op` after every earlier capture or input on this session: one writer at a time. */
	private serial<T>(op: () => Promise<T>): Promise<T> {
		const run = this.chain.then(op);
		this.chain = run.catch(() => {});
		return run;
	}

	private checkOpen(stage: Stage): void {
		if (this.failure) throw this.failure;
		if (this.stream.closed || !this.client.isReady) throw this.closedError(stage);
	}

	private async sendKeysNow(steps: readonly KeyStep[], ctx: CallContext): Promise<InputOutcome> {
		throwIfAborted(ctx.signal, "input");
		this.checkOpen("input");
		if (this.options.viewOnly) return this.viewOnlyOutcome();
		const scancodes = this.sendsScancodes;
		const delay = this.options.keyEventDelayMs ?? DEFAULT_KEY_EVENT_DELAY_MS;
		let sent = 0;
		try {
			for (const step of steps) {
				if (step.kind === "wait") {
					await sleep(step.ms, ctx.signal, "input");
					continue;
				}
				for (const event of strokeEvents(step, scancodes)) {
					throwIfAborted(ctx.signal, "input");
					this.checkOpen("input");
					this.client.sendMessage(keyMessage(event));
					this.held.key(event);
					if (delay > 0) await sleep(delay, ctx.signal, "input");
				}
				sent++;
			}
		} catch (error) {
			throw this.inputError(error, sent, steps.length, "keys");
		} finally {
			this.releaseAll();
		}
		return { status: "delivered", sent };
	}

	private async pointerNow(steps: readonly PointerStep[], ctx: CallContext): Promise<InputOutcome> {
		throwIfAborted(ctx.signal, "input");
		this.checkOpen("input");
		if (this.options.viewOnly) return this.viewOnlyOutcome();
		const delay = this.options.pointerEventDelayMs ?? DEFAULT_POINTER_EVENT_DELAY_MS;
		let sent = 0;
		try {
			for (const step of steps) {
				if (step.kind === "wait") {
					await sleep(step.ms, ctx.signal, "input");
					continue;
				}
				this.checkPointer(step.x, step.y);
				this.checkOpen("input");
				this.client.sendMessage(pointerEventMessage(step.buttons, step.x, step.y));
				this.held.pointer(step.x, step.y, step.buttons);
				sent++;
				if (delay > 0) await sleep(delay, ctx.signal, "input");
			}
		} catch (error) {
			throw this.inputError(error, sent, steps.length, "pointer steps");
		} finally {
			this.releaseAll();
		}
		return { status: "delivered", sent };
	}

	private checkPointer(x: number, y: number): void {
		const size = this.screenSize;
		if (
			!Number.isInteger(x) ||
			!Number.isInteger(y) ||
			x < 0 ||
			y < 0 ||
			(size && (x >= size.width || y >= size.height))
		) {
			throw new IkvmError(
				"BAD_INPUT",
				`The pointer position (${x}, ${y}) is outside the ${size ? `${size.width}x${size.height}` : "current"} screen.`,
				{ stage: "input", hint: "Give framebuffer pixels from 0 to width-1 and height-1." },
			);
		}
	}

	/** Sends a release for every key and button still down, whatever ended the input. Never throws. */
	private releaseAll(): void {
		const messages = this.held.releaseMessages();
		if (messages.length === 0 || this.stream.closed) return;
		try {
			for (const m of messages) this.client.sendMessage(m);
		} catch (error) {
			vncLog.warn("could not release keys", { console: this.description, error: (error as Error).message });
		}
	}

	private viewOnlyOutcome(): InputOutcome {
		return {
			status: "not-delivered",
			reason: `The VNC console ${this.stream.description} is configured as view-only: the server ignores this viewer's keyboard and mouse. Use a full-access VNC password or server setting for this target.`,
			sent: 0,
		};
	}

	private inputError(error: unknown, sent: number, total: number, what: string): IkvmError {
		const e =
			error instanceof IkvmError
				? error
				: new IkvmError("INTERNAL", `VNC input failed: ${(error as Error).message}`, { cause: error, stage: "input" });
		if (e.code === "BAD_INPUT") return e;
		const counted = `${sent} of ${total} ${what} went out before this`;
		return new IkvmError(e.code, `${e.message.replace(/\.$/, "")} (${counted}; everything held was released).`, {
			stage: e.stage ?? "input",
			hint: e.hint,
			retryable: false,
			cause: e,
		});
	}

	async close(): Promise<void> {
		if (!this.failure) {
			this.releaseAll();
			this.fail(new IkvmError("CANCELLED", "The VNC session was closed.", { stage: "first-frame" }));
		}
	}

	private onData(chunk: Uint8Array): void {
		if (this.failure) return;
		try {
			this.client.receive(chunk);
		} catch (error) {
			this.fail(wrapUnknown(error, "decode", "The VNC decoder"));
		}
	}

	private onUpdateEnd(summary: UpdateSummary): void {
		this.options.onUpdate?.(summary);
		if (!this.capturing) return;
		const fb = this.client.framebuffer;
		if (fb?.complete) {
			this.settle();
		} else if (summary.resized) {
			// The screen changed size: what we asked for no longer covers it.
			this.client.requestFullUpdate();
		}
	}

	private onClose(info: CloseInfo): void {
		if (this.failure) return;
		const stage = this.waiter?.stage ?? "first-frame";
		this.fail(this.closedError(stage, info));
	}

	private closedError(stage: Stage, info?: CloseInfo): IkvmError {
		const how = info?.error
			? `failed (${info.error.message})`
			: `closed the connection${info?.code && info.code !== 1000 && info.code !== 1005 ? ` (WebSocket code ${info.code}${info.reason ? `: ${info.reason}` : ""})` : ""}`;
		return new IkvmError(
			"CONNECTION",
			`The VNC server ${this.stream.description} ${how} ${this.client.describePosition()}.`,
			{
				stage,
				hint:
					stage === "handshake"
						? "The server may allow one viewer at a time or reject this client's address; check its logs."
						: "The console went away; try again.",
				retryable: true,
			},
		);
	}

	/** Resolves the current wait. */
	private settle(): void {
		const waiter = this.waiter;
		this.waiter = undefined;
		waiter?.resolve();
	}

	/** Ends the session: closes the stream and rejects the current wait. Idempotent. */
	private fail(error: IkvmError): void {
		if (this.failure) return;
		this.failure = error;
		this.stream.close();
		const waiter = this.waiter;
		this.waiter = undefined;
		if (waiter) waiter.reject(error);
		else if (error.code !== "CANCELLED")
			vncLog.debug("session ended", { console: this.description, error: error.message });
	}

	/**
	 * Waits for the current step (handshake, a full frame) within `timeoutMs` and the caller's
	 * signal. A timeout or abort ends the session: a frame left half-painted is not worth keeping.
	 */
	private waitFor(stage: Stage, ctx: CallContext, timeoutMs: number, timeoutError: () => IkvmError): Promise<void> {
		if (this.failure) return Promise.reject(this.failure);
		return withDeadline<void>(
			(resolve, reject) => {
				const waiter: Waiter = { stage, resolve, reject };
				this.waiter = waiter;
				return () => {
					if (this.waiter === waiter) this.waiter = undefined;
				};
			},
			{ stage, signal: ctx.signal, timeoutMs, onTimeout: timeoutError },
		).catch((error: unknown) => {
			if (error instanceof IkvmError) this.fail(error);
			throw error;
		});
	}
}

/** An opener with its own timeouts or encodings (tests, benchmarks). */
export function createVncOpener(options: VncSessionOptions = {}): ConsoleOpener {
	const timeouts = { ...DEFAULT_VNC_TIMEOUTS, ...options.timeouts };
	return async (given: ConsoleTarget, ctx: CallContext, limits: ConsoleLimits): Promise<ConsoleSession> => {
		if (given.kind !== "vnc") {
			throw new IkvmError("INTERNAL", `The VNC opener was given a ${given.kind} target.`);
		}
		const target = given as VncTarget;
		registerSecret(target.password);
		const endpoint = vncEndpoint(target);
		throwIfAborted(ctx.signal, "connect");
		ctx.progress("connect", `Connecting to VNC server ${describeEndpoint(endpoint)}`);
		const stream = await openByteStream(endpoint, { signal: ctx.signal, timeoutMs: timeouts.connectMs });
		const session = new VncSession(stream, limits, timeouts, target.password, {
			...options,
			viewOnly: options.viewOnly ?? target.viewOnly,
		});
		try {
			await session.handshake(ctx);
		} catch (error) {
			await session.close();
			throw error;
		}
		vncLog.debug("connected", session.details());
		return session;
	};
}

/** Opens VNC console sessions (ConsoleOpener for `kind: "vnc"`). */
export const openVncSession: ConsoleOpener = createVncOpener();

/** One picture from a VNC server: connect, capture, close. */
export async function captureVncFrame(
	target: VncTarget,
	ctx: CallContext,
	limits: ConsoleLimits,
	options: VncSessionOptions = {},
): Promise<Frame> {
	const session = await createVncOpener(options)(target, ctx, limits);
	try {
		return await session.capture(ctx);
	} finally {
		await session.close();
	}
}
