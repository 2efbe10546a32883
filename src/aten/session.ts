/**
 * The Supermicro console session: web login (shared, see logins.ts) → a fresh
 * `entry_value` → `wss://<bmc>/` → the ATEN dialect → video → Frame, plus keys,
 * pointer and power on the same connection.
 *
 * Reading the screen only ever sends FramebufferUpdateRequests and the
 * keep-alive: never power (0x1A), video quality (0x32), mouse mode or any other
 * message that changes the BMC or the host, and never a Java/HTML5 mode switch.
 * close() ends the KVM socket first and only then lets go of the web login
 * (a web logout would kick the console).
 */
import type { CallContext } from "../call-context.ts";
import type { ConsoleLimits, ConsoleSession, TlsOptions } from "../console/types.ts";
import { abortReasonToError, atStage, IkvmError, type Stage, wrapUnknown } from "../errors.ts";
import { createFrame, type Frame } from "../frame.ts";
import type { InputOutcome, KeyStep, PointerStep, PowerAction, PowerResult } from "../input/types.ts";
import { log } from "../log.ts";
import { seconds, sleep, withDeadline } from "../timing.ts";
import {
	AtenDialect,
	type AtenEvent,
	type AtenSessionMessage,
	keepAlive,
	keyEvent,
	POWER_CODE,
	pointerEvent,
	powerMessage,
	updateRequest,
} from "./dialect.ts";
import type { LoginLease } from "./logins.ts";
import { type AtenSocket, openAtenSocket } from "./socket.ts";
import type { AtenPicture, AtenTimeouts, AtenVideoDecoder } from "./types.ts";
import { atenPowerState } from "./web.ts";

export interface AtenSessionSettings {
	timeouts: AtenTimeouts;
	/** Keep-alive interval (the native viewer's is about 3 s; without it later firmware stops taking input); 0 disables. */
	keepAliveMs: number;
	/** Pause between key events, so the BMC's virtual keyboard loses none. */
	keyDelayMs: number;
	maxPayloadBytes: number;
}

/** Where the web session comes from: ours (released on close) or a viewer link's (never logged out). */
export interface AtenWeb {
	readonly lease?: LoginLease;
	readonly origin: string;
	readonly host: string;
	readonly sid: string;
	readonly tls?: TlsOptions;
}

interface FrameWaiter {
	/** Only updates that end after this count answer it. */
	after: number;
	resolve(frame: Frame): void;
	reject(error: IkvmError): void;
}

export class AtenConsoleSession implements ConsoleSession {
	readonly description: string;
	private socket: AtenSocket | undefined;
	private readonly dialect: AtenDialect;
	private failure: IkvmError | undefined;
	private isClosed = false;
	private closing: Promise<void> | undefined;
	private readyWaiter: { resolve(): void; reject(error: IkvmError): void } | undefined;
	/** The first update after the handshake (video or no-signal), awaited by connect(). */
	private primeWaiter: { resolve(): void; reject(error: IkvmError): void } | undefined;
	private readonly waiters = new Set<FrameWaiter>();
	private picture: AtenPicture | undefined;
	/** Updates that carried video since the connection opened. */
	private updates = 0;
	/** Whether the current update carried a decoded rectangle. */
	private updateHadVideo = false;
	private noSignal = false;
	private keepAliveTimer: ReturnType<typeof setInterval> | undefined;
	private lastSession: AtenSessionMessage | undefined;
	/** Why input would not reach the host, when the BMC said so. */
	private inputBlocked: string | undefined;
	/** Keys down now (HID usages), released on every exit path. */
	private readonly held = new Set<number>();
	private pointerButtons = 0;
	private pointerAt = { x: 0, y: 0 };
	/** Serialises input and power: one writer at a time. */
	private inputChain: Promise<unknown> = Promise.resolve();

	constructor(
		private readonly web: AtenWeb,
		token: string,
		private readonly decoder: AtenVideoDecoder,
		limits: ConsoleLimits,
		private readonly settings: AtenSessionSettings,
		/** Power state from the web interface, for the no-signal answer; absent for viewer-link sessions. */
		private readonly readPowerState?: (ctx: CallContext) => Promise<"on" | "off" | undefined>,
	) {
		this.description = `supermicro ${web.host}`;
		this.dialect = new AtenDialect({
			token,
			maxWidth: limits.maxWidth,
			maxHeight: limits.maxHeight,
			maxPayloadBytes: settings.maxPayloadBytes,
		});
	}

