/**
 * HTTP to a BMC's web server, for every BMC path (AMI, ATEN, Redfish): a time
 * limit per request, the caller's cancellation, a capped body, typed errors that
 * tell an untrusted certificate from an unreachable host, and the target's TLS
 * choice. BMCs use self-signed certificates: a target with `tls.insecure` skips
 * verification for the requests to that BMC only (Bun's per-request `tls`
 * option); nothing global such as NODE_TLS_REJECT_UNAUTHORIZED is touched.
 */
import { readFileSync } from "node:fs";
import type { TlsOptions } from "../console/types.ts";
import { abortReasonToError, IkvmError, type Stage } from "../errors.ts";
import { seconds } from "../timing.ts";
import { readBodyWithin } from "./read-body.ts";

export interface BmcRequestContext {
	/** The caller's cancellation. */
	signal: AbortSignal;
	/** Time limit of each request. */
	timeoutMs: number;
	/** The stage errors name. Default "bmc-login". */
	stage?: Stage;
	/** Largest body read. Default 2 MiB. */
	maxBodyBytes?: number;
}

/** Largest response body read from a BMC; viewer pages are a few KiB. */
const MAX_BODY_BYTES = 2 * 1024 * 1024;

const INSECURE_HINT =
	"BMCs usually have self-signed certificates. To accept this BMC's certificate, set `tls: { insecure: true }` on this target (it affects this BMC only).";

const TLS_ERROR_CODES = new Set([
	"UNABLE_TO_VERIFY_LEAF_SIGNATURE",
	"DEPTH_ZERO_SELF_SIGNED_CERT",
	"SELF_SIGNED_CERT_IN_CHAIN",
	"UNABLE_TO_GET_ISSUER_CERT",
	"UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
	"CERT_HAS_EXPIRED",
	"CERT_NOT_YET_VALID",
	"ERR_TLS_CERT_ALTNAME_INVALID",
	"CERT_UNTRUSTED",
	"CERT_SIGNATURE_FAILURE",
]);

/** Bun's per-request TLS options for a target: insecure, or a CA (already read, or a PEM file). */
export function tlsFor(tls: TlsOptions | undefined): { rejectUnauthorized: boolean; ca?: string } | undefined {
	if (tls?.insecure) return { rejectUnauthorized: false };
	if (tls?.ca) return { rejectUnauthorized: true, ca: tls.ca };
	if (tls?.caFile) {
		try {
			return { rejectUnauthorized: true, ca: readFileSync(tls.caFile, "utf8") };
		} catch (error) {
			throw new IkvmError("CONFIG_INVALID", `Cannot read the CA file ${tls.caFile}: ${(error as Error).message}.`, {
				hint: "Set tls.ca to a readable PEM file with the CA that signed the BMC's certificate.",
			});
		}
	}
	return undefined;
}

export function isTlsVerificationError(error: unknown): boolean {
	const code = (error as { code?: unknown })?.code;
	if (typeof code === "string" && TLS_ERROR_CODES.has(code)) return true;
	const message = error instanceof Error ? error.message : String(error);
	return /certificate|self[- ]signed|TLS handshake/i.test(message);
}

export interface BmcResponse {
	status: number;
	headers: Headers;
	body: string;
}

/**
 * One request to a BMC with a time limit, the caller's cancellation and the target's TLS choice.
 * Errors are typed and name `ctx.stage` (default "bmc-login"): timeout, untrusted certificate,
 * unreachable, or a body beyond `ctx.maxBodyBytes`.
 */
export async function bmcRequest(
	url: URL,
	init: { method?: string; headers?: Record<string, string>; body?: string },
	tls: TlsOptions | undefined,
	ctx: BmcRequestContext,
	what: string,
): Promise<BmcResponse> {
	const stage = ctx.stage ?? "bmc-login";
	const maxBody = ctx.maxBodyBytes ?? MAX_BODY_BYTES;
	if (ctx.signal.aborted) throw abortReasonToError(ctx.signal.reason, stage);
	const timeout = AbortSignal.timeout(ctx.timeoutMs);
	const signal = AbortSignal.any([ctx.signal, timeout]);
	try {
		const response = await fetch(url, {
			method: init.method ?? "GET",
			headers: init.headers,
			body: init.body,
			redirect: "manual",
			signal,
			tls: tlsFor(tls),
		});
		const body = await readBodyWithin(response, maxBody);
		if (body === undefined) throw tooLarge(url, what, maxBody, stage);
		return { status: response.status, headers: response.headers, body };
	} catch (error) {
		if (error instanceof IkvmError) throw error;
		if (ctx.signal.aborted) throw abortReasonToError(ctx.signal.reason, stage);
		if (timeout.aborted) {
			throw new IkvmError(
				"TIMEOUT",
				`The BMC at ${url.host} did not answer ${what} within ${seconds(ctx.timeoutMs)}.`,
				{
					stage,
					hint: "Check that the BMC is reachable from this machine (IPMI access rules, firewall, VPN).",
					retryable: true,
				},
			);
		}
		if (isTlsVerificationError(error)) {
			throw new IkvmError("CONNECTION", `The BMC at ${url.host} presented a TLS certificate that is not trusted.`, {
				stage,
				hint: INSECURE_HINT,
				cause: error,
			});
		}
		const reason = error instanceof Error ? error.message : String(error);
		throw new IkvmError("CONNECTION", `Could not reach the BMC at ${url.host} (${what}): ${reason}`, {
			stage,
			hint: "Check that the BMC is reachable from this machine (IPMI access rules, firewall, VPN).",
			retryable: true,
			cause: error,
		});
	}
}

function tooLarge(url: URL, what: string, max: number, stage: Stage): IkvmError {
	return new IkvmError(
		"PROTOCOL",
		`The answer of ${url.host} to ${what} is larger than ${max / 1024} KiB; this is not the BMC page expected.`,
		{ stage },
	);
}
