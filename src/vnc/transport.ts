/**
 * Byte streams that carry RFB: a WebSocket (ws:// or wss://, binary frames,
 * optional handshake headers such as cookies) or a plain TCP connection.
 * Both deliver arbitrary chunks; the RFB parser does the framing.
 *
 * TLS verification is relaxed only for the one connection whose target asks
 * for it (`tls.insecure`), never process-wide.
 */
import { readFileSync } from "node:fs";
import net from "node:net";
import tls from "node:tls";
import type { TlsOptions } from "../console/types.ts";
import { abortReasonToError, IkvmError } from "../errors.ts";
import { log } from "../log.ts";
import { registerSecret } from "../redact.ts";

export type VncEndpoint =
	| {
			kind: "ws";
			url: string;
			headers?: Record<string, string>;
			insecure?: boolean;
			caFile?: string;
			/** Offer exactly these subprotocols (no fallback), e.g. bmcweb's CSRF token. */
			protocols?: string[];
	  }
	| { kind: "tcp"; host: string; port: number };

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
	send(bytes: Uint8Array): void;
	/** Closes; the close handler still runs once. Safe to call twice. */
	close(): void;
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

export function describeEndpoint(endpoint: VncEndpoint): string {
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

	constructor(readonly description: string) {}

	get closed(): boolean {
		return this.isClosed;
	}

	abstract send(bytes: Uint8Array): void;
	abstract close(): void;

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
		if (this.onData) this.onData(chunk);
		else this.early.push(chunk);
	}

	protected closedWith(info: CloseInfo): void {
		this.isClosed = true;
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
	constructor(
		private readonly ws: WebSocket,
		description: string,
	) {
		super(description);
		ws.onmessage = (event) => {
			const data = event.data;
			if (data instanceof ArrayBuffer) this.deliver(new Uint8Array(data));
			else if (ArrayBuffer.isView(data)) this.deliver(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
			else {
				// RFB over WebSocket is binary; a text frame means a base64 or non-VNC peer.
				this.closedWith({ error: new Error("the server sent a text WebSocket frame (expected binary RFB data)") });
				this.close();
			}
		};
		ws.onclose = (event) => this.closedWith({ code: event.code, reason: event.reason });
		ws.onerror = (event) => this.closedWith({ error: new Error(errorEventMessage(event)) });
	}

	send(bytes: Uint8Array): void {
		if (this.isClosed) return;
		this.ws.send(bytes);
	}

	close(): void {
		this.isClosed = true;
		try {
			this.ws.close();
		} catch {
			// already closing
		}
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

	startTls(options: TlsOptions | undefined, timeoutMs: number): Promise<void> {
		const raw = this.socket;
		raw.off("data", this.onSocketData);
		raw.off("error", this.onSocketError);
		raw.off("close", this.onSocketClose);
		const secured = tls.connect({
			socket: raw,
			host: this.host,
			// SNI takes names only, never an address.
			...(net.isIP(this.host) ? {} : { servername: this.host }),
			...tlsVerification(options),
		});
		this.socket = secured;
		return new Promise<void>((resolve, reject) => {
			const timer = setTimeout(() => {
				fail(
					new IkvmError("TIMEOUT", `No TLS handshake with ${this.description} within ${seconds(timeoutMs)}.`, {
						stage: "handshake",
						hint: "The VNC server agreed to VeNCrypt but did not complete TLS; check its certificate settings.",
						retryable: true,
					}),
				);
			}, timeoutMs);
			const fail = (error: IkvmError) => {
				clearTimeout(timer);
				secured.destroy();
				this.isClosed = true;
				reject(error);
			};
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
	if (options?.caFile) {
		let ca: string;
		try {
			ca = readFileSync(options.caFile, "utf8");
		} catch (error) {
			throw new IkvmError("CONFIG_INVALID", `Cannot read the CA file ${options.caFile}: ${(error as Error).message}.`, {
				stage: "connect",
				hint: "Set tls.caFile to a readable PEM file with the CA that signed the console's certificate.",
			});
		}
		return { rejectUnauthorized: true, ca };
	}
	return { rejectUnauthorized: true };
}

/** "AB:CD:…", "abcd…" and "sha256/AB:CD" all name the same SHA-256 fingerprint. */
export function normalizeFingerprint(value: string): string {
	return value
		.replace(/^sha256[/:=]?/i, "")
		.replace(/[^0-9a-f]/gi, "")
		.toUpperCase();
}

function checkPin(socket: tls.TLSSocket, options: TlsOptions | undefined): IkvmError | undefined {
	if (!options?.fingerprint256) return undefined;
	const got = normalizeFingerprint(socket.getPeerCertificate()?.fingerprint256 ?? "");
	if (got === normalizeFingerprint(options.fingerprint256)) return undefined;
	return new IkvmError("AUTH_FAILED", "The console's TLS certificate does not match the pinned tls.fingerprint256.", {
		stage: "handshake",
		hint: `The server presented a certificate with SHA-256 fingerprint ${got.replace(/(..)(?!$)/g, "$1:")}; if the certificate was replaced on purpose, update tls.fingerprint256.`,
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
					? "The certificate is not signed by the CA in tls.caFile, or does not name this host."
					: 'The server\'s certificate is not trusted: set tls.caFile to its CA, tls.fingerprint256 to pin it, or "tls": {"insecure": true} for a lab server.'
				: "The VNC server broke off the TLS handshake; check its logs.",
			retryable: !untrusted,
		},
	);
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
}

/** Opens the byte stream, within `timeoutMs`; errors name the "connect" stage. */
export async function openByteStream(endpoint: VncEndpoint, options: ConnectOptions): Promise<ByteStream> {
	const description = describeEndpoint(endpoint);
	const deadline = Date.now() + options.timeoutMs;
	if (endpoint.kind === "tcp") return connectTcp(endpoint, description, options.signal, options.timeoutMs);
	registerUrlSecrets(endpoint.url);
	for (const [name, value] of Object.entries(endpoint.headers ?? {})) {
		if (/^(cookie|authorization|x-.*token.*)$/i.test(name)) {
			registerSecret(value);
			for (const part of value.split(";")) registerSecret(part.split("=").slice(1).join("=").trim());
		}
	}
	if (endpoint.protocols?.length) {
		for (const p of endpoint.protocols) registerSecret(p.length >= 8 ? p : undefined);
		return connectWebSocket(endpoint, description, endpoint.protocols, options.signal, options.timeoutMs);
	}
	// Most servers (QEMU, websockify ≥ 0.9) take RFB without a subprotocol; older
	// websockify insists on "binary", and Bun fails a handshake in which we offer
	// one that the server does not echo. So: none first, then "binary".
	try {
		return await connectWebSocket(endpoint, description, undefined, options.signal, options.timeoutMs);
	} catch (first) {
		const left = deadline - Date.now();
		if (!(first instanceof IkvmError) || first.code !== "CONNECTION" || left <= 0) throw first;
		try {
			return await connectWebSocket(endpoint, description, ["binary"], options.signal, left);
		} catch (second) {
			log.debug("websocket retry with subprotocol binary failed too", { error: String(second) });
			throw first;
		}
	}
}

function connectWebSocket(
	endpoint: Extract<VncEndpoint, { kind: "ws" }>,
	description: string,
	protocols: string[] | undefined,
	signal: AbortSignal,
	timeoutMs: number,
): Promise<ByteStream> {
	return new Promise<ByteStream>((resolve, reject) => {
		if (signal.aborted) {
			reject(abortReasonToError(signal.reason, "connect"));
			return;
		}
		let ws: WebSocket;
		try {
			const tlsOptions = endpoint.insecure
				? { rejectUnauthorized: false }
				: endpoint.caFile
					? tlsVerification({ caFile: endpoint.caFile })
					: undefined;
			ws = new WebSocket(endpoint.url, {
				headers: withOrigin(endpoint.url, endpoint.headers),
				...(protocols ? { protocols } : {}),
				...(tlsOptions ? { tls: tlsOptions } : {}),
			});
		} catch (error) {
			reject(
				new IkvmError("BAD_INPUT", `Invalid VNC WebSocket URL ${description}: ${(error as Error).message}`, {
					stage: "connect",
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
						stage: "connect",
						hint: "Check the URL and that the VNC WebSocket listener is reachable from here.",
						retryable: true,
					}),
				),
			timeoutMs,
		);
		const onAbort = () => fail(abortReasonToError(signal.reason, "connect"));
		signal.addEventListener("abort", onAbort, { once: true });
		ws.onopen = () => {
			done();
			resolve(new WebSocketStream(ws, description));
		};
		const onFailure = (why: string) =>
			fail(
				new IkvmError("CONNECTION", `Could not open the VNC WebSocket ${description}: ${why}.`, {
					stage: "connect",
					hint: wsHint(why, endpoint),
					retryable: true,
				}),
			);
		ws.onerror = (event) => onFailure(errorEventMessage(event));
		ws.onclose = (event) => onFailure(`closed with code ${event.code}${event.reason ? ` (${event.reason})` : ""}`);
	});
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

function wsHint(why: string, endpoint: Extract<VncEndpoint, { kind: "ws" }>): string {
	if (/certificate|self[- ]signed|TLS|SSL/i.test(why) && !endpoint.insecure) {
		return 'The server\'s TLS certificate is not trusted; if it is a self-signed BMC or lab certificate, set "tls": {"insecure": true} for this server.';
	}
	return "Check the URL (scheme, host, port and path) and that the VNC WebSocket listener is running.";
}

function connectTcp(
	endpoint: Extract<VncEndpoint, { kind: "tcp" }>,
	description: string,
	signal: AbortSignal,
	timeoutMs: number,
): Promise<ByteStream> {
	return new Promise<ByteStream>((resolve, reject) => {
		if (signal.aborted) {
			reject(abortReasonToError(signal.reason, "connect"));
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
					new IkvmError("TIMEOUT", `No TCP connection to VNC server ${description} within ${seconds(timeoutMs)}.`, {
						stage: "connect",
						hint: "Check the host and port, and that no firewall drops the connection.",
						retryable: true,
					}),
				),
			timeoutMs,
		);
		const onAbort = () => fail(abortReasonToError(signal.reason, "connect"));
		const onConnect = () => {
			done();
			resolve(new TcpStream(socket, description, endpoint.host));
		};
		const onError = (error: Error) =>
			fail(
				new IkvmError("CONNECTION", `Could not connect to VNC server ${description}: ${error.message}.`, {
					stage: "connect",
					hint: "Check the host and port (display N listens on 5900+N) and that the VNC server is running.",
					retryable: true,
				}),
			);
		signal.addEventListener("abort", onAbort, { once: true });
		socket.once("connect", onConnect);
		socket.once("error", onError);
	});
}

export function seconds(ms: number): string {
	return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
