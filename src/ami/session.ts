/**
 * The AMI/ASRockRack console path: BMC session → one-time KVM token → IVTP
 * over `wss://<bmc>/kvm` → AST2500 frames → Frame.
 *
 * A session stays connected between captures (the ConsolePool keeps it warm),
 * decodes every frame the BMC sends with one decoder (partial updates apply
 * over the previous picture), and answers a capture with one GET_FULL_SCREEN
 * round trip. close() ends the WebSocket and, for direct logins, the BMC web
 * session, so no KVM slot or login is left behind.
 */

import type { CallContext } from "../call-context.ts";
import type { ConsoleLimits, ConsoleOpener, ConsoleSession } from "../console/types.ts";
import { atStage, IkvmError, type Stage, throwIfAborted, wrapUnknown } from "../errors.ts";
import { createFrame, type Frame } from "../frame.ts";
import type { InputOutcome, KeyStep, PointerStep, PowerAction } from "../input/types.ts";
import { log } from "../log.ts";
import { hostOf } from "../net/bare-url.ts";
import { seconds, sleep, withDeadline } from "../timing.ts";
import { loginWithPassword, loginWithViewerUrl, logout, requestKvmToken } from "./bmc-session.ts";
import { defaultDecoderFactory } from "./decoder.ts";
import {
	absoluteCoordinate,
	absoluteMouseReport,
	HidSequencer,
	hidButtons,
	keyboardReport,
	strokeReports,
	wheelOf,
} from "./input.ts";
import { encodeIvtp, IvtpParser, IvtpProtocol, type IvtpStep, IvtpType, poweredOffError } from "./ivtp.ts";
import { type KvmSocket, openKvmSocket } from "./socket.ts";
import type { AmiTarget } from "./target.ts";
import {
	type AssembledFrame,
	type BmcSession,
	DEFAULT_KVM_TIMEOUTS,
	type KvmTimeouts,
	type KvmToken,
	type VideoDecoder,
	type VideoDecoderFactory,
} from "./types.ts";
import { kvmMouseMode } from "./web-api.ts";

export interface AmiOpenerOptions {
	timeouts?: Partial<KvmTimeouts>;
	/** The AST2500 decoder; tests may inject another. */
	decoder?: VideoDecoderFactory;
	/** Interval of IVTP keep-alive packets on an idle session (the AMI viewer sends one every 3 s); 0 disables. */
	keepAliveMs?: number;
	/** Absolute cap on one frame's compressed bytes. */
	maxFrameBytes?: number;
	/** Pause after each keyboard report (default DEFAULT_KEY_REPORT_DELAY_MS). */
	keyReportDelayMs?: number;
	/** Pause after each mouse report (default DEFAULT_MOUSE_REPORT_DELAY_MS). */
	mouseReportDelayMs?: number;
}

/**
 * The BMC forwards each report to the host through its USB gadget, which the
 * host polls every few milliseconds (8–10 ms for a keyboard): two reports
 * closer than one poll can merge, and a press and release then vanish. The mock
 * BMC cannot show that loss (bench/input.ts measures only our side), so the
 * default stays above one poll interval.
 */
export const DEFAULT_KEY_REPORT_DELAY_MS = 12;
export const DEFAULT_MOUSE_REPORT_DELAY_MS = 15;
/** How long a power request waits for the BMC's answer. */
const POWER_ANSWER_MS = 10_000;

/** IVTP power control codes (the `status` of 0x23). */
const POWER_CODE: Record<Exclude<PowerAction, "status">, number> = { off: 0, on: 1, cycle: 2, reset: 3, shutdown: 5 };

const DEFAULT_KEEP_ALIVE_MS = 3_000;
const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;