	get closed(): boolean {
		return this.isClosed;
	}

	get screenSize(): { width: number; height: number } | undefined {
		const { width, height } = this.dialect.screen;
		return width > 0 ? { width, height } : undefined;
	}

	/** The last 0x39 message, for the doctor and logs. */
	get sessionMessage(): AtenSessionMessage | undefined {
		return this.lastSession;
	}

	/** Opens the WebSocket and runs the handshake to ServerInit. */
	async connect(ctx: CallContext): Promise<void> {
		ctx.progress("aten-connect", `Connecting to wss://${this.web.host}/`);
		this.socket = await openAtenSocket(
			this.web.origin,
			this.web.sid,
			this.web.tls,
			{ onData: (bytes) => this.onData(bytes), onClose: (info) => this.onPeerClose(info) },
			{ timeoutMs: this.settings.timeouts.connect, signal: ctx.signal },
		);
		ctx.progress("aten-banner", "RFB handshake with the BMC");
		await this.wait<void>(
			"aten-banner",
			ctx,
			this.settings.timeouts.handshake,
			(resolve, reject) => {
				if (this.failure) reject(this.failure);
				else if (this.dialect.phase === "streaming") resolve();
				else this.readyWaiter = { resolve, reject };
				return () => {
					this.readyWaiter = undefined;
				};
			},
			() => {
				const where = this.dialect.where;
				const stage: Stage = where === "banner" ? "aten-banner" : "aten-auth";
				const error = new IkvmError(
					"TIMEOUT",
					`The BMC at ${this.web.host} did not complete the KVM handshake within ${seconds(this.settings.timeouts.handshake)} s (waiting for ${where}).`,
					{
						stage,
						hint: "The BMC's KVM service may be hung; try again, or reset the BMC (ipmitool mc reset cold).",
						retryable: true,
					},
				);
				this.fail(error);
				return error;
			},
		);
		// Ready means "answers FramebufferUpdateRequests": a BMC over its viewer limit says so (0x39) and hangs up here.
		ctx.progress("aten-video", "Waiting for the first video update");
		await this.wait<void>(
			"aten-video",
			ctx,
			this.settings.timeouts.frame,
			(resolve, reject) => {
				if (this.failure) reject(this.failure);
				else this.primeWaiter = { resolve, reject };
				return () => {
					this.primeWaiter = undefined;
				};
			},
			() => {
				const error = new IkvmError(
					"TIMEOUT",
					`The BMC at ${this.web.host} sent no video within ${seconds(this.settings.timeouts.frame)} s of the KVM handshake.`,
					{ stage: "aten-video", hint: "The BMC's video engine may be stalled; try again.", retryable: true },
				);
				this.fail(error);
				return error;
			},
			() => this.socket?.send(updateRequest(false)),
		);
		if (this.settings.keepAliveMs > 0) {
			this.keepAliveTimer = setInterval(() => this.socket?.send(keepAlive()), this.settings.keepAliveMs);
			this.keepAliveTimer.unref?.();
		}
	}

	async capture(ctx: CallContext): Promise<Frame> {
		this.ensureOpen("aten-video");
		ctx.progress("aten-video", `Waiting for a frame from ${this.web.host}`);
		const after = this.updates;
		this.noSignal = false;
		this.socket?.send(updateRequest(false));
		try {
			return await this.wait<Frame>(
				"aten-video",
				ctx,
				this.settings.timeouts.frame,
				(resolve, reject) => {
					const waiter: FrameWaiter = { after, resolve, reject };
					this.waiters.add(waiter);
					return () => {
						this.waiters.delete(waiter);
					};
				},
				() => {
					const error = new IkvmError(
						"TIMEOUT",
						`No video frame from the BMC at ${this.web.host} within ${seconds(this.settings.timeouts.frame)} s.`,
						{ stage: "aten-video", hint: "The BMC's video engine may be stalled; try again.", retryable: true },
					);
					this.fail(error);
					return error;
				},
			);
		} catch (error) {
			if (error instanceof IkvmError && error.code === "POWERED_OFF") throw await this.withPowerState(error, ctx);
			throw error;
		}
	}

