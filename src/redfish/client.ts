/**
 * An HTTP client for one Redfish service (one BMC).
 *
 * One session per BMC, shared by every call: BMCs allow few sessions (often 4 to 16)
 * and a leaked one locks operators out until it times out. So the session is created
 * on first use (SessionService, `X-Auth-Token` + the session's `Location`), created
 * once more when the BMC answers 401 to a token it gave, DELETEd after `idleMs`
 * without calls and on `close()`. A BMC without a SessionService gets HTTP Basic.
 * A session-limit answer is an error for the operator, never retried.
 *
 * Every request has a time limit and the caller's cancellation; bodies are read with
 * a byte cap; the password, the token and the session path are registered as secrets.
 */
import type { CallContext } from "../call-context.ts";
import { abortReasonToError, IkvmError, type Stage } from "../errors.ts";
import { log } from "../log.ts";
import { readBodyWithin, readBytesWithin } from "../net/read-body.ts";
import { bunTlsOptions, learnPinnedCertificate, PinMismatchError, type TargetTls } from "../net/tls.ts";
import { registerSecret } from "../redact.ts";
import { seconds, sleep } from "../timing.ts";
import {
	faultLine,
	faultToError,
	hasMessage,
	isSessionLimit,
	parseErrorBody,
	parseRetryAfter,
	type RedfishFault,
	sessionLimitError,
} from "./errors.ts";

export type RedfishAuth = "auto" | "session" | "basic";

export interface RedfishConnection {
	/** Base URL of the BMC, e.g. https://10.0.0.7 (a path is ignored). */
	url: string;
	username: string;
	password: string;
	tls?: TargetTls;
	/** auto (default): a session, Basic when the BMC has no SessionService. */
	auth?: RedfishAuth;
}

export interface RedfishClientOptions {
	/** Limit of each request. Default 15 s. */
	requestTimeoutMs?: number;
	/** The session is DELETEd after this long without a call. Default 60 s. */
	idleMs?: number;
	/** Largest JSON body read. Default 4 MiB. */
	maxBodyBytes?: number;
	/** Longest total wait for a busy (429/503) BMC on idempotent requests. Default 30 s. */
	maxBusyWaitMs?: number;
}

export interface RedfishAnswer {
	status: number;
	headers: Headers;
	/** The parsed JSON body, or undefined (no body, not JSON, or read as bytes). */
	json: unknown;
	/** The body as bytes, when asked for. */
	bytes?: Uint8Array;
}

export interface RequestOptions {
	body?: unknown;
	/** What the request is for, in messages ("the system list"). */
	what: string;
	stage?: Stage;
	/** Read the body as bytes (images) with this cap, instead of JSON. */
	bytesMax?: number;
	/** Cap of a JSON body, when larger than the default (a base64 screenshot). */
	jsonMax?: number;
}

const DEFAULT_SESSIONS_PATH = "/redfish/v1/SessionService/Sessions";

const REACH_HINT = "Check that the BMC is reachable from this machine (management network, firewall, VPN).";

export class RedfishClient {
	readonly origin: string;
	readonly host: string;
	private readonly port: number;
	private readonly requestTimeoutMs: number;
	private readonly idleMs: number;
	private readonly maxBodyBytes: number;
	private readonly maxBusyWaitMs: number;
	private mode: "session" | "basic" | undefined;
	private token: string | undefined;
	private sessionPath: string | undefined;
	private loggingIn: Promise<void> | undefined;
	private idleTimer: ReturnType<typeof setTimeout> | undefined;
	private pinnedPem: string | undefined;
	private rootCache: Record<string, unknown> | undefined;
	/** Authenticated requests under way; the idle logout waits for them. */
	private inFlight = 0;
	/** Sessions created and deleted so far (diagnostics, tests). */
	readonly stats = { logins: 0, logouts: 0, requests: 0 };

