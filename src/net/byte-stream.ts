/**
 * The byte streams consoles are carried on: a WebSocket (ws:// or wss://, with
 * handshake headers such as cookies, subprotocol negotiation, binary frames or
 * base64 text frames) or a plain TCP connection. Every console protocol (RFB,
 * IVTP, the ATEN dialect) reads them as arbitrary chunks and does its own framing.
 *
 * Connecting has a deadline and honours the caller's signal; failures are typed
 * errors naming the stage, with a TLS failure told apart from a refused
 * connection. TLS verification is relaxed only for the one connection whose
 * target asks for it (`insecure`), never process-wide.
 */

import { readFileSync } from "node:fs";
import net from "node:net";
import tls from "node:tls";
import type { TlsOptions } from "../console/types.ts";
import { abortReasonToError, IkvmError, type Stage } from "../errors.ts";
import { log } from "../log.ts";
import { registerSecret } from "../redact.ts";
import { seconds } from "../timing.ts";
import { hostOf } from "./bare-url.ts";
import type { BunTls } from "./tls.ts";
import { normalizeFingerprint } from "./tls.ts";

export interface WsEndpoint {
	kind: "ws";
	url: string;
	headers?: Record<string, string>;
	/**
	 * Subprotocol offers to try in order, each a list sent in one handshake (undefined: offer none).
	 * Default: none, then ["binary"] — most servers take RFB without one, older websockify insists.
	 */
	protocols?: ReadonlyArray<readonly string[] | undefined>;
	/**
	 * "binary": data travels in binary frames, a text frame is an error. "negotiated": base64 text
	 * frames unless the server chose the "binary" subprotocol (the AMI KVM's rule).
	 */
	framing?: "binary" | "negotiated";
	/** Accept a self-signed certificate for this connection only. */
	insecure?: boolean;
	/** A CA or a pinned certificate already read (src/net/tls.ts), when not insecure. */
	tls?: BunTls;
	/** PEM file of the CA to verify the server's certificate with (instead of the system store). */
	caFile?: string;
}

export interface TcpEndpoint {
	kind: "tcp";
	host: string;
	port: number;
}

export type StreamEndpoint = WsEndpoint | TcpEndpoint;

export interface CloseInfo {
	/** Set when the connection failed rather than closed. */
	error?: Error;
	code?: number;
	reason?: string;
}

export interface ByteStream {
	/** Where it goes, without secrets (no query string, no credentials). */
	readonly description: string;
	readonly closed: boolean;
	/** The WebSocket subprotocol the server chose ("" for none or TCP). */
	readonly protocol: string;
	send(bytes: Uint8Array): void;
	/** Closes at once; the close handler still runs once. Safe to call twice. */
	close(): void;
	/** Closes with a close handshake, waiting for the peer at most `timeoutMs`. Never throws. */
	closeGracefully(timeoutMs: number): Promise<void>;
	/**
	 * Starts delivering data. Chunks or a close that arrived before this call
	 * are delivered first, so nothing between "open" and the handlers is lost.
	 */
	start(onData: (chunk: Uint8Array) => void, onClose: (info: CloseInfo) => void): void;
	/**
	 * Wraps the rest of the stream in TLS (VeNCrypt does this after its own negotiation);
	 * absent where the stream cannot (a WebSocket). Resolves once the peer is verified.
	 */
	startTls?(options: TlsOptions | undefined, timeoutMs: number): Promise<void>;
}

export function describeEndpoint(endpoint: StreamEndpoint): string {
	if (endpoint.kind === "tcp")
		return `${endpoint.host.includes(":") ? `[${endpoint.host}]` : endpoint.host}:${endpoint.port}`;
	try {
		const u = new URL(endpoint.url);
		return `${u.protocol}//${u.host}${u.pathname}`;
	} catch {
		return "an invalid URL";
	}
}

/** Buffers what arrives before `start` and guarantees one close notification. */
abstract class BufferedStream implements ByteStream {
	private onData?: (chunk: Uint8Array) => void;
	private onClose?: (info: CloseInfo) => void;
	private early: Uint8Array[] = [];
	private closeInfo?: CloseInfo;
	private notified = false;
	protected isClosed = false;

	private closeWaiters: Array<() => void> = [];

	constructor(readonly description: string) {}

	get closed(): boolean {
		return this.isClosed;
	}

	get protocol(): string {
		return "";
	}