/** Builds an opener for `ami-viewer` and `ami-login` targets. */
export function createAmiOpener(options: AmiOpenerOptions = {}): ConsoleOpener {
	const timeouts: KvmTimeouts = { ...DEFAULT_KVM_TIMEOUTS, ...options.timeouts };
	const decoderFactory = options.decoder ?? defaultDecoderFactory;
	return async (given, ctx, limits) => {
		if (given.kind !== "ami-viewer" && given.kind !== "ami-login") {
			throw new IkvmError("NOT_SUPPORTED", `The AMI console path cannot open a "${given.kind}" target.`);
		}
		const target = given as AmiTarget;
		const request = { signal: ctx.signal, timeoutMs: timeouts.request };
		let bmc: BmcSession;
		if (target.kind === "ami-viewer") {
			ctx.progress("bmc-login", `Opening the BMC session of ${hostOf(target.viewerUrl)}`);
			bmc = await loginWithViewerUrl(target.viewerUrl, target.tls, request);
		} else {
			ctx.progress("bmc-login", `Logging in to the BMC ${hostOf(target.url)} as ${target.username}`);
			bmc = await loginWithPassword(target.url, target.username, target.password, target.tls, request);
		}
		let session: AmiConsoleSession | undefined;
		try {
			ctx.progress("bmc-login", "Requesting a KVM token");
			const token = await requestKvmToken(bmc, request);
			session = new AmiConsoleSession(bmc, token, decoderFactory(limits), limits, {
				timeouts,
				keepAliveMs: options.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS,
				maxFrameBytes: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
				keyReportDelayMs: options.keyReportDelayMs ?? DEFAULT_KEY_REPORT_DELAY_MS,
				mouseReportDelayMs: options.mouseReportDelayMs ?? DEFAULT_MOUSE_REPORT_DELAY_MS,
			});
			await session.connect(ctx);
			return session;
		} catch (error) {
			if (session) await session.close();
			else if (bmc.kind === "login") await logout(bmc, timeouts.close);
			throw error;
		}
	};
}

/** The opener the AMI driver (driver.ts) uses. */
export const openAmiSession: ConsoleOpener = createAmiOpener();

interface SessionSettings {
	timeouts: KvmTimeouts;
	keepAliveMs: number;
	maxFrameBytes: number;
	keyReportDelayMs: number;
	mouseReportDelayMs: number;
}

interface FrameWaiter {
	from: number;
	resolve(frame: Frame): void;
	reject(error: IkvmError): void;
}

/** The outcome of the latest frame, for a capture that asks after it arrived. */
type LastFrame = { index: number; frame: Frame } | { index: number; error: IkvmError };

export class AmiConsoleSession implements ConsoleSession {
	readonly description: string;
	private socket: KvmSocket | undefined;
	private readonly parser: IvtpParser;
	private readonly protocol: IvtpProtocol;
	private readonly waiters = new Set<FrameWaiter>();
	private handshakeWaiter: { resolve(): void; reject(error: IkvmError): void } | undefined;
	private failure: IkvmError | undefined;
	private isClosed = false;
	private closing: Promise<void> | undefined;
	private last: LastFrame | undefined;
	/** GET_FULL_SCREEN sent by the handshake and not yet claimed by a capture. */
	private unclaimedFrom: number | undefined;
	private keepAlive: ReturnType<typeof setInterval> | undefined;
	private readonly hid = new HidSequencer();
	/** Keyboard / mouse reports that left something held (a key, a modifier or a button). */
	private keyboardHeld = false;
	private mouseHeld: { x: number; y: number } | undefined;
	private inputChain: Promise<unknown> = Promise.resolve();
	private powerWaiters = new Set<
		(step: { kind: "status"; on: boolean } | { kind: "control"; status: number }) => void
	>();
	private lastSize: { width: number; height: number } | undefined;
	private mouseMode: Promise<number | undefined> | undefined;

