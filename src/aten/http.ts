/**
 * One HTTP request to a Supermicro BMC's web server, with a time limit, the
 * caller's cancellation, the target's TLS choice and a capped body. Failures
 * become IkvmErrors named after the stage the request belongs to.
 */

import type { TlsOptions } from "../console/types.ts";
import { abortReasonToError, IkvmError, type Stage } from "../errors.ts";
import { isTlsVerificationError, tlsFor } from "../net/bmc-http.ts";
import { seconds } from "../timing.ts";

export interface AtenRequestContext {
	signal: AbortSignal;
	timeoutMs: number;
}

export interface AtenResponse {
	status: number;
	headers: Headers;
	body: Uint8Array;
	text(): string;
}

export interface AtenRequest {
	method?: string;
	headers?: Record<string, string>;
	body?: string;
	/** Largest body read (pages are a few KiB, a preview image up to a few MiB). */
	maxBytes?: number;
}

const DEFAULT_MAX = 2 * 1024 * 1024;

const REACH_HINT = "Check that the BMC is reachable from this machine (IPMI network, firewall, VPN).";

export async function atenRequest(
	url: URL,
	init: AtenRequest,
	tls: TlsOptions | undefined,
	ctx: AtenRequestContext,
	what: string,
	stage: Stage,
): Promise<AtenResponse> {
	if (ctx.signal.aborted) throw abortReasonToError(ctx.signal.reason, stage);
	const timeout = AbortSignal.timeout(ctx.timeoutMs);
	const signal = AbortSignal.any([ctx.signal, timeout]);
	const max = init.maxBytes ?? DEFAULT_MAX;
	try {
		const response = await fetch(url, {
			method: init.method ?? "GET",
			headers: init.headers,
			body: init.body,
			redirect: "manual",
			signal,
			tls: tlsFor(tls),
		});
		const body = await readBytesWithin(response, max);
		if (body === undefined) {
			throw new IkvmError("PROTOCOL", `The BMC's answer to ${what} is larger than ${max / 1024} KiB.`, { stage });
		}
		return { status: response.status, headers: response.headers, body, text: () => new TextDecoder().decode(body) };
	} catch (error) {
		if (error instanceof IkvmError) throw error;
		if (ctx.signal.aborted) throw abortReasonToError(ctx.signal.reason, stage);
		if (timeout.aborted) {
			throw new IkvmError(
				"TIMEOUT",
				`The BMC at ${url.host} did not answer ${what} within ${seconds(ctx.timeoutMs)} s.`,
				{ stage, hint: REACH_HINT, retryable: true },
			);
		}
		if (isTlsVerificationError(error)) {
			throw new IkvmError("CONNECTION", `The BMC at ${url.host} presented a TLS certificate that is not trusted.`, {
				stage,
				hint: 'BMCs usually have self-signed certificates: set "tls": { "insecure": true } on this target (it affects this BMC only).',
				cause: error,
			});
		}
		const reason = error instanceof Error ? error.message : String(error);
		throw new IkvmError("CONNECTION", `Could not reach the BMC at ${url.host} (${what}): ${reason}`, {
			stage,
			hint: REACH_HINT,
			retryable: true,
			cause: error,
		});
	}
}

/** The body as bytes (pages and images alike), or undefined past `max`; a declared size past it is refused unread. */
async function readBytesWithin(response: Response, max: number): Promise<Uint8Array | undefined> {
	if (Number(response.headers.get("content-length") ?? 0) > max) {
		await response.body?.cancel().catch(() => {});
		return undefined;
	}
	const reader = response.body?.getReader();
	if (!reader) return new Uint8Array(0);
	const chunks: Uint8Array[] = [];
	let total = 0;
	for (;;) {
		const { done, value } = await reader.read();
		if (done) break;
		total += value.length;
		if (total > max) {
			await reader.cancel().catch(() => {});
			return undefined;
		}
		chunks.push(value);
	}
	return Buffer.concat(chunks);
}
