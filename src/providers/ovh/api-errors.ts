/**
 * Turns an OVH error answer into a typed error that says what to do next.
 * Pure: no I/O, so every mapping is testable on its own.
 *
 * What OVH actually answers: a bad signature is 400
 * INVALID_SIGNATURE, clock drift 400 QUERY_TIME_OUT, an unknown consumer key
 * 403 NOT_CREDENTIAL, an unvalidated or expired one 403 INVALID_CREDENTIAL, a
 * call outside the key's access rules 403 NOT_GRANTED_CALL, a bad application
 * key 403 INVALID_KEY, an IAM denial 403 FORBIDDEN with `details`.
 */
import { type ErrorCode, IkvmError, type IkvmErrorOptions } from "../../errors.ts";
import type { OvhErrorBody } from "./types.ts";

const README_RULES =
	"the access rules ikvm-mcp needs (`ikvm-mcp ovh-credentials` asks for exactly those; README, “OVH credentials”)";

/** An error answer of the OVH API, with what OVH said kept for callers that branch on it. */
export class OvhApiError extends IkvmError {
	readonly httpStatus: number;
	readonly ovhErrorCode?: string;
	readonly queryId?: string;

	constructor(
		code: ErrorCode,
		message: string,
		details: { httpStatus: number; ovhErrorCode?: string; queryId?: string },
		options: IkvmErrorOptions = {},
	) {
		super(code, message, { stage: "ovh-api", ...options });
		this.name = "OvhApiError";
		this.httpStatus = details.httpStatus;
		this.ovhErrorCode = details.ovhErrorCode;
		this.queryId = details.queryId;
	}
}

export interface OvhFailure {
	method: string;
	/** Path below the API base, without the query string, e.g. `/dedicated/server/ns1.ip-1-2-3.eu`. */
	path: string;
	status: number;
	body: OvhErrorBody | null;
	/** `X-Ovh-Queryid`: OVH support can trace a call with it. */
	queryId?: string;
	/** Origin of the API, e.g. `https://eu.api.ovh.com`, to name where a consumer key is validated. */
	apiOrigin: string;
	/** The configured base URL, to name in errors that suggest a wrong OVH_ENDPOINT. */
	apiBase?: string;
	/** How many times a retryable answer (429/5xx) was retried before giving up. */
	retries?: number;
}

/**
 * The access rule that covers a call, in the form OVH's consumer keys use:
 * concrete service names and ids become `*`.
 */
export function accessRuleFor(method: string, path: string): string {
	const segments = path.split("/");
	return `${method.toUpperCase()} ${segments
		.map((segment, i) => {
			if (i === 3 && segments[1] === "dedicated" && segments[2] === "server" && segment) return "*";
			if (/^\d+$/.test(segment) || segment.includes(".")) return "*";
			return segment;
		})
		.join("/")}`;
}