	constructor(
		private readonly conn: RedfishConnection,
		options: RedfishClientOptions = {},
	) {
		let url: URL;
		try {
			url = new URL(conn.url);
		} catch {
			throw new IkvmError("BAD_INPUT", "The Redfish BMC URL is not a valid URL.", { stage: "redfish-connect" });
		}
		if (url.protocol !== "https:" && url.protocol !== "http:") {
			throw new IkvmError("BAD_INPUT", `The Redfish BMC URL must be https:// (got ${url.protocol}//).`, {
				stage: "redfish-connect",
			});
		}
		this.origin = url.origin;
		this.host = url.host;
		this.port = url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
		this.requestTimeoutMs = options.requestTimeoutMs ?? 15_000;
		this.idleMs = options.idleMs ?? 60_000;
		this.maxBodyBytes = options.maxBodyBytes ?? 4 * 1024 * 1024;
		this.maxBusyWaitMs = options.maxBusyWaitMs ?? 30_000;
		registerSecret(conn.password);
	}

	/** True while a Redfish session (not Basic) is held on the BMC. */
	get hasSession(): boolean {
		return this.token !== undefined;
	}

	get authMode(): "session" | "basic" | undefined {
		return this.mode;
	}

	/** The TLS options for other connections to this BMC (the OpenBMC KVM WebSocket), once known. */
	async tlsForConnections(ctx: CallContext): Promise<TargetTls | undefined> {
		await this.ensurePin(ctx);
		const tls = this.conn.tls;
		if (!tls) return undefined;
		return { ...tls, ca: tls.ca ?? this.pinnedPem };
	}

	/** The current auth header, for a WebSocket upgrade to the same BMC. */
	async authHeaders(ctx: CallContext): Promise<Record<string, string>> {
		await this.ensureAuth(ctx);
		return this.authHeader();
	}

	/** The service root (no authentication needed), cached. */
	async serviceRoot(ctx: CallContext): Promise<Record<string, unknown>> {
		if (this.rootCache) return this.rootCache;
		const answer = await this.raw("GET", "/redfish/v1/", {}, undefined, ctx, {
			what: "the service root",
			stage: "redfish-connect",
		});
		if (answer.status !== 200 || !isObject(answer.json)) {
			if (answer.status === 200) {
				throw new IkvmError(
					"PROTOCOL",
					`The BMC at ${this.host} answered /redfish/v1/ with something that is not Redfish JSON.`,
					{
						stage: "redfish-connect",
						hint: "Is this a Redfish BMC? Check the URL (scheme, host and port of the BMC's web interface).",
					},
				);
			}
			throw faultToError(this.host, "the service root", this.fault(answer), "redfish-connect");
		}
		this.rootCache = answer.json;
		return answer.json;
	}

	/** GET of a resource that must exist; its JSON object. */
	async get(
		path: string,
		ctx: CallContext,
		what: string,
		stage: Stage = "redfish-api",
	): Promise<Record<string, unknown>> {
		const answer = await this.request("GET", path, ctx, { what, stage });
		if (answer.status !== 200) throw faultToError(this.host, what, this.fault(answer), stage);
		if (!isObject(answer.json)) {
			throw new IkvmError("PROTOCOL", `The BMC at ${this.host} answered ${what} without a JSON object.`, { stage });
		}
		return answer.json;
	}

	/** An authenticated request; the answer whatever its status (after one re-login on 401). */
	async request(method: string, path: string, ctx: CallContext, options: RequestOptions): Promise<RedfishAnswer> {
		const stage = options.stage ?? "redfish-api";
		const idempotent = method === "GET" || method === "HEAD";
		let busyWaited = 0;
		for (let attempt = 0; ; attempt++) {
			let answer: RedfishAnswer;
			this.inFlight++;
			try {
				await this.ensureAuth(ctx);
				const usedToken = this.token;
				answer = await this.raw(method, path, this.authHeader(), options.body, ctx, options);
				if (answer.status === 401 && this.mode === "session" && usedToken !== undefined) {
					// The BMC forgot our session (timeout, reboot, someone deleted it): end it on our side, log in once more.
					log.debug("redfish session refused; logging in again", { bmc: this.host });
					if (this.token === usedToken) this.forgetSession(true);
					await this.ensureAuth(ctx);
					answer = await this.raw(method, path, this.authHeader(), options.body, ctx, options);
				}
			} finally {
				this.inFlight--;
				this.touch();
			}
			if ((answer.status === 429 || answer.status === 503) && idempotent && attempt < 2) {
				const fault = this.fault(answer);
				if (isSessionLimit(fault)) return answer;
				const waitMs = Math.min(10_000, (fault.retryAfterS ?? 1) * 1000);
				if (busyWaited + waitMs > this.maxBusyWaitMs) return answer;
				busyWaited += waitMs;
				ctx.progress(stage, `the BMC is busy; retrying ${options.what} in ${seconds(waitMs)} s`);
				await sleep(waitMs, ctx.signal, stage);
				continue;
			}
			return answer;
		}
	}

