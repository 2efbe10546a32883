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
import { drawCursor } from "./cursor.ts";
import { preferredEncodings } from "./encodings.ts";
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
 * Pause after each key event. Servers that inject straight into X or uinput
 * take events as fast as they come; a small pause keeps the order and the key
 * repeat timers calm.
 */
export const DEFAULT_KEY_EVENT_DELAY_MS = 2;
/**
 * On a server that takes QEMU extended key events (QEMU itself), the pause
 * matches QEMU's own key delay (its VNC option key-delay-ms, 10 ms by default):
 * QEMU queues faster events and feeds them to the guest at that pace, so a
 * faster sender would report "delivered" seconds before the guest has the keys,
 * and the screen read right after would not show them yet. Measured in
 * bench/input.ts: no key lost at any pace; at 10 ms the text is on screen as
 * soon as sendKeys returns.
 */
export const QEMU_KEY_EVENT_DELAY_MS = 10;
/** Pause after each pointer event (a double click's two clicks stay well inside any double-click time). */
export const DEFAULT_POINTER_EVENT_DELAY_MS = 15;

export interface VncSessionOptions {
	timeouts?: Partial<VncTimeouts>;
	/** Pixel encodings to announce, in preference order (tests pin one to exercise its decoder). */
	encodings?: readonly number[];
	/** Draw the pointer shape the server sent into each picture (default off: it can hide a character). */
	cursor?: boolean;
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

/** Longest the parser runs before it lets timers, aborts and other consoles have the event loop. */
const PUMP_SLICE_MS = 20;
/**
 * A capture that got nothing for this long asks for the whole screen again: a server that
 * answers only on change, or dropped a request, still gives a still screen in full.
 */
const REREQUEST_MS = 500;
/** First delay before asking again after a second empty update in a row; doubles up to REREQUEST_MS. */
const EMPTY_BACKOFF_MS = 20;

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
			if (target.tls?.fingerprint256 && !target.tls.insecure && !target.tls.ca) {
				throw new IkvmError("BAD_INPUT", "tls.fingerprint256 works for VNC over TCP (VeNCrypt) only, not for wss://.", {
					stage: "connect",
					hint: "For a wss:// console set tls.ca to its CA's PEM file, or tls.insecure for a self-signed lab certificate.",
				});
			}
			return {
				kind: "ws",
				url: target.url,
				headers: target.headers,
				insecure: target.tls?.insecure === true,
				// Already-read PEM and pins (Redfish-discovered consoles) or a CA file named in the config.
				...(target.tls?.ca ? { tls: bunTlsOptions(target.tls) } : {}),
				caFile: target.tls?.caFile,
				...(target.subprotocols ? { protocols: [target.subprotocols] } : {}),
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
	/** A pump continuation is scheduled (the parser yielded with bytes left). */
	private pumpScheduled = false;
	/** Re-asks for the whole screen when a capture hears nothing (see REREQUEST_MS). */
	private rerequestTimer: ReturnType<typeof setTimeout> | undefined;
	/** A delayed incremental request after repeated empty updates. */
	private laterTimer: ReturnType<typeof setTimeout> | undefined;
	/** Empty updates in a row during this capture. */
	private emptyStreak = 0;
	private readonly held = new HeldInput();
	private xvpFailures = 0;

	constructor(
		private readonly stream: ByteStream,
		limits: ConsoleLimits,
		private readonly timeouts: VncTimeouts,
		private readonly target: VncTarget,
		private readonly options: VncSessionOptions,
	) {
		this.description = `vnc ${stream.description}`;
		this.client = new RfbClient(
			{
				password: target.password,
				username: target.username,
				limits,
				encodings: options.encodings,
				canStartTls: stream.startTls !== undefined,
			},
			{
				send: (bytes) => this.stream.send(bytes),
				ready: () => this.settle(),
				updateEnd: (summary) => this.onUpdateEnd(summary),
				startTls: () => this.startTls(),
				error: (error) => this.fail(error),
				resume: () => {
					if (!this.pumpScheduled) this.pump();
				},
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
		this.emptyStreak = 0;
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
			this.armRerequest();
			await painted;
		} finally {
			this.capturing = false;
			this.disarmRerequest();
		}
		const frame = (this.client.framebuffer ?? fb).snapshot();
		const { cursor, pointer } = this.client.server;
		return this.options.cursor && cursor && pointer ? drawCursor(frame, cursor, pointer.x, pointer.y) : frame;
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
		const delay =
			this.options.keyEventDelayMs ??
			(this.client.extendedKeyEvents ? QEMU_KEY_EVENT_DELAY_MS : DEFAULT_KEY_EVENT_DELAY_MS);
		let sent = 0;
		/** Strokes whose key went down (their releases may still be pending). */
		let pressed = 0;
		const strokes = steps.filter((s) => s.kind === "stroke").length;
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
					if (event.down && event.key.keysym === step.keysym) pressed++;
					if (delay > 0) await sleep(delay, ctx.signal, "input");
				}
				sent++;
			}
		} catch (error) {
			// The last key made the machine go away (Ctrl+Alt+Delete, a power key): it was delivered.
			if (pressed === strokes && strokes > 0 && this.closed && !ctx.signal.aborted) {
				return {
					status: "delivered",
					sent: strokes,
					reason: `The console ${this.stream.description} closed the connection right after the last key (the machine may be rebooting); its releases could not be sent.`,
				};
			}
			throw this.inputError(error, pressed, strokes, "keys");
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
		this.client.push(chunk);
		if (!this.pumpScheduled) this.pump();
	}

