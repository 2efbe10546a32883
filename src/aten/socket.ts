/**
 * The KVM WebSocket of a Supermicro HTML5 console: `wss://<bmc>/` (the root
 * path), the `SID` cookie and the BMC's Origin, no subprotocol. Binary frames
 * carry the RFB byte stream split anywhere; the dialect reassembles it.
 *
 * The BMC refuses an upgrade whose header names are not in their usual
 * capitalisation; Bun's WebSocket client writes `Sec-WebSocket-Key`,
 * `Sec-WebSocket-Version`, `Upgrade` and `Connection` that way (the mock BMC
 * checks it on the raw request).
 */
import { tlsFor } from "../ami/bmc-session.ts";
import type { TlsOptions } from "../console/types.ts";
import { abortReasonToError, IkvmError } from "../errors.ts";
import { seconds } from "../timing.ts";

export interface AtenSocketHandlers {
	onData(bytes: Uint8Array): void;
	/** The peer closed or the connection broke; not called after our own close(). */
	onClose(info: { code: number; reason: string }): void;
}

export interface AtenSocket {
	send(bytes: Uint8Array): void;
	readonly open: boolean;
	/** Close handshake, waited for at most `timeoutMs`, then the connection is dropped. Never throws. */
	close(timeoutMs: number): Promise<void>;
}

export function kvmSocketUrl(origin: string): string {
	const url = new URL("/", origin);
	url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
	return url.toString();
}

export function openAtenSocket(
	origin: string,
	sid: string,
	tls: TlsOptions | undefined,
	handlers: AtenSocketHandlers,
	options: { timeoutMs: number; signal: AbortSignal },
): Promise<AtenSocket> {
	const url = kvmSocketUrl(origin);
	const host = new URL(origin).host;
	if (options.signal.aborted) return Promise.reject(abortReasonToError(options.signal.reason, "aten-connect"));
	return new Promise<AtenSocket>((resolve, reject) => {
		// Bun's WebSocket takes headers and per-connection TLS options (not in the DOM typings); no protocols.
		const init = { headers: { Cookie: `SID=${sid}`, Origin: origin }, tls: tlsFor(tls) };
		const ws = new WebSocket(url, init as unknown as string[]);
		ws.binaryType = "arraybuffer";
		let settled = false;
		let closing = false;
		let closeWaiters: Array<() => void> = [];

		const timer = setTimeout(
			() =>
				fail(
					new IkvmError(
						"TIMEOUT",
						`The KVM WebSocket to ${host} did not open within ${seconds(options.timeoutMs)} s.`,
						{
							stage: "aten-connect",
							hint: "Check that the BMC's HTTPS port is reachable from this machine.",
							retryable: true,
						},
					),
				),
			options.timeoutMs,
		);
		const onAbort = () => fail(abortReasonToError(options.signal.reason, "aten-connect"));
		options.signal.addEventListener("abort", onAbort, { once: true });
		const settle = () => {
			settled = true;
			clearTimeout(timer);
			options.signal.removeEventListener("abort", onAbort);
		};
		const fail = (error: IkvmError) => {
			if (settled) return;
			settle();
			closing = true;
			try {
				ws.close();
			} catch {
				// not open yet
			}
			reject(error);
		};

		ws.onopen = () => {
			if (settled) return;
			settle();
			resolve(socket);
		};
		ws.onerror = (event) => {
			if (settled) return;
			const raw = (event as unknown as { message?: string }).message ?? "connection failed";
			const why = raw.replace(/^WebSocket connection to '[^']*' failed:?\s*/, "").replace(/[a-z]+:\/\/\S+/gi, "<url>");
			const status = /Expected 101 status code:?\s*(\d+)/.exec(why)?.[1];
			if (/certificate|self[- ]signed|TLS|SSL/i.test(why)) {
				fail(
					new IkvmError("CONNECTION", `The BMC at ${host} presented a TLS certificate that is not trusted.`, {
						stage: "aten-connect",
						hint: 'Set "tls": { "insecure": true } on this target to accept its self-signed certificate (this BMC only).',
					}),
				);
				return;
			}
			fail(
				new IkvmError(
					"CONNECTION",
					status
						? `The BMC at ${host} refused the KVM WebSocket (HTTP ${status}).`
						: `Could not open the KVM WebSocket to ${host}: ${why || "connection failed"}`,
					{
						stage: "aten-connect",
						hint: "The BMC refuses the console WebSocket when the web session (SID) expired, when the HTML5 console is disabled, or when a proxy re-cases the upgrade headers.",
						retryable: true,
					},
				),
			);
		};
		ws.onclose = (event) => {
			const waiters = closeWaiters;
			closeWaiters = [];
			for (const w of waiters) w();
			if (!settled) {
				fail(
					new IkvmError(
						"CONNECTION",
						`The BMC at ${host} closed the KVM WebSocket while opening it (code ${event.code}).`,
						{
							stage: "aten-connect",
							retryable: true,
						},
					),
				);
				return;
			}
			if (!closing) {
				closing = true;
				handlers.onClose({ code: event.code, reason: event.reason });
			}
		};
		ws.onmessage = (event) => {
			if (closing) return;
			const data = event.data;
			if (data instanceof ArrayBuffer) handlers.onData(new Uint8Array(data));
			else if (ArrayBuffer.isView(data)) handlers.onData(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
			else handlers.onData(new TextEncoder().encode(String(data)));
		};

		const socket: AtenSocket = {
			get open() {
				return !closing && ws.readyState === WebSocket.OPEN;
			},
			send(bytes) {
				if (closing || ws.readyState !== WebSocket.OPEN) return;
				ws.send(bytes);
			},
			close(timeoutMs) {
				closing = true;
				if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
				return new Promise<void>((done) => {
					const t = setTimeout(() => {
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
