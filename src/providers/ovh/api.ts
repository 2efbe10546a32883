/**
 * Signed client for the OVH API (application key / secret / consumer key).
 *
 * Every call is signed exactly as OVH's own SDKs do it:
 *   X-Ovh-Signature = "$1$" + sha1_hex(AS + "+" + CK + "+" + METHOD + "+" + fullUrl + "+" + body + "+" + timestamp)
 * where fullUrl is the absolute URL sent (query included) and body the exact bytes sent.
 * The timestamp follows OVH's clock: `GET /auth/time` is read once and the offset cached;
 * a QUERY_TIME_OUT answer re-reads it once.
 *
 * Each request has its own timeout (stage "ovh-api"); 429 and 5xx answers are retried
 * with exponential backoff, nothing else is. Secrets never reach a log line or a message:
 * only method, path, status and OVH's query id are logged.
 */
import { createHash } from "node:crypto";
import type { z } from "zod";
import { abortReasonToError, IkvmError, throwIfAborted } from "../../errors.ts";
import { log } from "../../log.ts";
import { readBodyWithin } from "../../net/read-body.ts";
import { registerSecret } from "../../redact.ts";
import { raceSignal, sleep } from "../../timing.ts";
import { OvhApiError, ovhErrorFromResponse } from "./api-errors.ts";
import {
	type AccessRule,
	AuthTimeSchema,
	type CredentialRequestResult,
	CredentialRequestResultSchema,
	type OvhErrorBody,
	OvhErrorBodySchema,
} from "./types.ts";

const apiLog = log.child("ovh-api");

/** Region names (and the SDKs' `ovh-*` aliases) → API base URL. */
export const OVH_ENDPOINTS: Readonly<Record<string, string>> = {
	eu: "https://eu.api.ovh.com/1.0",
	"ovh-eu": "https://eu.api.ovh.com/1.0",
	ca: "https://ca.api.ovh.com/1.0",
	"ovh-ca": "https://ca.api.ovh.com/1.0",
	us: "https://api.us.ovhcloud.com/1.0",
	"ovh-us": "https://api.us.ovhcloud.com/1.0",
	"kimsufi-eu": "https://eu.api.kimsufi.com/1.0",
	"kimsufi-ca": "https://ca.api.kimsufi.com/1.0",
	"soyoustart-eu": "https://eu.api.soyoustart.com/1.0",
	"soyoustart-ca": "https://ca.api.soyoustart.com/1.0",
};

/** `eu`, `ovh-ca`, … or a full http(s) URL (tests, proxies) → base URL without a trailing slash. */
export function resolveEndpoint(endpoint: string): string {
	const named = OVH_ENDPOINTS[endpoint.trim().toLowerCase()];
	if (named) return named;
	let url: URL;
	try {
		url = new URL(endpoint.trim());
	} catch {
		throw new IkvmError("CONFIG_INVALID", `Invalid OVH_ENDPOINT "${endpoint}".`, {
			hint: `Use one of ${Object.keys(OVH_ENDPOINTS).join(", ")}, or a full URL such as https://eu.api.ovh.com/1.0.`,
		});
	}
	if (url.protocol !== "https:" && url.protocol !== "http:") {
		throw new IkvmError("CONFIG_INVALID", `OVH_ENDPOINT must be an http(s) URL, not ${url.protocol}.`);
	}
	if (url.username || url.password || url.search || url.hash) {
		throw new IkvmError("CONFIG_INVALID", "OVH_ENDPOINT must be a plain base URL (no credentials, query or #).");
	}
	// OVH's API lives under /1.0; a bare host means that.
	if (url.pathname === "/") return `${url.origin}/1.0`;
	return url.href.replace(/\/+$/, "");
}

export interface SignatureInput {
	applicationSecret: string;
	consumerKey: string;
	method: string;
	/** Absolute URL as sent, query string included. */
	url: string;
	/** Exact body bytes as sent; "" when there is none. */
	body: string;
	/** Unix seconds, the value of X-Ovh-Timestamp. */
	timestamp: number;
}

