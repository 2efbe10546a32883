/**
 * The web side of a Supermicro BMC: the login that yields the `SID` cookie the
 * KVM WebSocket needs, the one-time `entry_value` token of the HTML5 console
 * page (a fresh one for every KVM connection), the logout, the power state and
 * the CGI preview snapshot.
 *
 * Login is `POST /cgi/login.cgi` (`name`, `pwd`). A 200 alone proves nothing:
 * a bad password answers 200 with a page and no SID. Firmware that refuses the
 * CGI login (HTTP 400) offers a Redfish session instead. The token comes from
 * the console page `url_redirect.cgi?url_name=man_ikvm_html5_bootstrap`, or
 * from Redfish's `Oem/Supermicro/IKVM` → a `.IKVM` page (HTTP Basic).
 * A web logout kicks the KVM session, so callers log out only after closing it.
 */
import type { TlsOptions } from "../console/types.ts";
import { IkvmError } from "../errors.ts";
import { log } from "../log.ts";
import { registerSecret } from "../redact.ts";
import { type AtenRequestContext, type AtenResponse, atenRequest } from "./http.ts";

export interface AtenCredentials {
	readonly username: string;
	readonly password: string;
}

/** A logged-in BMC web session. */
export interface AtenWebSession {
	/** `https://host[:port]`. */
	readonly origin: string;
	readonly host: string;
	/** The `SID` cookie the KVM WebSocket is authenticated with. */
	readonly sid: string;
	/** How we got in, and so how we log out. */
	readonly via: "cgi" | "redfish";
	/** Redfish session (via = "redfish"): X-Auth-Token and the session's URL for the logout. */
	readonly redfishToken?: string;
	readonly redfishSession?: string;
	readonly tls?: TlsOptions;
}

const LOGIN_HINT =
	"Check the BMC username and password of this target (the environment variable its passwordEnv names). Repeated failures may lock the account.";

export function parseBmcOrigin(raw: string): URL {
	let url: URL;
	try {
		url = new URL(raw);
	} catch {
		throw new IkvmError("CONFIG_INVALID", "The Supermicro BMC URL is not a valid URL.", { stage: "aten-login" });
	}
	if (url.protocol !== "https:" && url.protocol !== "http:") {
		throw new IkvmError(
			"CONFIG_INVALID",
			`The Supermicro BMC URL must be https:// (or http:// on old firmware), not ${url.protocol}//.`,
			{
				stage: "aten-login",
			},
		);
	}
	return url;
}

/** The SID from Set-Cookie lines; some firmware first sends an emptied `SID=`, which does not count. */
export function sidFrom(headers: Headers): string | undefined {
	for (const line of headers.getSetCookie()) {
		const match = /(?:^|;\s*)SID=([^;\s]*)/.exec(line);
		if (match?.[1]) return match[1];
	}
	return undefined;
}

