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
import { log } from "../log.ts";
import {
	type ByteStream,
	type CloseInfo,
	describeEndpoint,
	openByteStream,
	type StreamEndpoint,
} from "../net/byte-stream.ts";
import { registerSecret } from "../redact.ts";
import { seconds, withDeadline } from "../timing.ts";
import { drawCursor } from "./cursor.ts";
import { preferredEncodings } from "./encodings.ts";
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

export interface VncSessionOptions {
	timeouts?: Partial<VncTimeouts>;
	/** Pixel encodings to announce, in preference order (tests pin one to exercise its decoder). */
	encodings?: readonly number[];
	/** Draw the pointer shape the server sent into each picture (default off: it can hide a character). */
	cursor?: boolean;
	/** Called after every framebuffer update (diagnostics, tests). */
	onUpdate?: (summary: UpdateSummary) => void;
}

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
			return { kind: "ws", url: target.url, headers: target.headers, insecure: target.tls?.insecure === true };
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

class VncSession implements ConsoleSession {
	readonly description: string;
	private readonly client: RfbClient;
	private failure: IkvmError | undefined;
	private waiter: Waiter | undefined;
	private capturing = false;
	private chain: Promise<unknown> = Promise.resolve();

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
				error: (error) => this.fail(error),
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
		const frame = (this.client.framebuffer ?? fb).snapshot();
		const { cursor, pointer } = this.client.server;
		return this.options.cursor && cursor && pointer ? drawCursor(frame, cursor, pointer.x, pointer.y) : frame;
	}

	async close(): Promise<void> {
		if (!this.failure) this.fail(new IkvmError("CANCELLED", "The VNC session was closed.", { stage: "first-frame" }));
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
			encodings: options.encodings ?? preferredEncodings({ quality: target.quality }),
			cursor: options.cursor ?? target.cursor,
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