export function ovhErrorFromResponse(failure: OvhFailure): OvhApiError {
	const { method, path, status, body, queryId } = failure;
	const call = `${method} ${path}`;
	const errorCode = body?.errorCode ?? undefined;
	const said = body?.message ? ` OVH says: “${body.message}”.` : "";
	const tag = `${status}${errorCode ? ` ${errorCode}` : ""}`;
	const trace = queryId ? ` (OVH query id ${queryId})` : "";
	const details = { httpStatus: status, ovhErrorCode: errorCode, queryId };
	const make = (code: ErrorCode, message: string, hint: string, retryable = false) =>
		new OvhApiError(code, message, details, { hint: `${hint}${trace}`, retryable });

	switch (errorCode) {
		case "INVALID_SIGNATURE":
			return make(
				"AUTH_FAILED",
				`OVH rejected the request signature of ${call} (${tag}).`,
				"OVH_APPLICATION_SECRET is wrong or does not belong to OVH_APPLICATION_KEY: copy the secret shown when " +
					"the application was created (keys are per region, so check OVH_ENDPOINT too).",
			);
		case "QUERY_TIME_OUT":
			return make(
				"AUTH_FAILED",
				`OVH refused ${call} as out of time (${tag}), even after re-reading the OVH clock.`,
				"This machine's clock jumps or is far off: enable NTP time sync and try again.",
				true,
			);
		case "NOT_CREDENTIAL":
			return make(
				"AUTH_FAILED",
				`OVH does not know this consumer key (${tag}).`,
				"OVH_CONSUMER_KEY is wrong, was revoked, or was created for another application key. Create a new " +
					`consumer key for OVH_APPLICATION_KEY with ${README_RULES}.`,
			);
		case "INVALID_CREDENTIAL":
			return make(
				"AUTH_FAILED",
				`The OVH consumer key is not validated yet, or has expired (${tag}).`,
				`Validate the consumer key at the validationUrl OVH returned when it was created ` +
					`(${failure.apiOrigin}/auth/?credentialToken=…) by opening it and logging in; if that link or the key ` +
					`has expired, create a new consumer key with ${README_RULES}.`,
			);
		case "NOT_GRANTED_CALL": {
			const rule = accessRuleFor(method, path);
			return make(
				"ACCESS_DENIED",
				`The OVH consumer key is not allowed to call ${call} (${tag}).`,
				`The key needs the access rule ${rule}. Rules of a consumer key cannot be changed: create a new ` +
					`consumer key with ${README_RULES} and set OVH_CONSUMER_KEY to it.`,
			);
		}
		case "INVALID_KEY":
			return make(
				"AUTH_FAILED",
				`OVH does not know this application key (${tag}).`,
				"Check OVH_APPLICATION_KEY, and that OVH_ENDPOINT is the region where the application was created " +
					"(eu, ca or us).",
			);
		case "FORBIDDEN": {
			const missing = Object.values(body?.details ?? {})
				.flatMap((v) => v.split(","))
				.map((v) => v.trim())
				.filter(Boolean);
			return make(
				"ACCESS_DENIED",
				`OVH IAM does not allow ${call} (${tag}).${said}`,
				missing.length > 0
					? `Missing IAM permissions: ${missing.join(", ")}. Grant them to the OVH account or IAM policy this consumer key acts for.`
					: "Grant the OVH account or IAM policy this consumer key acts for the permission for this call.",
			);
		}
	}

	if (status === 401) {
		return make(
			"AUTH_FAILED",
			`OVH refused the credentials for ${call} (${tag}).${said}`,
			"Check OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET and OVH_CONSUMER_KEY, and that OVH_ENDPOINT is their region.",
		);
	}
	if (status === 403) {
		return make(
			"ACCESS_DENIED",
			`OVH refused ${call} (${tag}).${said}`,
			`Check that the consumer key has ${README_RULES} and that this account owns the server.`,
		);
	}
	if (status === 404) {
		const hint = path.startsWith("/dedicated/server/")
			? "Call list_servers for valid ids."
			: `Check OVH_ENDPOINT (${failure.apiBase ?? failure.apiOrigin}): it must be the OVH API base, ending in /1.0.`;
		return make("UPSTREAM", `OVH has no such resource: ${call} (${tag}).${said}`, hint);
	}
	if (status === 429) {
		const after = failure.retries ? ` after ${failure.retries} retries` : "";
		return make(
			"BUSY",
			`OVH is rate-limiting this consumer key (${tag})${after}.`,
			"Wait a minute and try again; OVH tolerates about 60 calls a minute per key.",
			true,
		);
	}
	if (status >= 500) {
		const after = failure.retries ? ` after ${failure.retries} retries` : "";
		return make(
			"UPSTREAM",
			`The OVH API failed on ${call} (${tag})${after}.${said}`,
			"OVH may be having an incident (https://status.ovhcloud.com); try again later.",
			true,
		);
	}
	return make("UPSTREAM", `OVH refused ${call} (${tag}).${said}`, "This request may not apply to this server.");
}