/** The `value` of the element whose id is `entry_value`, whatever the attribute order and quotes. */
export function entryValueFrom(html: string): string | undefined {
	const tags = html.match(/<input\b[^>]*>/gi) ?? [];
	for (const tag of tags) {
		if (!/\bid\s*=\s*(["']?)entry_value\1(?=[\s/>])/i.test(tag)) continue;
		const value = /\bvalue\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/i.exec(tag);
		const token = value?.[1] ?? value?.[2] ?? value?.[3];
		if (token) return token;
	}
	return undefined;
}

function mentionsSessionLimit(text: string): boolean {
	return /too many (users|sessions)|max(imum)?[\s_-]*(number\s+of\s+)?(sessions?|users?)|session limit/i.test(text);
}

function busy(host: string, what: string): IkvmError {
	return new IkvmError("BUSY", `The BMC at ${host} refused ${what}: too many web sessions are open.`, {
		stage: "aten-login",
		hint: "Log out of other BMC web or KVM sessions (or wait a few minutes for them to time out), then try again.",
		retryable: true,
	});
}

/** Logs in: CGI first, Redfish when the firmware refuses the CGI login. */
export async function atenLogin(
	baseUrl: string,
	credentials: AtenCredentials,
	tls: TlsOptions | undefined,
	ctx: AtenRequestContext,
): Promise<AtenWebSession> {
	const base = parseBmcOrigin(baseUrl);
	registerSecret(credentials.password);
	const answer = await atenRequest(
		new URL("/cgi/login.cgi", base.origin),
		{
			method: "POST",
			headers: { "Content-Type": "application/x-www-form-urlencoded" },
			body: new URLSearchParams({ name: credentials.username, pwd: credentials.password }).toString(),
		},
		tls,
		ctx,
		"the login request",
		"aten-login",
	);
	if (answer.status === 400 || answer.status === 404 || answer.status === 405) {
		log.debug("CGI login refused; trying a Redfish session", { bmc: base.host, status: answer.status });
		return redfishLogin(base, credentials, tls, ctx);
	}
	const text = answer.text();
	if (answer.status === 503 || answer.status === 429 || mentionsSessionLimit(text)) throw busy(base.host, "the login");
	if (answer.status >= 400) {
		throw new IkvmError("UPSTREAM", `The BMC at ${base.host} answered the login with HTTP ${answer.status}.`, {
			stage: "aten-login",
			retryable: answer.status >= 500,
		});
	}
	const sid = sidFrom(answer.headers);
	if (!sid) {
		throw new IkvmError(
			"AUTH_FAILED",
			`The BMC at ${base.host} refused the login of user "${credentials.username}": no session was opened (wrong username or password).`,
			{ stage: "aten-login", hint: LOGIN_HINT },
		);
	}
	registerSecret(sid);
	return { origin: base.origin, host: base.host, sid, via: "cgi", tls };
}

async function redfishLogin(
	base: URL,
	credentials: AtenCredentials,
	tls: TlsOptions | undefined,
	ctx: AtenRequestContext,
): Promise<AtenWebSession> {
	const answer = await atenRequest(
		new URL("/redfish/v1/SessionService/Sessions", base.origin),
		{
			method: "POST",
			headers: { "Content-Type": "application/json", Accept: "application/json" },
			body: JSON.stringify({ UserName: credentials.username, Password: credentials.password }),
		},
		tls,
		ctx,
		"the Redfish login",
		"aten-login",
	);
	if (answer.status === 401 || answer.status === 403) {
		throw new IkvmError(
			"AUTH_FAILED",
			`The BMC at ${base.host} refused the Redfish login of user "${credentials.username}" (HTTP ${answer.status}).`,
			{ stage: "aten-login", hint: LOGIN_HINT },
		);
	}
	if (answer.status === 503 || answer.status === 429 || mentionsSessionLimit(answer.text())) {
		throw busy(base.host, "the Redfish login");
	}
	const token = answer.headers.get("x-auth-token");
	if (answer.status >= 300 || !token) {
		throw new IkvmError(
			"NOT_SUPPORTED",
			`The BMC at ${base.host} refused both the CGI login and a Redfish session (HTTP ${answer.status}).`,
			{
				stage: "aten-login",
				hint: "Is this a Supermicro BMC? Its web interface answers on /cgi/login.cgi or Redfish.",
			},
		);
	}
	registerSecret(token);
	const location = answer.headers.get("location") ?? undefined;
	const sid = sidFrom(answer.headers) ?? "";
	registerSecret(sid);
	return {
		origin: base.origin,
		host: base.host,
		sid,
		via: "redfish",
		redfishToken: token,
		redfishSession: registered(location ? new URL(location, base.origin).pathname : undefined),
		tls,
	};
}

function cookieHeader(session: AtenWebSession): Record<string, string> {
	const headers: Record<string, string> = {};
	if (session.sid) headers.Cookie = `SID=${session.sid}`;
	if (session.redfishToken) headers["X-Auth-Token"] = session.redfishToken;
	return headers;
}

function basic(credentials: AtenCredentials): string {
	const encoded = Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64");
	registerSecret(encoded);
	return `Basic ${encoded}`;
}

/** What the console page fetch found: the token, and a SID when the page set one (Redfish-only firmware). */
export interface EntryToken {
	readonly token: string;
	readonly sid?: string;
}

function staleSession(host: string): IkvmError {
	return new IkvmError("AUTH_FAILED", `The BMC at ${host} no longer accepts this web session.`, {
		stage: "aten-token",
		hint: "The web session expired or was logged out elsewhere; a fresh login is made on retry.",
		retryable: true,
	});
}

export function isStaleSessionError(error: unknown): boolean {
	return (
		error instanceof IkvmError &&
		error.stage === "aten-token" &&
		error.code === "AUTH_FAILED" &&
		/no longer accepts/.test(error.message)
	);
}

/** A fresh one-time `entry_value` for one KVM connection: the CGI console page, else Redfish. */
export async function fetchEntryToken(
	session: AtenWebSession,
	credentials: AtenCredentials,
	ctx: AtenRequestContext,
): Promise<EntryToken> {
	if (session.via === "cgi") {
		const page = await atenRequest(
			new URL("/cgi/url_redirect.cgi?url_name=man_ikvm_html5_bootstrap", session.origin),
			{ headers: cookieHeader(session) },
			session.tls,
			ctx,
			"the HTML5 console page",
			"aten-token",
		);
		if (page.status === 401 || page.status === 403) throw staleSession(session.host);
		if (page.status >= 300 && page.status < 400) throw staleSession(session.host);
		const text = page.text();
		const token = page.status === 200 ? entryValueFrom(text) : undefined;
		if (token) {
			registerSecret(token);
			return { token };
		}
		if (page.status === 200 && /login\.cgi|name=["']?pwd/i.test(text)) throw staleSession(session.host);
		log.debug("no entry_value on the CGI console page; trying Redfish", { bmc: session.host, status: page.status });
	}
	return redfishEntryToken(session, credentials, ctx);
}

async function redfishEntryToken(
	session: AtenWebSession,
	credentials: AtenCredentials,
	ctx: AtenRequestContext,
): Promise<EntryToken> {
	const auth: Record<string, string> = session.redfishToken
		? { "X-Auth-Token": session.redfishToken }
		: { Authorization: basic(credentials) };
	const answer = await atenRequest(
		new URL("/redfish/v1/Managers/1/Oem/Supermicro/IKVM", session.origin),
		{ headers: { ...auth, Accept: "application/json" } },
		session.tls,
		ctx,
		"the Redfish iKVM request",
		"aten-token",
	);
	if (answer.status === 401 || answer.status === 403) {
		throw new IkvmError("AUTH_FAILED", `The BMC at ${session.host} refused the iKVM console (HTTP ${answer.status}).`, {
			stage: "aten-token",
			hint: "The account may lack the remote-console (KVM) privilege; on some firmware the HTML5 console needs a licence.",
		});
	}
	let uri: string | undefined;
	try {
		const parsed = JSON.parse(answer.text()) as { URI?: unknown };
		uri = typeof parsed.URI === "string" ? parsed.URI : undefined;
	} catch {
		uri = undefined;
	}
	if (answer.status !== 200 || !uri?.startsWith("/")) {
		throw new IkvmError(
			"NOT_SUPPORTED",
			`The BMC at ${session.host} gave no HTML5 console token: no entry_value on its console page and no Redfish iKVM link (HTTP ${answer.status}).`,
			{
				stage: "aten-token",
				hint: "Is the BMC in HTML5 console mode? Java-only firmware is not supported, and this tool never switches the mode itself (it is a persistent BMC setting).",
			},
		);
	}
	registerSecret(uri);
	const page = await atenRequest(
		new URL(uri, session.origin),
		{ headers: { ...auth, ...cookieHeader(session) } },
		session.tls,
		ctx,
		"the Redfish iKVM page",
		"aten-token",
	);
	const token = page.status === 200 ? entryValueFrom(page.text()) : undefined;
	if (!token) {
		throw new IkvmError("PROTOCOL", `The BMC at ${session.host} served an iKVM page without an entry_value token.`, {
			stage: "aten-token",
			hint: "Try again; if it persists, open the console once in the BMC web UI to check that it works.",
			retryable: true,
		});
	}
	registerSecret(token);
	const sid = sidFrom(page.headers);
	registerSecret(sid);
	return { token, sid };
}

/** Ends the web session (CGI logout or Redfish session DELETE). Never throws. */
export async function atenLogout(session: AtenWebSession, timeoutMs: number): Promise<boolean> {
	const ctx = { signal: new AbortController().signal, timeoutMs };
	try {
		let answer: AtenResponse;
		if (session.via === "redfish" && session.redfishSession) {
			answer = await atenRequest(
				new URL(session.redfishSession, session.origin),
				{ method: "DELETE", headers: cookieHeader(session) },
				session.tls,
				ctx,
				"the logout",
				"aten-login",
			);
		} else {
			answer = await atenRequest(
				new URL("/cgi/logout.cgi", session.origin),
				{ headers: cookieHeader(session) },
				session.tls,
				ctx,
				"the logout",
				"aten-login",
			);
		}
		if (answer.status >= 400) log.warn("BMC logout refused", { bmc: session.host, status: answer.status });
		else log.debug("logged out of the BMC", { bmc: session.host });
		return answer.status < 400;
	} catch (error) {
		log.warn("BMC logout failed", { bmc: session.host, error: (error as Error).message });
		return false;
	}
}

/**
 * The host's power state from the BMC's web interface (`ipmi.cgi` POWER_INFO.XML,
 * `<POWER STATUS="ON"/>`); undefined when the firmware does not say. Read-only.
 */
export async function atenPowerState(
	session: AtenWebSession,
	ctx: AtenRequestContext,
): Promise<"on" | "off" | undefined> {
	try {
		const answer = await atenRequest(
			new URL("/cgi/ipmi.cgi", session.origin),
			{
				method: "POST",
				headers: { ...cookieHeader(session), "Content-Type": "application/x-www-form-urlencoded" },
				body: `POWER_INFO.XML=${encodeURIComponent("(0,0)")}&time_stamp=${encodeURIComponent(new Date().toString())}`,
			},
			session.tls,
			ctx,
			"the power status request",
			"aten-video",
		);
		if (answer.status !== 200) return undefined;
		const match = /<POWER\b[^>]*\bSTATUS\s*=\s*["']?(ON|OFF)/i.exec(answer.text());
		return match?.[1] ? (match[1].toLowerCase() as "on" | "off") : undefined;
	} catch (error) {
		if (ctx.signal.aborted) throw error;
		return undefined;
	}
}

/** A session path is a secret too (it names the session): registered, then used. */
function registered(value: string | undefined): string | undefined {
	registerSecret(value);
	return value;
}