	abstract send(bytes: Uint8Array): void;
	abstract close(): void;
	/** Starts a close handshake; `closedWith` reports when it is over. */
	protected abstract beginClose(): void;

	closeGracefully(timeoutMs: number): Promise<void> {
		if (this.notified || this.closeInfo) {
			this.close();
			return Promise.resolve();
		}
		return new Promise<void>((done) => {
			const timer = setTimeout(() => {
				// The peer did not finish the close handshake: drop the connection.
				this.close();
				done();
			}, timeoutMs);
			this.closeWaiters.push(() => {
				clearTimeout(timer);
				done();
			});
			try {
				this.beginClose();
			} catch {
				clearTimeout(timer);
				this.close();
				done();
			}
		});
	}

	start(onData: (chunk: Uint8Array) => void, onClose: (info: CloseInfo) => void): void {
		this.onData = onData;
		this.onClose = onClose;
		const early = this.early;
		this.early = [];
		for (const chunk of early) {
			if (this.notified) return;
			onData(chunk);
		}
		if (this.closeInfo) this.notifyClose(this.closeInfo);
	}

	protected deliver(chunk: Uint8Array): void {
		if (this.isClosed && this.notified) return;
		if (!this.onData) {
			this.early.push(chunk);
			return;
		}
		try {
			this.onData(chunk);
		} catch (error) {
			// A throw in a socket's data handler would end the process: it ends this connection instead.
			this.closedWith({ error: error instanceof Error ? error : new Error(String(error)) });
			this.close();
		}
	}

	protected closedWith(info: CloseInfo): void {
		this.isClosed = true;
		const waiters = this.closeWaiters;
		this.closeWaiters = [];
		for (const w of waiters) w();
		if (this.onClose) this.notifyClose(info);
		else this.closeInfo ??= info;
	}

	private notifyClose(info: CloseInfo): void {
		if (this.notified) return;
		this.notified = true;
		this.onClose?.(info);
	}
}

class WebSocketStream extends BufferedStream {
	private readonly base64: boolean;

	constructor(
		private readonly ws: WebSocket,
		description: string,
		framing: "binary" | "negotiated",
	) {
		super(description);
		this.base64 = framing === "negotiated" && ws.protocol !== "binary";
		ws.onmessage = (event) => {
			const data = event.data;
			if (data instanceof ArrayBuffer) this.deliver(new Uint8Array(data));
			else if (ArrayBuffer.isView(data)) this.deliver(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
			else if (framing === "negotiated" && typeof data === "string") this.deliver(Buffer.from(data, "base64"));
			else {
				// A binary protocol in a text frame means a base64-only or foreign peer.
				this.closedWith({ error: new Error("the server sent a text WebSocket frame (expected binary data)") });
				this.close();
			}
		};
		ws.onclose = (event) => this.closedWith({ code: event.code, reason: event.reason });
		ws.onerror = (event) => this.closedWith({ error: new Error(errorEventMessage(event)) });
	}

	override get protocol(): string {
		return this.ws.protocol;
	}

	send(bytes: Uint8Array): void {
		if (this.isClosed || this.ws.readyState !== WebSocket.OPEN) return;
		if (this.base64) this.ws.send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64"));
		else this.ws.send(bytes);
	}

	close(): void {
		this.isClosed = true;
		try {
			// Bun's WebSocket can drop the TCP connection without a close handshake.
			const terminate = (this.ws as unknown as { terminate?: () => void }).terminate;
			if (terminate && this.ws.readyState === WebSocket.CLOSING) terminate.call(this.ws);
			else this.ws.close();
		} catch {
			// already closing
		}
	}

	protected beginClose(): void {
		this.ws.close(1000, "done");
	}
}

class TcpStream extends BufferedStream {
	private socket: net.Socket;

	constructor(
		socket: net.Socket,
		description: string,
		private readonly host: string,
	) {
		super(description);
		this.socket = socket;
		this.listen(socket);
	}

	private listen(socket: net.Socket): void {
		socket.on("data", this.onSocketData);
		socket.on("error", this.onSocketError);
		socket.on("close", this.onSocketClose);
	}