	constructor(
		private readonly bmc: BmcSession,
		token: KvmToken,
		private readonly decoder: VideoDecoder,
		limits: ConsoleLimits,
		private readonly settings: SessionSettings,
	) {
		this.description = `ami ${bmc.host}`;
		this.protocol = new IvtpProtocol({
			maxWidth: limits.maxWidth,
			maxHeight: limits.maxHeight,
			maxFrameBytes: settings.maxFrameBytes,
			credentials: { token: token.token, clientIp: token.clientIp },
		});
		this.parser = new IvtpParser(this.protocol.parserOptions());
	}

	get closed(): boolean {
		return this.isClosed;
	}

	get screenSize(): { width: number; height: number } | undefined {
		return this.lastSize;
	}

	/** True when this KVM session is the master, whose keyboard and mouse the BMC honours. */
	get isMaster(): boolean {
		return this.protocol.sessionIndex === 0;
	}

	/** HID packets sent on this connection (each has its own sequence number). */
	get hidPacketsSent(): number {
		return this.hid.sent;
	}

	sendKeys(steps: readonly KeyStep[], ctx: CallContext): Promise<InputOutcome> {
		return this.serialInput(() => this.sendKeysNow(steps, ctx));
	}

	pointer(steps: readonly PointerStep[], ctx: CallContext): Promise<InputOutcome> {
		return this.serialInput(() => this.pointerNow(steps, ctx));
	}

	/**
	 * Power status or control over IVTP: 0x22 asks the power state (status 1 on, 0 off); 0x23 asks
	 * for an action (status 0 off, 1 on, 2 cycle, 3 hard reset, 5 ACPI soft off), answered by 0x24.
	 * Returns the state read after the action ("unknown" when the BMC no longer says).
	 */
	power(action: PowerAction, ctx: CallContext): Promise<{ state: "on" | "off" | "unknown"; answer?: number }> {
		return this.serialInput(async () => {
			this.checkUsable("input");
			if (action === "status") return { state: (await this.powerStatus(ctx)) ? "on" : "off" };
			const answer = await this.powerRequest(
				encodeIvtp(IvtpType.POWER_CONTROL_REQUEST, POWER_CODE[action]),
				(step) => (step.kind === "control" ? step.status : undefined),
				ctx,
				`the ${action} request`,
			);
			// An ACPI shutdown is up to the host's OS: the state read now says nothing yet.
			if (action === "shutdown") return { state: "unknown", answer };
			const on = await this.powerStatus(ctx).catch(() => undefined);
			return { state: on === undefined ? "unknown" : on ? "on" : "off", answer };
		});
	}

	private powerStatus(ctx: CallContext): Promise<boolean> {
		return this.powerRequest(
			encodeIvtp(IvtpType.POWER_STATUS, 0),
			(step) => (step.kind === "status" ? step.on : undefined),
			ctx,
			"the power status request",
		);
	}

	private powerRequest<T>(
		bytes: Uint8Array,
		pick: (step: { kind: "status"; on: boolean } | { kind: "control"; status: number }) => T | undefined,
		ctx: CallContext,
		what: string,
	): Promise<T> {
		return this.waitFor<T>(
			"input",
			ctx,
			POWER_ANSWER_MS,
			(resolve) => {
				const waiter = (step: { kind: "status"; on: boolean } | { kind: "control"; status: number }) => {
					const value = pick(step);
					if (value !== undefined) resolve(value);
				};
				this.powerWaiters.add(waiter);
				this.socket?.send(bytes);
				return () => {
					this.powerWaiters.delete(waiter);
				};
			},
			() =>
				new IkvmError(
					"TIMEOUT",
					`The BMC at ${this.bmc.host} did not answer ${what} within ${seconds(POWER_ANSWER_MS)} s.`,
					{
						stage: "input",
						hint: "This firmware may not take power control over the KVM connection; use the BMC's web UI or IPMI.",
					},
				),
		);
	}

	private serialInput<T>(op: () => Promise<T>): Promise<T> {
		const run = this.inputChain.then(op);
		this.inputChain = run.catch(() => {});
		return run;
	}

