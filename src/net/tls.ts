/**
 * Per-target TLS for BMC connections (fetch and WebSocket), never process-wide.
 *
 * Three choices: `insecure` (accept any certificate, explicit), `ca` (PEM text of the
 * certificates to trust; the host name is checked as usual), `fingerprint256` (pin the
 * BMC's own certificate). Bun calls `checkServerIdentity` only after the chain verified,
 * and not at all when verification is off, so a pin alone cannot be checked with
 * `rejectUnauthorized: false`. Instead the pinned certificate itself becomes the one
 * trust anchor, and `checkServerIdentity` compares its SHA-256 fingerprint (which also
 * replaces the host-name check self-signed BMC certificates usually fail). The
 * certificate is learned once by a TLS handshake that only reads it (`learnPinnedCertificate`).
 */
import { X509Certificate } from "node:crypto";
import tls from "node:tls";
import { IkvmError } from "../errors.ts";

export interface TargetTls {
	insecure?: boolean;
	/** PEM text (already read from the file the config names). */
	ca?: string;
	/** "AB:CD:…" (32 bytes, colons optional, case-insensitive). */
	fingerprint256?: string;
}

/** What Bun's fetch and WebSocket take as `tls`. */
export interface BunTls {
	rejectUnauthorized?: boolean;
	ca?: string;
	checkServerIdentity?: (host: string, cert: { fingerprint256?: string }) => Error | undefined;
}

/** "ab:cd…", "ABCD…" or "sha256/AB:CD…" → "AB:CD:…"; undefined when it is not 32 hex bytes. */
export function normalizeFingerprint(value: string): string | undefined {
	const hex = value
		.replace(/^sha256[/:=]?/i, "")
		.replace(/[:\s]/g, "")
		.toUpperCase();
	if (!/^[0-9A-F]{64}$/.test(hex)) return undefined;
	return hex.match(/../g)?.join(":");
}

export class PinMismatchError extends Error {
	constructor(
		readonly expected: string,
		readonly presented: string,
	) {
		super(`certificate fingerprint ${presented} does not match the pinned ${expected}`);
		this.name = "PinMismatchError";
	}
}

/**
 * The `tls` option for a request. A pin needs the pinned certificate's PEM (from
 * `ca` or `learnPinnedCertificate`); without it the caller must learn it first.
 */
export function bunTlsOptions(options: TargetTls | undefined, pinnedPem?: string): BunTls | undefined {
	if (!options) return undefined;
	if (options.insecure) return { rejectUnauthorized: false };
	const pin = options.fingerprint256 ? normalizeFingerprint(options.fingerprint256) : undefined;
	const ca = options.ca ?? pinnedPem;
	if (!pin) return ca ? { ca } : undefined;
	return {
		...(ca ? { ca } : {}),
		checkServerIdentity: (_host, cert) => {
			const presented = cert.fingerprint256 ? normalizeFingerprint(cert.fingerprint256) : undefined;
			return presented === pin ? undefined : new PinMismatchError(pin, presented ?? "(none)");
		},
	};
}

/**
 * Reads the certificate a TLS server presents (no request is sent) and checks it
 * against the pin; returns it as PEM, to be trusted for the real connections.
 */
export async function learnPinnedCertificate(
	host: string,
	port: number,
	fingerprint256: string,
	timeoutMs: number,
	signal: AbortSignal,
): Promise<string> {
	const pin = normalizeFingerprint(fingerprint256);
	if (!pin) {
		throw new IkvmError("CONFIG_INVALID", "tls.fingerprint256 is not a SHA-256 fingerprint (32 hex bytes).", {
			hint: 'Give it as printed by `openssl x509 -noout -fingerprint -sha256`, e.g. "AB:CD:…".',
		});
	}
	const raw = await new Promise<Buffer>((resolve, reject) => {
		const socket = tls.connect({
			host,
			port,
			rejectUnauthorized: false,
			...(isIp(host) ? {} : { servername: host }),
		});
		const finish = (error?: Error, der?: Buffer) => {
			clearTimeout(timer);
			signal.removeEventListener("abort", onAbort);
			socket.destroy();
			if (error) reject(error);
			else resolve(der as Buffer);
		};
		const onAbort = () => finish(new Error("cancelled"));
		const timer = setTimeout(() => finish(new Error(`no TLS handshake within ${timeoutMs} ms`)), timeoutMs);
		signal.addEventListener("abort", onAbort, { once: true });
		socket.once("secureConnect", () => {
			const cert = socket.getPeerCertificate();
			if (!cert?.raw) finish(new Error("the server presented no certificate"));
			else finish(undefined, cert.raw);
		});
		socket.once("error", (error) => finish(error));
	});
	const cert = new X509Certificate(raw);
	const presented = normalizeFingerprint(cert.fingerprint256) ?? cert.fingerprint256;
	if (presented !== pin) throw new PinMismatchError(pin, presented);
	return cert.toString();
}

function isIp(host: string): boolean {
	return /^[\d.]+$/.test(host) || host.includes(":");
}