	private async withPowerState(error: IkvmError, ctx: CallContext): Promise<IkvmError> {
		let state: "on" | "off" | undefined;
		try {
			state = await this.readPowerState?.(ctx);
		} catch {
			state = undefined;
		}
		if (state === undefined) return error;
		const message =
			state === "off"
				? `The host screen is off or has no signal: the BMC at ${this.web.host} reports the server is powered off.`
				: `The host screen is off or has no signal, although the BMC at ${this.web.host} reports the server is powered on (booting, display asleep, or no graphics output).`;
		return new IkvmError("POWERED_OFF", message, {
			stage: "aten-video",
			hint:
				state === "off"
					? "Power the server on (the power tool, with control enabled) and try again."
					: "Try again in a few seconds, or press a key to wake the display.",
			retryable: state === "on",
		});
	}

	private noSignalError(): IkvmError {
		return new IkvmError(
			"POWERED_OFF",
			`The host screen is off or has no signal: the BMC at ${this.web.host} sends no video.`,
			{
				stage: "aten-video",
				hint: "The server may be powered off, rebooting or with its display asleep; check its power state and try again.",
				retryable: true,
			},
		);
	}

	// ---------------------------------------------------------------- input

	/** Why input would not reach the host now, or undefined when it would. */
	inputRefusal(): string | undefined {
		const init = this.dialect.serverInit;
		if (init && !init.keyboardMouseEnabled) {
			return `The BMC at ${this.web.host} gave this console a video-only session (keyboard and mouse disabled for this user or by the BMC's settings). Use an account with KVM control, or close the viewer that holds it.`;
		}
		return this.inputBlocked;
	}

	sendKeys(steps: readonly KeyStep[], ctx: CallContext): Promise<InputOutcome> {
		return this.exclusive(() => this.typeKeys(steps, ctx));
	}

	pointer(steps: readonly PointerStep[], ctx: CallContext): Promise<InputOutcome> {
		return this.exclusive(() => this.movePointer(steps, ctx));
	}

	private exclusive<T>(op: () => Promise<T>): Promise<T> {
		const run = this.inputChain.then(op, op);
		this.inputChain = run.catch(() => {});
		return run;
	}

	private async typeKeys(steps: readonly KeyStep[], ctx: CallContext): Promise<InputOutcome> {
		this.ensureOpen("aten-input");
		const refusal = this.inputRefusal();
		if (refusal) return { status: "not-delivered", reason: refusal, sent: 0 };
		let sent = 0;
		try {
			for (const step of steps) {
				if (ctx.signal.aborted) throw abortReasonToError(ctx.signal.reason, "aten-input");
				if (step.kind === "wait") {
					await sleep(step.ms, ctx.signal, "aten-input");
					continue;
				}
				// The BMC's virtual keyboard builds the report: modifiers are keys of their own.
				for (const modifier of step.modifiers) await this.key(modifier, true, ctx);
				await this.key(step.usage, true, ctx);
				await this.key(step.usage, false, ctx);
				for (const modifier of [...step.modifiers].reverse()) await this.key(modifier, false, ctx);
				sent++;
			}
		} finally {
			this.releaseKeys();
		}
		return { status: "delivered", sent };
	}

	private async key(usage: number, down: boolean, ctx: CallContext): Promise<void> {
		this.ensureOpen("aten-input");
		if (down) this.held.add(usage);
		else this.held.delete(usage);
		this.socket?.send(keyEvent(usage, down));
		if (this.settings.keyDelayMs > 0) await sleep(this.settings.keyDelayMs, ctx.signal, "aten-input");
	}

	/** Releases every key still down; runs on every exit path and on close. */
	private releaseKeys(): void {
		for (const usage of [...this.held].reverse()) this.socket?.send(keyEvent(usage, false));
		this.held.clear();
	}

	private async movePointer(steps: readonly PointerStep[], ctx: CallContext): Promise<InputOutcome> {
		this.ensureOpen("aten-input");
		const refusal = this.inputRefusal();
		if (refusal) return { status: "not-delivered", reason: refusal, sent: 0 };
		const size = this.screenSize;
		for (const step of steps) {
			if (step.kind !== "pointer") continue;
			const outside = size ? step.x >= size.width || step.y >= size.height : false;
			if (step.x < 0 || step.y < 0 || !Number.isInteger(step.x) || !Number.isInteger(step.y) || outside) {
				throw new IkvmError(
					"BAD_INPUT",
					`Pointer position (${step.x}, ${step.y}) is outside the ${size ? `${size.width}x${size.height}` : "known"} screen.`,
					{ stage: "aten-input", hint: "Give framebuffer pixels inside the screen (take a screenshot first)." },
				);
			}
		}
		let sent = 0;
		try {
			for (const step of steps) {
				if (ctx.signal.aborted) throw abortReasonToError(ctx.signal.reason, "aten-input");
				if (step.kind === "wait") {
					await sleep(step.ms, ctx.signal, "aten-input");
					continue;
				}
				this.ensureOpen("aten-input");
				this.pointerButtons = step.buttons & 0x1f;
				this.pointerAt = { x: step.x, y: step.y };
				this.socket?.send(pointerEvent(this.pointerButtons, step.x, step.y));
				sent++;
				if (this.settings.keyDelayMs > 0) await sleep(this.settings.keyDelayMs, ctx.signal, "aten-input");
			}
		} finally {
			this.releaseButtons();
		}
		return { status: "delivered", sent };
	}