	private checkUsable(stage: Stage): void {
		if (this.failure) throw atStage(this.failure, stage);
		if (this.isClosed || !this.socket) {
			throw new IkvmError("CONNECTION", `The KVM session to ${this.bmc.host} is closed.`, { stage, retryable: true });
		}
	}

	private notMaster(): InputOutcome {
		const index = this.protocol.sessionIndex;
		return {
			status: "not-delivered",
			reason:
				`Another KVM viewer of the BMC at ${this.bmc.host} holds control: this session is a shared (slave) session ` +
				`(session index ${index}), and the BMC ignores its keyboard and mouse. Close the other viewer (the BMC's web ` +
				"KVM in a browser, or another tool), or ask its user to hand over control; the BMC frees the master slot a few " +
				"seconds after it closes. Then try again.",
			sent: 0,
		};
	}

	private async sendKeysNow(steps: readonly KeyStep[], ctx: CallContext): Promise<InputOutcome> {
		throwIfAborted(ctx.signal, "input");
		this.checkUsable("input");
		if (!this.isMaster) return this.notMaster();
		let sent = 0;
		try {
			for (const step of steps) {
				if (step.kind === "wait") {
					await sleep(step.ms, ctx.signal, "input");
					continue;
				}
				const reports = strokeReports(step);
				for (const [i, report] of reports.entries()) {
					throwIfAborted(ctx.signal, "input");
					this.checkUsable("input");
					this.socket?.send(this.hid.keyboard(report));
					this.keyboardHeld = i < reports.length - 1;
					await sleep(this.settings.keyReportDelayMs, ctx.signal, "input");
				}
				sent++;
			}
		} catch (error) {
			throw inputFailed(error, `${sent} of ${steps.length} keys went out before this`);
		} finally {
			this.releaseKeyboard();
		}
		return { status: "delivered", sent };
	}

	private async pointerNow(steps: readonly PointerStep[], ctx: CallContext): Promise<InputOutcome> {
		throwIfAborted(ctx.signal, "input");
		this.checkUsable("input");
		if (!this.isMaster) return this.notMaster();
		const size = this.lastSize;
		if (!size) {
			throw new IkvmError("BAD_INPUT", `The screen size of ${this.bmc.host} is not known yet.`, {
				stage: "input",
				hint: "Take a screenshot first, so pointer positions can be scaled to the screen.",
			});
		}
		// Reports are absolute; a BMC set to relative mouse mode would read them as huge moves.
		this.mouseMode ??= kvmMouseMode(this.bmc, { signal: ctx.signal, timeoutMs: this.settings.timeouts.request }).catch(
			() => undefined,
		);
		const mode = await this.mouseMode;
		if (mode !== undefined && mode !== 2) {
			throw new IkvmError(
				"NOT_SUPPORTED",
				`The BMC at ${this.bmc.host} has its KVM mouse in ${mode === 1 ? "relative" : `mode ${mode}`} mode; ikvm-mcp sends absolute positions.`,
				{
					stage: "input",
					hint: "Set the KVM mouse mode to Absolute in the BMC's web UI (Settings → Media Redirection / KVM Mouse), then try again. The keyboard works in any mode.",
				},
			);
		}
		let sent = 0;
		try {
			for (const step of steps) {
				if (step.kind === "wait") {
					await sleep(step.ms, ctx.signal, "input");
					continue;
				}
				if (
					!Number.isInteger(step.x) ||
					!Number.isInteger(step.y) ||
					step.x < 0 ||
					step.y < 0 ||
					step.x >= size.width ||
					step.y >= size.height
				) {
					throw new IkvmError(
						"BAD_INPUT",
						`The pointer position (${step.x}, ${step.y}) is outside the ${size.width}x${size.height} screen.`,
						{
							stage: "input",
							hint: "Give framebuffer pixels from 0 to width-1 and height-1.",
						},
					);
				}
				this.checkUsable("input");
				const x = absoluteCoordinate(step.x, size.width);
				const y = absoluteCoordinate(step.y, size.height);
				const buttons = hidButtons(step.buttons);
				this.socket?.send(this.hid.mouse(absoluteMouseReport(buttons, x, y, wheelOf(step.buttons))));
				this.mouseHeld = buttons !== 0 ? { x, y } : undefined;
				sent++;
				await sleep(this.settings.mouseReportDelayMs, ctx.signal, "input");
			}
		} catch (error) {
			throw inputFailed(error, `${sent} of ${steps.length} pointer steps went out before this`);
		} finally {
			this.releaseMouse();
		}
		return { status: "delivered", sent };
	}