	/** Parses for one slice; with bytes left, continues after timers and I/O have run. */
	private pump(): void {
		this.pumpScheduled = false;
		if (this.failure) return;
		let more = false;
		try {
			more = this.client.pump(performance.now() + PUMP_SLICE_MS);
		} catch (error) {
			this.fail(wrapUnknown(error, "decode", "The VNC decoder"));
			return;
		}
		if (more && !this.failure) {
			this.pumpScheduled = true;
			// setTimeout, not a microtask or setImmediate: the deadline timer must get its turn.
			setTimeout(() => this.pump(), 0);
		}
	}

	private async startTls(): Promise<void> {
		const startTls = this.stream.startTls;
		if (!startTls) return;
		try {
			await startTls.call(this.stream, this.target.tls, this.timeouts.handshakeMs);
			if (this.failure) return;
			this.client.tlsStarted();
		} catch (error) {
			this.fail(wrapUnknown(error, "decode", "The VNC decoder"));
		}
	}

	/**
	 * What real viewers do: one request per update. While the frame is incomplete we ask
	 * for what changed (a server that split the screen over several updates still owes
	 * us the rest, and TigerVNC answers the very first request with an empty update);
	 * after a resize the old request no longer covers the screen, so we ask for all of it.
	 * A server that stays silent gets a full request again from the re-request timer.
	 */
	private onUpdateEnd(summary: UpdateSummary): void {
		this.options.onUpdate?.(summary);
		if (!this.capturing) return;
		const fb = this.client.framebuffer;
		if (fb?.complete) {
			this.settle();
			return;
		}
		if (summary.resized) this.client.requestFullUpdate();
		else if (summary.rects === 0 && this.emptyStreak++ > 0) {
			// Empty answer after empty answer: the server answers at once with nothing (one
			// that sends only on change, or a hostile one). Ask again, but not at network speed.
			this.requestLater(Math.min(EMPTY_BACKOFF_MS * 2 ** (this.emptyStreak - 2), REREQUEST_MS));
			return;
		} else this.client.requestIncrementalUpdate();
		if (summary.rects > 0 || summary.resized) {
			this.emptyStreak = 0;
			this.armRerequest();
		}
	}

	private requestLater(ms: number): void {
		if (this.laterTimer) return;
		this.laterTimer = setTimeout(() => {
			this.laterTimer = undefined;
			if (this.capturing && !this.failure && !this.stream.closed) this.client.requestIncrementalUpdate();
		}, ms);
	}

	private armRerequest(): void {
		this.disarmRerequest();
		this.rerequestTimer = setTimeout(() => {
			this.rerequestTimer = undefined;
			if (!this.capturing || this.failure || this.stream.closed) return;
			this.client.requestFullUpdate();
			this.armRerequest();
		}, REREQUEST_MS);
	}

	private disarmRerequest(): void {
		if (this.rerequestTimer) clearTimeout(this.rerequestTimer);
		this.rerequestTimer = undefined;
		if (this.laterTimer) clearTimeout(this.laterTimer);
		this.laterTimer = undefined;
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
		this.disarmRerequest();
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
		const session = new VncSession(stream, limits, timeouts, target, {
			...options,
			encodings: options.encodings ?? preferredEncodings({ quality: target.quality }),
			cursor: options.cursor ?? target.cursor,
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