	/** The fault of a non-success answer, for errors.ts. */
	fault(answer: RedfishAnswer): RedfishFault {
		return {
			status: answer.status,
			messages: parseErrorBody(answer.json),
			retryAfterS: parseRetryAfter(answer.headers.get("retry-after")),
			allow: answer.headers.get("allow") ?? undefined,
		};
	}

	/** Ends the session on the BMC (DELETE). Never throws; the client may log in again later. */
	async close(): Promise<void> {
		if (this.idleTimer) clearTimeout(this.idleTimer);
		this.idleTimer = undefined;
		await this.loggingIn?.catch(() => {});
		await this.logout();
	}

	// -------------------------------------------------------------------------

	private authHeader(): Record<string, string> {
		if (this.mode === "session" && this.token) return { "X-Auth-Token": this.token };
		if (this.mode === "basic") {
			const basic = Buffer.from(`${this.conn.username}:${this.conn.password}`).toString("base64");
			registerSecret(basic);
			return { Authorization: `Basic ${basic}` };
		}
		return {};
	}

	private touch(): void {
		if (!this.token) return;
		if (this.idleTimer) clearTimeout(this.idleTimer);
		this.idleTimer = setTimeout(() => {
			this.idleTimer = undefined;
			if (this.inFlight > 0) return; // the last of them re-arms the timer
			log.debug("redfish session idle; logging out", { bmc: this.host });
			void this.logout();
		}, this.idleMs);
		this.idleTimer.unref?.();
	}

	private async ensureAuth(ctx: CallContext): Promise<void> {
		if (this.mode === "basic" || this.token) return;
		this.loggingIn ??= this.login(ctx).finally(() => {
			this.loggingIn = undefined;
		});
		await this.loggingIn;
	}

	private async login(ctx: CallContext): Promise<void> {
		const wanted = this.conn.auth ?? "auto";
		if (wanted === "basic") {
			this.mode = "basic";
			return;
		}
		const root = await this.serviceRoot(ctx);
		const links = isObject(root.Links) ? root.Links : {};
		const sessionsLink = isObject(links.Sessions) ? links.Sessions["@odata.id"] : undefined;
		const hasSessionService = sessionsLink !== undefined || root.SessionService !== undefined;
		if (!hasSessionService && wanted === "auto") {
			log.debug("redfish service root lists no SessionService; using Basic", { bmc: this.host });
			this.mode = "basic";
			return;
		}
		const path = typeof sessionsLink === "string" ? sessionsLink : DEFAULT_SESSIONS_PATH;
		ctx.progress("redfish-login", `logging in to ${this.host}`);
		const answer = await this.raw(
			"POST",
			path,
			{},
			{ UserName: this.conn.username, Password: this.conn.password },
			ctx,
			{ what: "the login", stage: "redfish-login" },
		);
		const token = answer.headers.get("x-auth-token");
		if (answer.status >= 200 && answer.status < 300 && token) {
			const fault = this.fault(answer);
			registerSecret(token);
			const location = answer.headers.get("location") ?? odataId(answer.json);
			this.token = token;
			this.sessionPath = location ? pathOf(location, this.origin) : undefined;
			registerSessionPath(this.sessionPath);
			this.mode = "session";
			this.stats.logins++;
			if (!this.sessionPath)
				log.warn("redfish login gave no session Location; it cannot be logged out", { bmc: this.host });
			if (hasMessage(fault, "PasswordChangeRequired")) {
				await this.logout();
				throw faultToError(this.host, "the login", { ...fault, status: 403 }, "redfish-login");
			}
			log.debug("redfish session created", { bmc: this.host });
			return;
		}
		const fault = this.fault(answer);
		if (isSessionLimit(fault)) throw sessionLimitError(this.host, fault, "redfish-login");
		if ((answer.status === 404 || answer.status === 405 || answer.status === 501) && wanted === "auto") {
			log.debug("redfish SessionService refused a login; using Basic", { bmc: this.host, status: answer.status });
			this.mode = "basic";
			return;
		}
		if (answer.status >= 200 && answer.status < 300) {
			throw new IkvmError("PROTOCOL", `The BMC at ${this.host} accepted the login but sent no X-Auth-Token.`, {
				stage: "redfish-login",
				hint: 'Set "auth": "basic" on this target to use HTTP Basic instead of a session.',
			});
		}
		if (answer.status === 401 || answer.status === 403) {
			throw new IkvmError(
				answer.status === 401 ? "AUTH_FAILED" : "ACCESS_DENIED",
				`The BMC at ${this.host} refused the login of user "${this.conn.username}": ${faultLine(fault)}.`,
				{
					stage: "redfish-login",
					hint: hasMessage(fault, "PasswordChangeRequired")
						? "This account must change its password first: log in to the BMC web UI once and set a new one."
						: "Check the username and password of this target (the environment variables its config names). Not retried: repeated failures can lock the account.",
				},
			);
		}
		throw faultToError(this.host, "the login", fault, "redfish-login");
	}