	/** An all-zero keyboard report: nothing held, no modifier latched. Never throws. */
	private releaseKeyboard(): void {
		if (!this.keyboardHeld) return;
		this.keyboardHeld = false;
		this.sendQuietly(() => this.hid.keyboard(keyboardReport(0)));
	}

	private releaseMouse(): void {
		const at = this.mouseHeld;
		if (!at) return;
		this.mouseHeld = undefined;
		this.sendQuietly(() => this.hid.mouse(absoluteMouseReport(0, at.x, at.y, 0)));
	}

	private sendQuietly(make: () => Uint8Array): void {
		if (this.isClosed || !this.socket) return;
		try {
			this.socket.send(make());
		} catch (error) {
			log.warn("could not release KVM input", { bmc: this.bmc.host, error: (error as Error).message });
		}
	}

	/** Opens the WebSocket and runs the IVTP handshake up to "powered on, first frame requested". */
	async connect(ctx: CallContext): Promise<void> {
		ctx.progress("ws-connect", `Connecting to wss://${this.bmc.host}/kvm`);
		this.socket = await openKvmSocket(
			this.bmc,
			{ onData: (bytes) => this.onData(bytes), onClose: (info) => this.onPeerClose(info) },
			{ timeoutMs: this.settings.timeouts.wsConnect, signal: ctx.signal },
		);
		ctx.progress("handshake", "IVTP handshake: validating the KVM session");
		await this.waitFor<void>(
			"handshake",
			ctx,
			this.settings.timeouts.handshake,
			(resolve, reject) => {
				if (this.failure) reject(this.failure);
				else if (this.protocol.state === "streaming") resolve();
				else this.handshakeWaiter = { resolve, reject };
				return () => {
					this.handshakeWaiter = undefined;
				};
			},
			() =>
				new IkvmError(
					"TIMEOUT",
					`The BMC at ${this.bmc.host} did not complete the KVM handshake within ${seconds(this.settings.timeouts.handshake)} (stuck at ${this.protocol.state}).`,
					{
						stage: "handshake",
						hint: "The BMC's KVM service may be hung; try again, or reset the BMC's KVM.",
						retryable: true,
					},
				),
		);
		if (this.settings.keepAliveMs > 0) {
			this.keepAlive = setInterval(() => this.socket?.send(this.protocol.keepAlive()), this.settings.keepAliveMs);
			this.keepAlive.unref?.();
		}
	}