export function signRequest(input: SignatureInput): string {
	const preimage = [
		input.applicationSecret,
		input.consumerKey,
		input.method.toUpperCase(),
		input.url,
		input.body,
		String(input.timestamp),
	].join("+");
	return `$1$${createHash("sha1").update(preimage, "utf8").digest("hex")}`;
}

export interface OvhApiClientOptions {
	/** Region name or full base URL (see resolveEndpoint). */
	endpoint: string;
	applicationKey: string;
	applicationSecret: string;
	/** Absent only for the unsigned calls (`/auth/time`, `/auth/credential`). */
	consumerKey?: string;
	/** Per request, default 15 s. */
	timeoutMs?: number;
	/** Retries of a 429/5xx answer, default 3. */
	retries?: number;
	/** First backoff pause, doubled each retry (with jitter), default 500 ms. */
	retryBaseMs?: number;
	/** Longest single pause, also the cap on Retry-After, default 10 s. */
	retryMaxMs?: number;
	/** Largest answer body read; a longer one is refused, default 8 MiB. */
	maxBodyBytes?: number;
}

/** Real OVH answers are a few KiB; a list of 10,000 servers is about 300 KiB. */
const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;

export interface RequestOptions {
	signal?: AbortSignal;
	query?: Record<string, string>;
}

type Method = "GET" | "POST" | "PUT" | "DELETE";

export class OvhApiClient {
	readonly baseUrl: string;
	/** e.g. https://eu.api.ovh.com: where consumer keys are validated. */
	readonly origin: string;
	private readonly timeoutMs: number;
	private readonly retries: number;
	private readonly retryBaseMs: number;
	private readonly retryMaxMs: number;
	private readonly maxBodyBytes: number;
	/** OVH's clock minus ours, in seconds; undefined until first read. */
	private timeDelta?: number;
	private syncing?: Promise<number>;

	constructor(private readonly options: OvhApiClientOptions) {
		this.baseUrl = resolveEndpoint(options.endpoint);
		this.origin = new URL(this.baseUrl).origin;
		this.timeoutMs = options.timeoutMs ?? 15_000;
		this.retries = options.retries ?? 3;
		this.retryBaseMs = options.retryBaseMs ?? 500;
		this.retryMaxMs = options.retryMaxMs ?? 10_000;
		this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
		registerSecret(options.applicationSecret);
		registerSecret(options.consumerKey);
		const host = new URL(this.baseUrl).hostname;
		if (this.baseUrl.startsWith("http:") && !isLoopback(host)) {
			apiLog.warn("OVH_ENDPOINT is plain http: the consumer key travels unencrypted", { endpoint: this.baseUrl });
		}
	}

	get<T>(path: string, schema: z.ZodType<T>, options: RequestOptions = {}): Promise<T> {
		return this.request("GET", path, undefined, schema, options, true);
	}

	post<T>(path: string, body: unknown, schema: z.ZodType<T>, options: RequestOptions = {}): Promise<T> {
		return this.request("POST", path, body, schema, options, true);
	}

	/** OVH's clock offset in seconds (reads `/auth/time` the first time). */
	async timeDeltaSeconds(signal?: AbortSignal): Promise<number> {
		if (this.timeDelta !== undefined) return this.timeDelta;
		if (!this.syncing) {
			// Shared by concurrent callers; bounded by the request timeout, not by one caller's signal.
			const started = Date.now();
			this.syncing = this.request("GET", "/auth/time", undefined, AuthTimeSchema, {}, false)
				.then((serverTime) => {
					// Compare with the middle of the round trip.
					const local = Math.floor((started + Date.now()) / 2000);
					this.timeDelta = serverTime - local;
					if (Math.abs(this.timeDelta) > 30) {
						apiLog.info("local clock differs from OVH's; correcting timestamps", { deltaSeconds: this.timeDelta });
					}
					return this.timeDelta;
				})
				.finally(() => {
					this.syncing = undefined;
				});
		}
		const pending = this.syncing;
		if (!signal) return pending;
		return raceSignal(pending, signal, "ovh-api");
	}