	private releaseButtons(): void {
		if (this.pointerButtons === 0) return;
		this.pointerButtons = 0;
		this.socket?.send(pointerEvent(0, this.pointerAt.x, this.pointerAt.y));
	}

	// ---------------------------------------------------------------- power

	/**
	 * Sends the 0x1A power message for an explicit power action (confirmation is the
	 * tools' job) and reads the state back from the web interface when it can.
	 */
	power(action: Exclude<PowerAction, "status">, ctx: CallContext): Promise<PowerResult> {
		return this.exclusive(async () => {
			this.ensureOpen("aten-power");
			const send = (code: (typeof POWER_CODE)[keyof typeof POWER_CODE]) => this.socket?.send(powerMessage(code));
			switch (action) {
				case "on":
					send(POWER_CODE.on);
					break;
				case "off":
					send(POWER_CODE.off);
					break;
				case "reset":
					send(POWER_CODE.reset);
					break;
				case "shutdown":
					send(POWER_CODE.softOff);
					break;
				case "cycle": {
					send(POWER_CODE.off);
					await this.awaitPowerState("off", ctx, 20_000);
					send(POWER_CODE.on);
					break;
				}
			}
			const expected = action === "on" || action === "cycle" || action === "reset" ? "on" : "off";
			const state =
				action === "shutdown" ? await this.readPower(ctx) : await this.awaitPowerState(expected, ctx, 5_000);
			const done = {
				on: "Power on",
				off: "Power off (hard)",
				reset: "Reset (hard)",
				shutdown: "ACPI shutdown",
				cycle: "Power cycle",
			}[action];
			return {
				state: state ?? "unknown",
				source: state ? "BMC web interface (ipmi.cgi POWER_INFO)" : "ATEN KVM power message (state not readable)",
				message: `${done} sent to the BMC at ${this.web.host}${state ? `; it now reports the server ${state}` : ""}.`,
			};
		});
	}

	private async readPower(ctx: CallContext): Promise<"on" | "off" | undefined> {
		try {
			return await this.readPowerState?.(ctx);
		} catch {
			return undefined;
		}
	}

	private async awaitPowerState(
		want: "on" | "off",
		ctx: CallContext,
		withinMs: number,
	): Promise<"on" | "off" | undefined> {
		const until = Date.now() + withinMs;
		let state = await this.readPower(ctx);
		while (state !== undefined && state !== want && Date.now() < until) {
			await sleep(250, ctx.signal, "aten-power");
			state = await this.readPower(ctx);
		}
		return state;
	}

	// ---------------------------------------------------------------- plumbing

	private ensureOpen(stage: Stage): void {
		if (this.failure) throw atStage(this.failure, stage);
		if (this.isClosed || !this.socket) {
			throw new IkvmError("CONNECTION", `The KVM session to ${this.web.host} is closed.`, { stage, retryable: true });
		}
	}

	private wait<T>(
		stage: Stage,
		ctx: CallContext,
		timeoutMs: number,
		register: (resolve: (value: T) => void, reject: (error: IkvmError) => void) => (() => void) | undefined,
		onTimeout: () => IkvmError,
		afterRegister?: () => void,
	): Promise<T> {
		return withDeadline<T>(
			(resolve, reject) => {
				let settled = false;
				const unregister = register(
					(value) => {
						settled = true;
						resolve(value);
					},
					(error) => {
						settled = true;
						reject(atStage(error, stage));
					},
				);
				if (!settled) afterRegister?.();
				return unregister;
			},
			{ stage, signal: ctx.signal, timeoutMs, onTimeout },
		);
	}

