/**
 * The KVM WebSocket of a Supermicro HTML5 console: `wss://<bmc>/` (the root
 * path), the `SID` cookie and the BMC's Origin, no subprotocol offered (not
 * even as a retry), binary frames carrying the RFB byte stream split anywhere.
 *
 * The BMC refuses an upgrade whose header names are not in their usual
 * capitalisation; Bun's WebSocket client writes `Sec-WebSocket-Key`,
 * `Sec-WebSocket-Version`, `Upgrade` and `Connection` that way (the mock BMC
 * checks it on the raw request).
 */
import type { TlsOptions } from "../console/types.ts";
import { openByteStream } from "../net/byte-stream.ts";

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

export async function openAtenSocket(
	origin: string,
	sid: string,
	tls: TlsOptions | undefined,
	handlers: AtenSocketHandlers,
	options: { timeoutMs: number; signal: AbortSignal },
): Promise<AtenSocket> {
	const stream = await openByteStream(
		{
			kind: "ws",
			url: kvmSocketUrl(origin),
			headers: { Cookie: `SID=${sid}`, Origin: origin },
			protocols: [undefined],
			framing: "binary",
			insecure: tls?.insecure === true,
			caFile: tls?.caFile,
		},
		{
			signal: options.signal,
			timeoutMs: options.timeoutMs,
			stage: "aten-connect",
			label: "Supermicro KVM WebSocket",
			refusedHint:
				"The BMC refuses the console WebSocket when the web session (SID) expired, when the HTML5 console is disabled, or when a proxy re-cases the upgrade headers.",
		},
	);
	let closing = false;
	stream.start(
		(chunk) => {
			if (!closing) handlers.onData(chunk);
		},
		(info) => {
			if (closing) return;
			closing = true;
			handlers.onClose({ code: info.code ?? 1006, reason: info.reason ?? info.error?.message ?? "" });
		},
	);
	return {
		get open() {
			return !closing && !stream.closed;
		},
		send(bytes) {
			if (!closing) stream.send(bytes);
		},
		close(timeoutMs) {
			closing = true;
			return stream.closeGracefully(timeoutMs);
		},
	};
}