	/**
	 * Asks for a new consumer key with these access rules (unsigned: only the application key is sent).
	 * The user validates it by opening `validationUrl`.
	 */
	requestCredential(
		accessRules: AccessRule[],
		options: { redirection?: string; signal?: AbortSignal } = {},
	): Promise<CredentialRequestResult> {
		const body: Record<string, unknown> = { accessRules };
		if (options.redirection) body.redirection = options.redirection;
		return this.request("POST", "/auth/credential", body, CredentialRequestResultSchema, options, false).then(
			(result) => {
				registerSecret(result.consumerKey);
				return result;
			},
		);
	}

	private url(path: string, query?: Record<string, string>): string {
		const qs = query ? new URLSearchParams(query).toString() : "";
		return `${this.baseUrl}${path}${qs ? `?${qs}` : ""}`;
	}

	private async request<T>(
		method: Method,
		path: string,
		body: unknown,
		schema: z.ZodType<T>,
		options: RequestOptions,
		signed: boolean,
	): Promise<T> {
		const signal = options.signal ?? new AbortController().signal;
		const url = this.url(path, options.query);
		const bodyText = body === undefined ? "" : JSON.stringify(body);
		let resynced = false;
		for (let attempt = 0; ; attempt++) {
			throwIfAborted(signal, "ovh-api");
			const headers: Record<string, string> = {
				Accept: "application/json",
				"X-Ovh-Application": this.options.applicationKey,
			};
			if (bodyText) headers["Content-Type"] = "application/json;charset=utf-8";
			if (signed) {
				const consumerKey = this.options.consumerKey;
				if (!consumerKey) {
					throw new IkvmError("NOT_CONFIGURED", "No OVH consumer key is configured.", {
						hint: "Set OVH_CONSUMER_KEY.",
					});
				}
				const timestamp = Math.floor(Date.now() / 1000) + (await this.timeDeltaSeconds(signal));
				headers["X-Ovh-Consumer"] = consumerKey;
				headers["X-Ovh-Timestamp"] = String(timestamp);
				headers["X-Ovh-Signature"] = signRequest({
					applicationSecret: this.options.applicationSecret,
					consumerKey,
					method,
					url,
					body: bodyText,
					timestamp,
				});
			}

			const started = Date.now();
			const timeout = AbortSignal.timeout(this.timeoutMs);
			let response: Response;
			let text: string;
			try {
				response = await fetch(url, {
					method,
					headers,
					body: bodyText || undefined,
					redirect: "manual",
					signal: AbortSignal.any([signal, timeout]),
				});
				text = await this.readBody(response, method, path);
			} catch (error) {
				if (error instanceof IkvmError) throw error;
				throw this.transportError(error, method, path, signal, timeout);
			}
			const queryId = response.headers.get("x-ovh-queryid") ?? undefined;
			apiLog.debug("request", { method, path, status: response.status, ms: Date.now() - started, queryId });

			if (response.ok) return this.parse(text, schema, method, path, response);

			const errorBody = parseErrorBody(text);
			if (signed && !resynced && response.status === 400 && errorBody?.errorCode === "QUERY_TIME_OUT") {
				// Our clock moved since the last /auth/time: read it again and resend once.
				resynced = true;
				this.timeDelta = undefined;
				attempt--;
				apiLog.info("OVH said the request was out of time; re-reading the OVH clock", { queryId });
				continue;
			}
			const retryable = response.status === 429 || response.status >= 500;
			if (retryable && attempt < this.retries) {
				const pause = this.backoff(attempt, response.headers.get("retry-after"));
				apiLog.info("OVH answered with a retryable status; retrying", {
					method,
					path,
					status: response.status,
					retryInMs: pause,
					attempt: attempt + 1,
					queryId,
				});
				await sleep(pause, signal, "ovh-api");
				continue;
			}
			throw ovhErrorFromResponse({
				method,
				path,
				status: response.status,
				body: errorBody ?? nonJsonBody(text, response),
				queryId,
				apiOrigin: this.origin,
				apiBase: this.baseUrl,
				retries: retryable ? attempt : undefined,
			});
		}
	}