	/** Forgets the session; `deleteIt` also sends the DELETE in the background. */
	private forgetSession(deleteIt: boolean): void {
		const token = this.token;
		const path = this.sessionPath;
		this.token = undefined;
		this.sessionPath = undefined;
		if (deleteIt && token && path) void this.deleteSession(token, path);
	}

	private async logout(): Promise<void> {
		const token = this.token;
		const path = this.sessionPath;
		this.token = undefined;
		this.sessionPath = undefined;
		if (this.mode === "session") this.mode = undefined;
		if (!token || !path) return;
		await this.deleteSession(token, path);
	}

	private async deleteSession(token: string, path: string): Promise<void> {
		try {
			const controller = new AbortController();
			const answer = await this.raw(
				"DELETE",
				path,
				{ "X-Auth-Token": token },
				undefined,
				{ signal: controller.signal, progress: () => {} },
				{ what: "the logout", stage: "redfish-login" },
			);
			if (answer.status >= 200 && answer.status < 300) {
				this.stats.logouts++;
				log.debug("redfish session deleted", { bmc: this.host });
			} else if (answer.status === 401 || answer.status === 404) {
				// Already gone on the BMC (expired or deleted by someone else): nothing left to free.
				log.debug("redfish session was already gone", { bmc: this.host, status: answer.status });
			} else {
				log.warn("the BMC refused to delete our Redfish session", { bmc: this.host, status: answer.status });
			}
		} catch (error) {
			log.warn("could not delete the Redfish session; it stays until the BMC times it out", {
				bmc: this.host,
				error: (error as Error).message,
			});
		}
	}

	private async ensurePin(ctx: CallContext): Promise<void> {
		const tls = this.conn.tls;
		if (!tls?.fingerprint256 || tls.ca || tls.insecure || this.pinnedPem) return;
		try {
			this.pinnedPem = await learnPinnedCertificate(
				new URL(this.origin).hostname.replace(/^\[|\]$/g, ""),
				this.port,
				tls.fingerprint256,
				this.requestTimeoutMs,
				ctx.signal,
			);
		} catch (error) {
			if (ctx.signal.aborted) throw abortReasonToError(ctx.signal.reason, "redfish-connect");
			if (error instanceof IkvmError) throw error;
			if (error instanceof PinMismatchError) throw this.pinError(error);
			throw new IkvmError("CONNECTION", `Could not reach the BMC at ${this.host}: ${(error as Error).message}`, {
				stage: "redfish-connect",
				hint: REACH_HINT,
				retryable: true,
				cause: error,
			});
		}
	}

	private pinError(error: PinMismatchError): IkvmError {
		return new IkvmError(
			"CONNECTION",
			`The BMC at ${this.host} presented a certificate whose SHA-256 fingerprint ${error.presented} is not the pinned ${error.expected}.`,
			{
				stage: "redfish-connect",
				hint: "If the BMC's certificate was replaced on purpose, put the new fingerprint in tls.fingerprint256; otherwise something is intercepting the connection.",
			},
		);
	}