	async capture(ctx: CallContext): Promise<Frame> {
		if (this.failure) throw atStage(this.failure, "first-frame");
		if (this.isClosed || !this.socket) {
			throw new IkvmError("CONNECTION", `The KVM session to ${this.bmc.host} is closed.`, {
				stage: "first-frame",
				retryable: true,
			});
		}
		ctx.progress("first-frame", `Waiting for a full frame from ${this.bmc.host}`);
		let from: number;
		if (this.unclaimedFrom !== undefined) {
			from = this.unclaimedFrom;
			this.unclaimedFrom = undefined;
		} else {
			const request = this.protocol.requestFullScreen();
			this.socket.send(request.bytes);
			from = request.from;
		}
		return this.waitFor<Frame>(
			"first-frame",
			ctx,
			this.settings.timeouts.frame,
			(resolve, reject) => {
				const last = this.last;
				if (last && last.index >= from) {
					if ("frame" in last) resolve(last.frame);
					else reject(last.error);
					return undefined;
				}
				const waiter: FrameWaiter = { from, resolve, reject };
				this.waiters.add(waiter);
				return () => {
					this.waiters.delete(waiter);
				};
			},
			() => {
				const progress = this.protocol.assembler.progress;
				const partial = progress ? ` (${progress.received} of ${progress.expected} bytes of a frame arrived)` : "";
				const error = new IkvmError(
					"TIMEOUT",
					`No complete video frame from the BMC at ${this.bmc.host} within ${seconds(this.settings.timeouts.frame)}${partial}.`,
					{ stage: "first-frame", hint: "The BMC's video engine may be stalled; try again.", retryable: true },
				);
				// A KVM that stopped answering is not worth keeping warm.
				this.fail(error);
				return error;
			},
		);
	}

	/**
	 * Waits for `register` to settle within `timeoutMs` and the caller's signal. The session
	 * stays usable after a timeout: a later capture asks again.
	 */
	private waitFor<T>(
		stage: Stage,
		ctx: CallContext,
		timeoutMs: number,
		register: (resolve: (value: T) => void, reject: (error: IkvmError) => void) => (() => void) | undefined,
		onTimeout: () => IkvmError,
	): Promise<T> {
		return withDeadline<T>((resolve, reject) => register(resolve, (error) => reject(atStage(error, stage))), {
			stage,
			signal: ctx.signal,
			timeoutMs,
			onTimeout,
		});
	}

	private onData(bytes: Uint8Array): void {
		if (this.failure || this.isClosed) return;
		try {
			for (const packet of this.parser.push(bytes)) {
				for (const step of this.protocol.handle(packet)) this.apply(step);
				if (this.failure) return;
			}
		} catch (error) {
			this.fail(wrapUnknown(error, "decode", "The IVTP parser"));
		}
	}

	private apply(step: IvtpStep): void {
		switch (step.kind) {
			case "send":
				this.socket?.send(step.bytes);
				return;
			case "ready":
				this.unclaimedFrom = step.fullScreenFrom;
				this.handshakeWaiter?.resolve();
				return;
			case "frame":
				this.onFrame(step.frame);
				return;
			case "blank":
				this.rejectWaiters(
					new IkvmError(
						"UPSTREAM",
						`The BMC at ${this.bmc.host} reports a blank screen: the server sends no video signal.`,
						{
							hint: "The display may be off or in power saving, or the server is booting; try again in a moment.",
							retryable: true,
						},
					),
				);
				return;
			case "power":
				for (const w of [...this.powerWaiters]) w({ kind: "status", on: step.on });
				if (!step.on) this.fail(poweredOffError());
				return;
			case "power-control":
				for (const w of [...this.powerWaiters]) w({ kind: "control", status: step.status });
				return;
		}
	}

	private onFrame(assembled: AssembledFrame): void {
		let outcome: LastFrame;
		try {
			const picture = this.decoder.decode(assembled.bytes);
			const frame = createFrame(picture.width, picture.height, picture.rgba, new Date());
			this.lastSize = { width: picture.width, height: picture.height };
			outcome = { index: assembled.index, frame };
		} catch (error) {
			const reason = error instanceof Error ? error.message : String(error);
			outcome = {
				index: assembled.index,
				error: new IkvmError(
					"PROTOCOL",
					`Could not decode the BMC's ${assembled.width}x${assembled.height} video frame: ${reason}`,
					{
						stage: "decode",
						hint: "A fresh capture requests a full frame again; if this persists, save the frame with LOG_LEVEL=debug and report it.",
						retryable: true,
						cause: error,
					},
				),
			};
			log.debug("AST2500 decode failed", { bmc: this.bmc.host, error: reason });
		}
		this.last = outcome;
		for (const waiter of [...this.waiters]) {
			if (waiter.from > assembled.index) continue;
			this.waiters.delete(waiter);
			if ("frame" in outcome) waiter.resolve(outcome.frame);
			else waiter.reject(outcome.error);
		}
	}

