/**
 * The KVM WebSocket: `wss://<bmc>/kvm` with the session cookie and Origin,
 * subprotocols `binary, base64`. Hands received bytes on and sends bytes in
 * whichever framing the BMC chose (base64 text frames when it picked base64 or
 * none, like the AMI viewer).
 */
import { abortReasonToError, IkvmError } from "../errors.ts";
import { isTlsVerificationError, tlsFor } from "./bmc-session.ts";
import type { BmcSession } from "./types.ts";

export interface KvmSocketHandlers {
	onData(bytes: Uint8Array): void;
	/** The peer closed or the connection broke; not called for our own close(). */
	onClose(info: { code: number; reason: string }): void;
}

export interface KvmSocket {
	readonly mode: "binary" | "base64";
	readonly url: string;
	send(bytes: Uint8Array): void;
	/** Close handshake, waited for at most `timeoutMs`. Never throws. */
	close(timeoutMs: number): Promise<void>;
}

export function kvmSocketUrl(session: BmcSession): string {
	const url = new URL("/kvm", session.origin);
	url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
	return url.toString();
}

export function openKvmSocket(
	session: BmcSession,
	handlers: KvmSocketHandlers,
	options: { timeoutMs: number; signal: AbortSignal },
): Promise<KvmSocket> {
	const url = kvmSocketUrl(session);
	if (options.signal.aborted) return Promise.reject(abortReasonToError(options.signal.reason, "ws-connect"));
	return new Promise<KvmSocket>((resolve, reject) => {
		// Bun's WebSocket takes headers and per-connection TLS options (not in the DOM typings).
		const init = {
			headers: { Cookie: `QSESSIONID=${session.cookie}`, Origin: session.origin },
			protocols: ["binary", "base64"],
			tls: tlsFor(session.tls),
		};
		const ws = new WebSocket(url, init as unknown as string[]);
		ws.binaryType = "arraybuffer";
		let opened = false;
		let closing = false;
		let mode: "binary" | "base64" = "binary";
		let closeWaiters: Array<() => void> = [];

		const timer = setTimeout(() => {
			fail(
				new IkvmError(
					"TIMEOUT",
					`The KVM WebSocket to ${session.host} did not open within ${Math.round(options.timeoutMs / 1000)} s.`,
					{
						stage: "ws-connect",
						hint: "Check that the BMC's HTTPS port is reachable from this machine.",
						retryable: true,
					},
				),
			);
		}, options.timeoutMs);
		const onAbort = () => fail(abortReasonToError(options.signal.reason, "ws-connect"));
		options.signal.addEventListener("abort", onAbort, { once: true });

		const cleanupOpen = () => {
			clearTimeout(timer);
			options.signal.removeEventListener("abort", onAbort);
		};
		const fail = (error: IkvmError) => {
			if (opened) return;
			opened = true;
			cleanupOpen();
			closing = true;
			try {
				ws.close();
			} catch {
				// already closed
			}
			reject(error);
		};

		ws.onopen = () => {
			if (opened) return;
			opened = true;
			cleanupOpen();
			mode = ws.protocol === "binary" ? "binary" : "base64";
			resolve(socket);
		};
		ws.onerror = (event) => {
			if (opened) return;
			const message = (event as unknown as { message?: string }).message ?? "connection failed";
			if (isTlsVerificationError(message)) {
				fail(
					new IkvmError("CONNECTION", `The BMC at ${session.host} presented a TLS certificate that is not trusted.`, {
						stage: "ws-connect",
						hint: "Set `tls: { insecure: true }` on this target to accept its self-signed certificate (this BMC only).",
					}),
				);
				return;
			}
			fail(
				new IkvmError("CONNECTION", `Could not open the KVM WebSocket to ${session.host}: ${message}`, {
					stage: "ws-connect",
					hint: "The BMC refuses the KVM WebSocket when the web session has expired or the HTML5 KVM is disabled.",
					retryable: true,
				}),
			);
		};
		ws.onclose = (event) => {
			const waiters = closeWaiters;
			closeWaiters = [];
			for (const w of waiters) w();
			if (!opened) {
				fail(
					new IkvmError(
						"CONNECTION",
						`The BMC at ${session.host} closed the KVM WebSocket while opening it (code ${event.code}).`,
						{
							stage: "ws-connect",
							retryable: true,
						},
					),
				);
				return;
			}
			if (!closing) handlers.onClose({ code: event.code, reason: event.reason });
		};
		ws.onmessage = (event) => {
			if (closing) return;
			const data = event.data as ArrayBuffer | string;
			handlers.onData(typeof data === "string" ? Buffer.from(data, "base64") : new Uint8Array(data));
		};

		const socket: KvmSocket = {
			url,
			get mode() {
				return mode;
			},
			send(bytes) {
				if (closing || ws.readyState !== WebSocket.OPEN) return;
				if (mode === "binary") ws.send(bytes);
				else ws.send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("base64"));
			},
			close(timeoutMs) {
				if (ws.readyState === WebSocket.CLOSED) {
					closing = true;
					return Promise.resolve();
				}
				closing = true;
				return new Promise<void>((done) => {
					const t = setTimeout(() => {
						// The BMC did not finish the close handshake: drop the TCP connection.
						(ws as unknown as { terminate?: () => void }).terminate?.();
						done();
					}, timeoutMs);
					closeWaiters.push(() => {
						clearTimeout(t);
						done();
					});
					try {
						ws.close(1000, "done");
					} catch {
						clearTimeout(t);
						done();
					}
				});
			},
		};
	});
}