	private onData(bytes: Uint8Array): void {
		if (this.failure || this.isClosed) return;
		let events: AtenEvent[];
		try {
			events = this.dialect.push(bytes);
		} catch (error) {
			this.fail(wrapUnknown(error, "decode", "The ATEN dialect parser"));
			return;
		}
		for (const event of events) {
			try {
				this.apply(event);
			} catch (error) {
				this.fail(wrapUnknown(error, "decode", "The ATEN session"));
			}
			if (this.failure) return;
		}
	}

	private apply(event: AtenEvent): void {
		switch (event.kind) {
			case "send":
				this.socket?.send(event.bytes);
				return;
			case "ready": {
				log.debug("ATEN session ready", {
					bmc: this.web.host,
					name: event.init.name,
					km: event.init.keyboardMouseEnabled,
				});
				if (!event.init.videoEnabled) {
					this.fail(
						new IkvmError(
							"ACCESS_DENIED",
							`The BMC at ${this.web.host} opened a KVM session without video (IKVMVideoEnable 0).`,
							{
								stage: "aten-video",
								hint: "The account may lack the remote-console privilege, or the BMC's KVM video is disabled; check the user's privileges in the BMC web UI.",
							},
						),
					);
					return;
				}
				const waiter = this.readyWaiter;
				this.readyWaiter = undefined;
				waiter?.resolve();
				return;
			}
			case "rect":
				this.onRect(event);
				return;
			case "no-signal":
				this.noSignal = true;
				return;
			case "resize":
				log.debug("host resolution changed", { bmc: this.web.host, width: event.width, height: event.height });
				// A full picture at the new size, as the native viewer asks after a mode change.
				this.socket?.send(updateRequest(false));
				return;
			case "update-end":
				this.onUpdateEnd(event.rects);
				return;
			case "session":
				this.onSessionMessage(event.message);
				return;
		}
	}

	private onRect(event: Extract<AtenEvent, { kind: "rect" }>): void {
		try {
			const picture = this.decoder.decode(event.rect);
			if (!picture) {
				this.noSignal = true;
				return;
			}
			this.picture = picture;
			if (picture.complete !== false) this.updateHadVideo = true;
		} catch (error) {
			const reason = error instanceof Error ? error.message : String(error);
			log.debug("ATEN video decode failed", { bmc: this.web.host, error: reason });
			// The decoder's picture may be half painted: a fresh connection starts clean.
			this.fail(
				error instanceof IkvmError && error.stage
					? error
					: new IkvmError(
							"PROTOCOL",
							`Could not decode the BMC's ${event.rect.width}x${event.rect.height} video frame: ${reason}`,
							{
								stage: "aten-video",
								hint: "A fresh KVM connection is made on retry; if this persists, report the board and firmware version.",
								retryable: true,
								cause: error,
							},
						),
			);
		}
	}

	private onUpdateEnd(rects: number): void {
		const prime = this.primeWaiter;
		this.primeWaiter = undefined;
		prime?.resolve();
		const hadVideo = this.updateHadVideo;
		this.updateHadVideo = false;
		if (this.noSignal && !hadVideo) {
			this.noSignal = false;
			const error = this.noSignalError();
			for (const waiter of [...this.waiters]) {
				this.waiters.delete(waiter);
				waiter.reject(error);
			}
			return;
		}
		if (!hadVideo && rects > 0) return;
		if (!hadVideo && !this.picture) {
			// "Nothing changed" before any picture: ask again, at most a few times a second.
			if (this.waiters.size > 0) {
				setTimeout(() => {
					if (!this.isClosed && this.waiters.size > 0) this.socket?.send(updateRequest(false));
				}, 250).unref?.();
			}
			return;
		}
		if (hadVideo) this.updates++;
		const picture = this.picture;
		if (!picture) return;
		let frame: Frame | undefined;
		for (const waiter of [...this.waiters]) {
			if (hadVideo && this.updates <= waiter.after) continue;
			frame ??= createFrame(picture.width, picture.height, picture.rgba.slice(), new Date());
			this.waiters.delete(waiter);
			waiter.resolve(frame);
		}
	}