	private rejectWaiters(error: IkvmError): void {
		const waiters = [...this.waiters];
		this.waiters.clear();
		for (const w of waiters) w.reject(error);
	}

	private onPeerClose(info: { code: number; reason: string }): void {
		if (this.failure || this.isClosed) return;
		const progress = this.protocol.assembler.progress;
		let error: IkvmError;
		if (this.protocol.state !== "streaming") {
			error = new IkvmError(
				"CONNECTION",
				`The BMC at ${this.bmc.host} closed the KVM connection during the handshake (code ${info.code}).`,
				{
					hint: "The BMC does this when the web session expired or the cookie/Origin was refused; a fresh login is made on retry.",
					retryable: true,
				},
			);
		} else if (progress || this.parser.partial?.type === IvtpType.VIDEO_PACKETS) {
			// A frame cut short: either its data (the frame has begun) or its first packet (it has not yet).
			const partial = this.parser.partial;
			const detail = progress
				? `${progress.received} of ${progress.expected} bytes`
				: `${partial?.received} of ${partial?.size} bytes of its first packet`;
			error = new IkvmError(
				"CONNECTION",
				`The BMC at ${this.bmc.host} closed the KVM connection in the middle of a video frame (${detail}).`,
				{ hint: "The BMC dropped the console connection; try again (a fresh KVM session is opened).", retryable: true },
			);
		} else {
			error = new IkvmError(
				"CONNECTION",
				`The BMC at ${this.bmc.host} closed the KVM connection (code ${info.code}).`,
				{
					retryable: true,
				},
			);
		}
		this.fail(error);
	}

	/** Makes the session unusable, tells everyone waiting, and releases the connection. */
	private fail(error: IkvmError): void {
		if (this.failure) return;
		this.failure = error;
		const handshake = this.handshakeWaiter;
		this.handshakeWaiter = undefined;
		handshake?.reject(error);
		this.rejectWaiters(error);
		void this.close();
	}

	close(): Promise<void> {
		if (this.closing) return this.closing;
		this.releaseKeyboard();
		this.releaseMouse();
		this.isClosed = true;
		if (this.keepAlive) clearInterval(this.keepAlive);
		const closedError = new IkvmError("CANCELLED", `The KVM session to ${this.bmc.host} was closed.`);
		this.handshakeWaiter?.reject(closedError);
		this.handshakeWaiter = undefined;
		this.rejectWaiters(closedError);
		const { close } = this.settings.timeouts;
		// A stop-session message first: the BMC then frees the master slot at once instead of after a few
		// seconds, so the next session (the next tool call) gets keyboard and mouse control.
		if (this.protocol.state === "streaming" && !this.failure) {
			try {
				this.socket?.send(encodeIvtp(IvtpType.STOP_SESSION_IMMEDIATE, 0));
			} catch {
				// the socket is going anyway
			}
		}
		this.closing = (async () => {
			try {
				await this.socket?.close(close);
				if (this.bmc.kind === "login") await logout(this.bmc, close);
			} catch (error) {
				log.warn("closing the KVM session failed", { bmc: this.bmc.host, error: (error as Error).message });
			}
		})();
		return this.closing;
	}
}

function inputFailed(error: unknown, counted: string): IkvmError {
	const e =
		error instanceof IkvmError
			? error
			: new IkvmError("INTERNAL", `KVM input failed: ${(error as Error).message}`, { cause: error });
	if (e.code === "BAD_INPUT") return e;
	return new IkvmError(e.code, `${e.message.replace(/\.$/, "")} (${counted}; every key and button was released).`, {
		stage: e.stage ?? "input",
		hint: e.hint,
		cause: e,
	});
}
