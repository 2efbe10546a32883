/**
 * The KVM WebSocket: `wss://<bmc>/kvm` with the session cookie and Origin,
 * subprotocols `binary, base64`, on the shared byte stream. Data travels in
 * whichever framing the BMC chose (base64 text frames when it picked base64 or
 * none, like the AMI viewer).
 */
import { type ByteStream, openByteStream } from "../net/byte-stream.ts";
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

export async function openKvmSocket(
	session: BmcSession,
	handlers: KvmSocketHandlers,
	options: { timeoutMs: number; signal: AbortSignal },
): Promise<KvmSocket> {
	const url = kvmSocketUrl(session);
	const stream: ByteStream = await openByteStream(
		{
			kind: "ws",
			url,
			headers: { Cookie: `QSESSIONID=${session.cookie}`, Origin: session.origin },
			protocols: [["binary", "base64"]],
			framing: "negotiated",
			insecure: session.tls?.insecure === true,
		},
		{
			signal: options.signal,
			timeoutMs: options.timeoutMs,
			stage: "ws-connect",
			label: "KVM WebSocket",
			refusedHint: "The BMC refuses the KVM WebSocket when the web session has expired or the HTML5 KVM is disabled.",
		},
	);
	let closing = false;
	stream.start(
		(bytes) => {
			if (!closing) handlers.onData(bytes);
		},
		(info) => {
			if (!closing) handlers.onClose({ code: info.code ?? 1006, reason: info.reason ?? info.error?.message ?? "" });
		},
	);
	return {
		url,
		mode: stream.protocol === "binary" ? "binary" : "base64",
		send: (bytes) => {
			if (!closing) stream.send(bytes);
		},
		close(timeoutMs) {
			closing = true;
			return stream.closeGracefully(timeoutMs);
		},
	};
}