	/** The body as text, refused past `maxBodyBytes` without reading (or keeping) the rest. */
	private async readBody(response: Response, method: string, path: string): Promise<string> {
		const text = await readBodyWithin(response, this.maxBodyBytes);
		if (text !== undefined) return text;
		throw new IkvmError(
			"TOO_LARGE",
			`OVH answered ${method} ${path} with more than ${formatBytes(this.maxBodyBytes)}; no OVH API answer is that large.`,
			{ stage: "ovh-api", hint: `Is OVH_ENDPOINT (${this.baseUrl}) really the OVH API?` },
		);
	}

	private parse<T>(text: string, schema: z.ZodType<T>, method: string, path: string, response: Response): T {
		let json: unknown;
		try {
			json = JSON.parse(text);
		} catch {
			const type = response.headers.get("content-type") ?? "no content type";
			throw new OvhApiError(
				"PROTOCOL",
				`${method} ${path} answered with something that is not JSON (${type}).`,
				{ httpStatus: response.status },
				{ hint: `Is OVH_ENDPOINT (${this.baseUrl}) really the OVH API?` },
			);
		}
		const parsed = schema.safeParse(json);
		if (!parsed.success) {
			const issue = parsed.error.issues[0];
			const where = issue?.path.length ? ` at ${issue.path.join(".")}` : "";
			throw new OvhApiError(
				"PROTOCOL",
				`OVH answered ${method} ${path} with an unexpected shape${where}: ${issue?.message ?? "invalid"}.`,
				{ httpStatus: response.status },
				{ hint: "The OVH API may have changed; please report this with the path named here." },
			);
		}
		return parsed.data;
	}

	private transportError(
		error: unknown,
		method: string,
		path: string,
		signal: AbortSignal,
		timeout: AbortSignal,
	): IkvmError {
		if (signal.aborted) return abortReasonToError(signal.reason, "ovh-api");
		if (timeout.aborted) {
			return new IkvmError(
				"TIMEOUT",
				`The OVH API did not answer ${method} ${path} within ${this.timeoutMs / 1000} s.`,
				{
					stage: "ovh-api",
					hint: `Check that ${this.origin} is reachable from here, then try again.`,
					retryable: true,
				},
			);
		}
		const reason = error instanceof Error ? error.message : String(error);
		return new IkvmError("CONNECTION", `Could not reach the OVH API at ${this.origin} (${reason}).`, {
			stage: "ovh-api",
			hint: "Check OVH_ENDPOINT, DNS and outbound HTTPS from this machine.",
			retryable: true,
			cause: error,
		});
	}

	private backoff(attempt: number, retryAfter: string | null): number {
		const seconds = retryAfter ? Number(retryAfter) : Number.NaN;
		if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, this.retryMaxMs);
		const base = this.retryBaseMs * 2 ** attempt;
		return Math.min(base / 2 + Math.random() * (base / 2), this.retryMaxMs);
	}
}

function parseErrorBody(text: string): OvhErrorBody | null {
	try {
		const parsed = OvhErrorBodySchema.safeParse(JSON.parse(text));
		return parsed.success ? parsed.data : null;
	} catch {
		return null;
	}
}

/** A proxy's HTML page or an empty body still tells the user something: its status line. */
function nonJsonBody(text: string, response: Response): OvhErrorBody {
	const plain = text
		.replace(/<[^>]*>/g, " ")
		.replace(/\s+/g, " ")
		.trim()
		.slice(0, 200);
	return { message: plain || response.statusText || null };
}

function formatBytes(n: number): string {
	return n >= 1048576 ? `${Math.round(n / 104857.6) / 10} MiB` : `${Math.round(n / 102.4) / 10} KiB`;
}

function isLoopback(host: string): boolean {
	return host === "localhost" || host === "[::1]" || host === "::1" || host.startsWith("127.");
}