	/** One HTTP exchange: time limit, cancellation, TLS as configured, capped body. */
	private async raw(
		method: string,
		path: string,
		headers: Record<string, string>,
		body: unknown,
		ctx: CallContext,
		options: RequestOptions,
	): Promise<RedfishAnswer> {
		const stage = options.stage ?? "redfish-api";
		if (ctx.signal.aborted) throw abortReasonToError(ctx.signal.reason, stage);
		await this.ensurePin(ctx);
		const url = new URL(path, this.origin);
		if (url.origin !== this.origin) {
			throw new IkvmError("PROTOCOL", `The BMC at ${this.host} linked to another host (${url.host}); not followed.`, {
				stage,
			});
		}
		const timeout = AbortSignal.timeout(this.requestTimeoutMs);
		const signal = AbortSignal.any([ctx.signal, timeout]);
		this.stats.requests++;
		try {
			const response = await fetch(url, {
				method,
				headers: {
					Accept: options.bytesMax ? "*/*" : "application/json",
					"OData-Version": "4.0",
					...(body !== undefined ? { "Content-Type": "application/json" } : {}),
					...headers,
				},
				body: body === undefined ? undefined : JSON.stringify(body),
				redirect: "manual",
				signal,
				tls: bunTlsOptions(this.conn.tls, this.pinnedPem),
			});
			const ok = response.status >= 200 && response.status < 300;
			if (options.bytesMax && ok) {
				const bytes = await readBytesWithin(response, options.bytesMax);
				if (bytes === undefined) throw this.tooLarge(options.what, options.bytesMax, stage);
				return { status: response.status, headers: response.headers, json: undefined, bytes };
			}
			const max = options.jsonMax ?? this.maxBodyBytes;
			const text = await readBodyWithin(response, max);
			if (text === undefined) throw this.tooLarge(options.what, max, stage);
			return { status: response.status, headers: response.headers, json: parseJson(text) };
		} catch (error) {
			if (error instanceof IkvmError) throw error;
			if (ctx.signal.aborted) throw abortReasonToError(ctx.signal.reason, stage);
			if (timeout.aborted) {
				throw new IkvmError(
					"TIMEOUT",
					`The BMC at ${this.host} did not answer ${options.what} within ${seconds(this.requestTimeoutMs)} s.`,
					{ stage, hint: REACH_HINT, retryable: true },
				);
			}
			const message = error instanceof Error ? error.message : String(error);
			if (error instanceof PinMismatchError || /does not match the pinned/.test(message)) {
				const m = /fingerprint (\S+) does not match the pinned (\S+)/.exec(message);
				throw this.pinError(
					error instanceof PinMismatchError ? error : new PinMismatchError(m?.[2] ?? "?", m?.[1] ?? "?"),
				);
			}
			const code = (error as { code?: unknown }).code;
			if (typeof code === "string" && /CERT|SELF_SIGNED|UNABLE_TO|ALTNAME/.test(code)) {
				throw new IkvmError(
					"CONNECTION",
					`The BMC at ${this.host} presented a TLS certificate that is not trusted (${code}).`,
					{
						stage: "redfish-connect",
						hint: "BMCs usually have self-signed certificates: pin this one with tls.fingerprint256 (safest), give its CA as tls.ca, or set tls.insecure: true explicitly.",
						cause: error,
					},
				);
			}
			throw new IkvmError("CONNECTION", `Could not reach the BMC at ${this.host} (${options.what}): ${message}`, {
				stage,
				hint: REACH_HINT,
				retryable: true,
				cause: error,
			});
		}
	}

	private tooLarge(what: string, max: number, stage: Stage): IkvmError {
		return new IkvmError(
			"TOO_LARGE",
			`The BMC at ${this.host} answered ${what} with more than ${Math.round(max / 1024)} KiB.`,
			{
				stage,
			},
		);
	}
}

export function isObject(value: unknown): value is Record<string, unknown> {
	return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseJson(text: string): unknown {
	if (text.trim() === "") return undefined;
	try {
		return JSON.parse(text);
	} catch {
		return undefined;
	}
}

export function odataId(value: unknown): string | undefined {
	if (!isObject(value)) return undefined;
	const id = value["@odata.id"];
	return typeof id === "string" ? id : undefined;
}

/** The path of a Location that may be absolute or relative. */
function pathOf(location: string, origin: string): string {
	try {
		const url = new URL(location, origin);
		return url.pathname;
	} catch {
		return location;
	}
}

function registerSessionPath(path: string | undefined): void {
	if (!path) return;
	registerSecret(path);
	registerSecret(path.split("/").filter(Boolean).pop());
}