	private readonly onSocketData = (data: Buffer) =>
		this.deliver(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
	private readonly onSocketError = (error: Error) => this.closedWith({ error });
	private readonly onSocketClose = () => this.closedWith({});

	send(bytes: Uint8Array): void {
		if (this.isClosed) return;
		this.socket.write(bytes);
	}

	close(): void {
		this.isClosed = true;
		this.socket.destroy();
	}

	protected beginClose(): void {
		this.socket.end();
	}

	startTls(options: TlsOptions | undefined, timeoutMs: number): Promise<void> {
		const verification = tlsVerification(options);
		const raw = this.socket;
		raw.off("data", this.onSocketData);
		raw.off("error", this.onSocketError);
		raw.off("close", this.onSocketClose);
		const secured = tls.connect({
			socket: raw,
			host: this.host,
			// SNI takes names only, never an address.
			...(net.isIP(this.host) ? {} : { servername: this.host }),
			...verification,
		});
		this.socket = secured;
		return new Promise<void>((resolve, reject) => {
			const fail = (error: IkvmError) => {
				clearTimeout(timer);
				secured.destroy();
				this.isClosed = true;
				reject(error);
			};
			const timer = setTimeout(() => {
				fail(
					new IkvmError("TIMEOUT", `No TLS handshake with ${this.description} within ${seconds(timeoutMs)}.`, {
						stage: "handshake",
						hint: "The VNC server agreed to VeNCrypt but did not complete TLS; check its certificate settings.",
						retryable: true,
					}),
				);
			}, timeoutMs);
			secured.once("error", (error) => fail(tlsError(error, this.description, options)));
			secured.once("secureConnect", () => {
				clearTimeout(timer);
				const pinned = checkPin(secured, options);
				if (pinned) {
					fail(pinned);
					return;
				}
				secured.removeAllListeners("error");
				this.listen(secured);
				resolve();
			});
		});
	}
}

/** Node TLS options for a target's `tls` settings: a CA file, a pinned certificate, or no check at all. */
export function tlsVerification(options: TlsOptions | undefined): { rejectUnauthorized: boolean; ca?: string } {
	if (options?.insecure || options?.fingerprint256) return { rejectUnauthorized: false };
	if (options?.ca) return { rejectUnauthorized: true, ca: options.ca };
	if (options?.caFile) {
		let ca: string;
		try {
			ca = readFileSync(options.caFile, "utf8");
		} catch (error) {
			throw new IkvmError("CONFIG_INVALID", `Cannot read the CA file ${options.caFile}: ${(error as Error).message}.`, {
				stage: "connect",
				hint: "Set tls.ca to a readable PEM file with the CA that signed the console's certificate.",
			});
		}
		return { rejectUnauthorized: true, ca };
	}
	return { rejectUnauthorized: true };
}

function checkPin(socket: tls.TLSSocket, options: TlsOptions | undefined): IkvmError | undefined {
	if (!options?.fingerprint256) return undefined;
	const presented = socket.getPeerCertificate()?.fingerprint256 ?? "";
	const got = normalizeFingerprint(presented);
	if (got !== undefined && got === normalizeFingerprint(options.fingerprint256)) return undefined;
	return new IkvmError("AUTH_FAILED", "The console's TLS certificate does not match the pinned tls.fingerprint256.", {
		stage: "handshake",
		hint: `The server presented a certificate with SHA-256 fingerprint ${got ?? presented}; if the certificate was replaced on purpose, update tls.fingerprint256.`,
	});
}

function tlsError(error: Error, description: string, options: TlsOptions | undefined): IkvmError {
	const untrusted = /certificate|self[- ]signed|verify|issuer|altname|hostname/i.test(error.message);
	return new IkvmError(
		untrusted ? "AUTH_FAILED" : "CONNECTION",
		`TLS with the VNC server ${description} failed: ${error.message}.`,
		{
			stage: "handshake",
			hint: untrusted
				? options?.caFile
					? "The certificate is not signed by the CA in tls.ca, or does not name this host."
					: 'The server\'s certificate is not trusted: set tls.ca to its CA, tls.fingerprint256 to pin it, or "tls": {"insecure": true} for a lab server.'
				: "The VNC server broke off the TLS handshake; check its logs.",
			retryable: !untrusted,
		},
	);
}

/**
 * Browsers always send Origin on a WebSocket upgrade, and libvncserver 0.9.14 / x11vnc 0.9.16
 * refuse an upgrade without one ("incomplete client handshake"). We send the console's own
 * origin, which same-origin checks (bmcweb, Proxmox) accept, unless the target sets one.
 */
export function withOrigin(url: string, headers: Record<string, string> | undefined): Record<string, string> {
	const out = { ...headers };
	if (Object.keys(out).some((name) => name.toLowerCase() === "origin")) return out;
	try {
		const u = new URL(url);
		out.Origin = `${u.protocol === "wss:" ? "https:" : "http:"}//${u.host}`;
	} catch {
		// an invalid URL fails in the WebSocket constructor with its own error
	}
	return out;
}

function errorEventMessage(event: Event): string {
	const message = (event as ErrorEvent).message;
	if (typeof message !== "string" || !message) return "WebSocket error";
	// Bun's text repeats the whole URL, query string (tokens) included; the caller names the endpoint.
	const why = message.replace(/^WebSocket connection to '[^']*' failed:?\s*/, "");
	const status = /Expected 101 status code:?\s*(\d+)/.exec(why);
	if (status) return `the server answered HTTP ${status[1]} instead of switching to WebSocket`;
	return why.replace(/[a-z]+:\/\/\S+/gi, "<url>") || "WebSocket error";
}

/** Query values of a console URL are usually tickets or tokens (Proxmox vncticket, BMC tokens). */
function registerUrlSecrets(url: string): void {
	try {
		const u = new URL(url);
		for (const value of u.searchParams.values()) if (value.length >= 8) registerSecret(value);
		if (u.password) registerSecret(decodeURIComponent(u.password));
	} catch {
		// an invalid URL fails later with its own error
	}
}

export interface ConnectOptions {
	signal: AbortSignal;
	timeoutMs: number;
	/** The stage errors name. Default "connect". */
	stage?: Stage;
	/** What is being connected, for messages: default "VNC WebSocket" / "VNC server". */
	label?: string;
	/** Hint for a connection the peer refused. */
	refusedHint?: string;
}

/** Opens the byte stream within `timeoutMs`; errors name `options.stage`. */
export async function openByteStream(endpoint: StreamEndpoint, options: ConnectOptions): Promise<ByteStream> {
	const description = describeEndpoint(endpoint);
	const deadline = Date.now() + options.timeoutMs;
	if (endpoint.kind === "tcp") return connectTcp(endpoint, description, options);
	registerUrlSecrets(endpoint.url);
	for (const [name, value] of Object.entries(endpoint.headers ?? {})) {
		if (/^(cookie|authorization|x-.*token.*)$/i.test(name)) {
			registerSecret(value);
			for (const part of value.split(";")) registerSecret(part.split("=").slice(1).join("=").trim());
		}
	}
	// Most servers (QEMU, websockify ≥ 0.9) take RFB without a subprotocol; older
	// websockify insists on "binary", and Bun fails a handshake in which we offer
	// one that the server does not echo. So by default: none first, then "binary".
	const offers = endpoint.protocols ?? [undefined, ["binary"]];
	for (const offer of offers) for (const p of offer ?? []) if (p.length >= 8) registerSecret(p);
	let first: unknown;
	for (const [i, protocols] of offers.entries()) {
		const left = deadline - Date.now();
		if (i > 0 && left <= 0) break;
		try {
			return await connectWebSocket(endpoint, description, protocols, options, i === 0 ? options.timeoutMs : left);
		} catch (error) {
			if (i === 0) first = error;
			else log.debug("websocket retry with another subprotocol failed too", { error: String(error) });
			if (!(error instanceof IkvmError) || error.code !== "CONNECTION" || isTlsError(error)) break;
		}
	}
	throw first;
}

function isTlsError(error: IkvmError): boolean {
	return error.hint?.includes('"insecure": true') === true;
}

function connectWebSocket(
	endpoint: WsEndpoint,
	description: string,
	protocols: readonly string[] | undefined,
	options: ConnectOptions,
	timeoutMs: number,
): Promise<ByteStream> {
	const { signal } = options;
	const stage = options.stage ?? "connect";
	const label = options.label ?? "VNC WebSocket";
	return new Promise<ByteStream>((resolve, reject) => {
		if (signal.aborted) {
			reject(abortReasonToError(signal.reason, stage));
			return;
		}
		let ws: WebSocket;
		try {
			const tlsOptions = endpoint.insecure
				? { rejectUnauthorized: false }
				: endpoint.tls
					? endpoint.tls
					: endpoint.caFile
						? tlsVerification({ caFile: endpoint.caFile })
						: undefined;
			ws = new WebSocket(endpoint.url, {
				headers: withOrigin(endpoint.url, endpoint.headers),
				...(protocols ? { protocols: [...protocols] } : {}),
				...(tlsOptions ? { tls: tlsOptions } : {}),
			} as unknown as string[]);
		} catch (error) {
			reject(
				new IkvmError("BAD_INPUT", `Invalid ${label} URL ${description}: ${(error as Error).message}`, {
					stage,
				}),
			);
			return;
		}
		ws.binaryType = "arraybuffer";
		const done = () => {
			clearTimeout(timer);
			signal.removeEventListener("abort", onAbort);
			ws.onopen = null;
			ws.onerror = null;
			ws.onclose = null;
		};
		const fail = (error: IkvmError) => {
			done();
			try {
				ws.close();
			} catch {
				// not open yet
			}
			reject(error);
		};
		const timer = setTimeout(
			() =>
				fail(
					new IkvmError("TIMEOUT", `No WebSocket connection to ${description} within ${seconds(timeoutMs)}.`, {
						stage,
						hint: `Check the URL and that the ${label} is reachable from here.`,
						retryable: true,
					}),
				),
			timeoutMs,
		);
		const onAbort = () => fail(abortReasonToError(signal.reason, stage));
		signal.addEventListener("abort", onAbort, { once: true });
		ws.onopen = () => {
			done();
			resolve(new WebSocketStream(ws, description, endpoint.framing ?? "binary"));
		};
		const onFailure = (why: string) => {
			const untrusted = isTlsVerificationMessage(why) && !endpoint.insecure;
			fail(
				new IkvmError(
					"CONNECTION",
					untrusted
						? `The server at ${hostOf(endpoint.url)} presented a TLS certificate that is not trusted (${label} ${description}).`
						: `Could not open the ${label} ${description}: ${why}.`,
					{
						stage,
						hint: untrusted
							? 'If it is a self-signed BMC or lab certificate, set "tls": {"insecure": true} for this server.'
							: (options.refusedHint ??
								`Check the URL (scheme, host, port and path) and that the ${label} listener is running.`),
						retryable: !untrusted,
					},
				),
			);
		};
		ws.onerror = (event) => onFailure(errorEventMessage(event));
		ws.onclose = (event) => onFailure(`closed with code ${event.code}${event.reason ? ` (${event.reason})` : ""}`);
	});
}

/** Whether a TLS failure is about trusting the certificate (as Bun and BoringSSL word it). */
export function isTlsVerificationMessage(message: string): boolean {
	return /certificate|self[- ]signed|unable to verify|UNABLE_TO_VERIFY|DEPTH_ZERO|CERT_|TLS|SSL/i.test(message);
}

function connectTcp(endpoint: TcpEndpoint, description: string, options: ConnectOptions): Promise<ByteStream> {
	const { signal, timeoutMs } = options;
	const stage = options.stage ?? "connect";
	const label = options.label ?? "VNC server";
	return new Promise<ByteStream>((resolve, reject) => {
		if (signal.aborted) {
			reject(abortReasonToError(signal.reason, stage));
			return;
		}
		const socket = net.connect({ host: endpoint.host, port: endpoint.port });
		socket.setNoDelay(true);
		const done = () => {
			clearTimeout(timer);
			signal.removeEventListener("abort", onAbort);
			socket.off("connect", onConnect);
			socket.off("error", onError);
		};
		const fail = (error: IkvmError) => {
			done();
			socket.destroy();
			reject(error);
		};
		const timer = setTimeout(
			() =>
				fail(
					new IkvmError("TIMEOUT", `No TCP connection to ${label} ${description} within ${seconds(timeoutMs)}.`, {
						stage,
						hint: "Check the host and port, and that no firewall drops the connection.",
						retryable: true,
					}),
				),
			timeoutMs,
		);
		const onAbort = () => fail(abortReasonToError(signal.reason, stage));
		const onConnect = () => {
			done();
			resolve(new TcpStream(socket, description, endpoint.host));
		};
		const onError = (error: Error) =>
			fail(
				new IkvmError("CONNECTION", `Could not connect to ${label} ${description}: ${error.message}.`, {
					stage,
					hint:
						options.refusedHint ??
						"Check the host and port (display N listens on 5900+N) and that the VNC server is running.",
					retryable: true,
				}),
			);
		signal.addEventListener("abort", onAbort, { once: true });
		socket.once("connect", onConnect);
		socket.once("error", onError);
	});
}