	private onSessionMessage(message: AtenSessionMessage): void {
		this.lastSession = message;
		log.debug("ATEN session message", { bmc: this.web.host, a: message.a, b: message.b, notice: message.notice });
		switch (message.notice) {
			case "too-many-users":
				this.inputBlocked = `The BMC at ${this.web.host} reports its KVM viewer limit is reached and another viewer holds keyboard and mouse control${message.text ? ` (${message.text})` : ""}. Close the other console (BMC web UI or another user's browser tab), or wait for it to time out.`;
				return;
			case "web-logout":
				this.fail(
					new IkvmError(
						"CONNECTION",
						`The BMC at ${this.web.host} ended the KVM session because its web session was logged out.`,
						{
							stage: "aten-video",
							hint: "Someone logged out of the BMC web UI with this account; a fresh login is made on retry.",
							retryable: true,
						},
					),
				);
				return;
			case "bios-update":
			case "firmware-update":
				this.fail(
					new IkvmError(
						"BUSY",
						`The BMC at ${this.web.host} ended the KVM session: a ${message.notice === "bios-update" ? "BIOS" : "BMC firmware"} update is in progress.`,
						{
							stage: "aten-video",
							hint: "Wait for the update to finish (do not power-cycle the server meanwhile), then try again.",
							retryable: true,
						},
					),
				);
				return;
			default:
				return;
		}
	}

	private onPeerClose(info: { code: number; reason: string }): void {
		if (this.failure || this.isClosed) return;
		let error: IkvmError;
		if (this.lastSession?.notice === "too-many-users") {
			error = new IkvmError(
				"BUSY",
				`The BMC at ${this.web.host} refused the KVM console: too many users are connected.`,
				{
					stage: this.dialect.phase === "streaming" ? "aten-video" : "aten-auth",
					hint: "Supermicro BMCs allow only a few KVM viewers at once. Close other consoles (BMC web UI → Remote Control, Java or HTML5 viewers of other users), or wait a few minutes for them to time out, then try again.",
					retryable: true,
				},
			);
		} else if (this.dialect.phase !== "streaming") {
			const where = this.dialect.where;
			error = new IkvmError(
				"CONNECTION",
				`The BMC at ${this.web.host} closed the KVM connection during the handshake (at ${where}, code ${info.code}).`,
				{
					stage: where === "banner" || where === "security-count" ? "aten-banner" : "aten-auth",
					hint: "BMCs do this when the token or web session was refused or the banner was not echoed; a fresh login and token are used on retry.",
					retryable: true,
				},
			);
		} else {
			error = new IkvmError(
				"CONNECTION",
				`The BMC at ${this.web.host} closed the KVM connection (code ${info.code}).`,
				{
					stage: "aten-video",
					hint: "The BMC dropped the console (reboot of the BMC, another viewer kicked this one); try again.",
					retryable: true,
				},
			);
		}
		this.fail(error);
	}

	private fail(error: IkvmError): void {
		if (this.failure) return;
		this.failure = error;
		const ready = this.readyWaiter;
		this.readyWaiter = undefined;
		ready?.reject(error);
		const prime = this.primeWaiter;
		this.primeWaiter = undefined;
		prime?.reject(error);
		for (const waiter of [...this.waiters]) {
			this.waiters.delete(waiter);
			waiter.reject(error);
		}
		void this.close();
	}

	close(): Promise<void> {
		if (this.closing) return this.closing;
		// Nothing may stay pressed on the host, whatever ends the session.
		if (this.socket?.open) {
			this.releaseKeys();
			this.releaseButtons();
		}
		this.isClosed = true;
		if (this.keepAliveTimer) clearInterval(this.keepAliveTimer);
		const closed = new IkvmError("CANCELLED", `The KVM session to ${this.web.host} was closed.`);
		this.readyWaiter?.reject(closed);
		this.readyWaiter = undefined;
		this.primeWaiter?.reject(closed);
		this.primeWaiter = undefined;
		for (const waiter of [...this.waiters]) {
			this.waiters.delete(waiter);
			waiter.reject(closed);
		}
		const { close } = this.settings.timeouts;
		this.closing = (async () => {
			try {
				await this.socket?.close(close);
			} catch (error) {
				log.warn("closing the KVM socket failed", { bmc: this.web.host, error: (error as Error).message });
			}
			// Only now: a web logout kicks an open console.
			await this.web.lease?.release(close);
		})();
		return this.closing;
	}
}

/** Reads the power state through a web session, for sessions that hold a login. */
export function powerStateReader(
	lease: LoginLease,
	timeoutMs: number,
): (ctx: CallContext) => Promise<"on" | "off" | undefined> {
	return (ctx) => atenPowerState(lease.session, { signal: ctx.signal, timeoutMs });
}
