/**
 * BMC web sessions on AMI/ASRockRack MegaRAC firmware, and the one-time KVM token.
 *
 * Two ways in:
 * - a viewer URL (`https://<bmc>/...?token=...`, what OVH hands out): the page
 *   carries the `QSESSIONID` session and the `garc` CSRF token;
 * - a direct login (`POST /api/session` with username/password), ended with
 *   `DELETE /api/session` when the console closes.
 * Then `/api/kvm/token` (GET, POST on 405) gives `{client_ip, token, session}`.
 *
 * TLS: BMCs use self-signed certificates. A target with `tls.insecure` skips
 * certificate verification for the requests to that BMC only (Bun's per-request
 * `tls` option); nothing global such as NODE_TLS_REJECT_UNAUTHORIZED is touched.
 */
import { z } from "zod";
import type { TlsOptions } from "../console/types.ts";
import { abortReasonToError, IkvmError } from "../errors.ts";
import { log } from "../log.ts";
import { type BmcRequestContext, type BmcResponse, bmcRequest } from "../net/bmc-http.ts";

export type { BmcRequestContext };

import { registerSecret } from "../redact.ts";
import type { BmcSession, KvmToken } from "./types.ts";

// ---------------------------------------------------------------------------
// Parsing what the BMC sends

/** The QSESSIONID from Set-Cookie headers; an emptied cookie (a logout) does not count. */
export function sessionCookieFrom(headers: Headers): string | undefined {
	for (const line of headers.getSetCookie()) {
		const match = /(?:^|;\s*)QSESSIONID=([^;\s]*)/i.exec(line);
		if (match?.[1]) return match[1];
	}
	return undefined;
}

/** The QSESSIONID set by inline script, e.g. `document.cookie = "QSESSIONID=...";`. */
export function sessionCookieFromHtml(html: string): string | undefined {
	const match =
		/QSESSIONID\s*=\s*["']?([A-Za-z0-9._~+/-]{4,})/i.exec(html) ??
		/QSESSIONID["']\s*[:,]\s*["']([^"']{4,})["']/i.exec(html);
	return match?.[1];
}

/** The `garc` CSRF token from inline script, in the forms AMI viewer pages use. */
export function csrfTokenFromHtml(html: string): string | undefined {
	const patterns = [
		/setItem\(\s*["']garc["']\s*,\s*["']([^"']+)["']\s*\)/,
		/["']garc["']\s*,\s*["']([^"']+)["']/,
		/\bgarc["']?\s*[:=]\s*["']([^"']+)["']/,
	];
	for (const pattern of patterns) {
		const match = pattern.exec(html);
		if (match?.[1]) return match[1];
	}
	return undefined;
}

function looksLikeHtml(response: BmcResponse): boolean {
	const type = response.headers.get("content-type") ?? "";
	return /html/i.test(type) || /^\s*</.test(response.body);
}

function parseJson(response: BmcResponse, what: string, host: string): unknown {
	if (looksLikeHtml(response)) throw unexpectedHtml(what, host);
	try {
		return JSON.parse(response.body);
	} catch {
		throw new IkvmError("PROTOCOL", `The BMC at ${host} answered ${what} with something that is not JSON.`, {
			stage: "bmc-login",
			hint: "Is this an AMI/ASRockRack MegaRAC BMC? Something else may answer at this address.",
		});
	}
}

function unexpectedHtml(what: string, host: string): IkvmError {
	return new IkvmError(
		"PROTOCOL",
		`The BMC at ${host} answered ${what} with an unexpected HTML page instead of its API.`,
		{
			stage: "bmc-login",
			hint: "Is this an AMI/ASRockRack MegaRAC BMC with the HTML5 KVM? A proxy, captive portal or other firmware may be answering.",
		},
	);
}

function busy(host: string, what: string, status: number): IkvmError {
	return new IkvmError(
		"BUSY",
		`The BMC at ${host} is busy and refused ${what} (HTTP ${status}): too many sessions are open.`,
		{
			stage: "bmc-login",
			hint: "Log out of other BMC web or KVM sessions, or wait a few minutes for them to time out, then try again.",
			retryable: true,
		},
	);
}

function mentionsSessionLimit(body: string): boolean {
	return /max(imum)?[\s_-]*(number\s+of\s+)?(sessions?|users?)|too many sessions|session limit/i.test(body);
}

// ---------------------------------------------------------------------------
// Viewer URL

function parseBmcUrl(raw: string, what: string): URL {
	let url: URL;
	try {
		url = new URL(raw);
	} catch {
		throw new IkvmError("BAD_INPUT", `The ${what} is not a valid URL.`, { stage: "bmc-login" });
	}
	if (url.protocol !== "https:" && url.protocol !== "http:") {
		throw new IkvmError("BAD_INPUT", `The ${what} must be an https:// URL, not ${url.protocol}//.`, {
			stage: "bmc-login",
		});
	}
	return url;
}

/** Opens the BMC session behind a viewer URL: session cookie and CSRF token, then the viewer page. */
export async function loginWithViewerUrl(
	viewerUrl: string,
	tls: TlsOptions | undefined,
	ctx: BmcRequestContext,
): Promise<BmcSession> {
	const url = parseBmcUrl(viewerUrl, "viewer URL");
	for (const [name, value] of url.searchParams) {
		if (/token|session|sid|key|auth/i.test(name)) registerSecret(value);
	}
	const page = await bmcRequest(url, {}, tls, ctx, "the viewer URL");
	if (page.status === 401 || page.status === 403 || page.status === 404 || page.status === 410) {
		throw expiredViewer(url.host, `HTTP ${page.status}`);
	}
	if (page.status === 429 || page.status === 503) throw busy(url.host, "the viewer URL", page.status);
	if (page.status >= 400) {
		throw new IkvmError("UPSTREAM", `The BMC at ${url.host} answered the viewer URL with HTTP ${page.status}.`, {
			stage: "bmc-login",
			retryable: page.status >= 500,
		});
	}
	const setCookie = sessionCookieFrom(page.headers);
	const location = page.headers.get("location") ?? "";
	// MegaRAC sends a stale link back to its login page without a session.
	if (!setCookie && page.status >= 300 && page.status < 400 && /login/i.test(location)) {
		throw expiredViewer(url.host, "redirected to the login page");
	}
	const cookie = setCookie ?? url.searchParams.get("token") ?? sessionCookieFromHtml(page.body);
	if (!cookie) {
		if (page.status >= 300 && page.status < 400) throw expiredViewer(url.host, "a redirect without a session");
		if (mentionsSessionLimit(page.body)) throw busy(url.host, "the viewer URL", page.status);
		throw new IkvmError(
			"PROTOCOL",
			`The viewer URL led to an unexpected HTML page on ${url.host}: no KVM session (QSESSIONID) in it.`,
			{
				stage: "bmc-login",
				hint: "Expected an AMI/ASRockRack HTML5 KVM viewer link. If it is another vendor's console, it is not supported on this path.",
			},
		);
	}
	registerSecret(cookie);
	const csrfToken = csrfTokenFromHtml(page.body);
	registerSecret(csrfToken);
	if (!csrfToken) log.debug("viewer page has no garc CSRF token; continuing without", { bmc: url.host });
	const session: BmcSession = { origin: url.origin, host: url.host, cookie, csrfToken, kind: "viewer", tls };
	await activateViewer(session, ctx);
	return session;
}

function expiredViewer(host: string, what: string): IkvmError {
	return new IkvmError(
		"AUTH_FAILED",
		`The BMC at ${host} refused the viewer URL (${what}): it has expired or was already used.`,
		{
			stage: "bmc-login",
			hint: "Viewer URLs are valid for a few minutes; request a fresh one (on OVH: a new IPMI console access).",
			retryable: true,
		},
	);
}

/** `GET /viewer.html` as a browser would; some firmwares need it to activate the session, so failure is not fatal. */
async function activateViewer(session: BmcSession, ctx: BmcRequestContext): Promise<void> {
	try {
		await bmcRequest(
			new URL("/viewer.html", session.origin),
			{ headers: cookieHeaders(session) },
			session.tls,
			ctx,
			"/viewer.html",
		);
	} catch (error) {
		if (ctx.signal.aborted) throw abortReasonToError(ctx.signal.reason, "bmc-login");
		log.debug("GET /viewer.html failed; continuing", { bmc: session.host, error: (error as Error).message });
	}
}

function cookieHeaders(session: BmcSession): Record<string, string> {
	const headers: Record<string, string> = { Cookie: `QSESSIONID=${session.cookie}` };
	if (session.csrfToken) headers["X-CSRFTOKEN"] = session.csrfToken;
	return headers;
}

// ---------------------------------------------------------------------------
// Direct login

const loginAnswer = z.looseObject({ CSRFToken: z.string().optional() });

/** `POST /api/session` with username and password (MegaRAC firmware without OVH). */
export async function loginWithPassword(
	baseUrl: string,
	username: string,
	password: string,
	tls: TlsOptions | undefined,
	ctx: BmcRequestContext,
): Promise<BmcSession> {
	const base = parseBmcUrl(baseUrl, "BMC URL");
	registerSecret(password);
	const url = new URL("/api/session", base.origin);
	const answer = await bmcRequest(
		url,
		{
			method: "POST",
			headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
			body: new URLSearchParams({ username, password }).toString(),
		},
		tls,
		ctx,
		"the login request",
	);
	if (answer.status === 401 || answer.status === 403) {
		if (mentionsSessionLimit(answer.body)) throw busy(base.host, "the login", answer.status);
		throw new IkvmError(
			"AUTH_FAILED",
			`The BMC at ${base.host} refused the login of user "${username}": wrong username or password.`,
			{
				stage: "bmc-login",
				hint: "Check the BMC username and password of this target (the environment variables its config names). Repeated failures may lock the account.",
			},
		);
	}
	if (answer.status === 429 || answer.status === 503 || (answer.status >= 400 && mentionsSessionLimit(answer.body))) {
		throw busy(base.host, "the login", answer.status);
	}
	if (answer.status === 404 || answer.status === 405) {
		throw new IkvmError("NOT_SUPPORTED", `The BMC at ${base.host} has no /api/session login (HTTP ${answer.status}).`, {
			stage: "bmc-login",
			hint: "Direct login works on AMI MegaRAC firmware with the HTML5 web UI; older or other firmwares are not supported.",
		});
	}
	if (answer.status !== 200) {
		throw new IkvmError("UPSTREAM", `The BMC at ${base.host} answered the login with HTTP ${answer.status}.`, {
			stage: "bmc-login",
			retryable: answer.status >= 500,
		});
	}
	const parsed = loginAnswer.safeParse(parseJson(answer, "the login request", base.host));
	const cookie = sessionCookieFrom(answer.headers);
	if (!parsed.success || !cookie) {
		throw new IkvmError("PROTOCOL", `The BMC at ${base.host} accepted the login but sent no session cookie.`, {
			stage: "bmc-login",
			hint: "Is this an AMI/ASRockRack MegaRAC BMC? Its login answers with a QSESSIONID cookie.",
		});
	}
	registerSecret(cookie);
	const csrfToken = parsed.data.CSRFToken || undefined;
	registerSecret(csrfToken);
	return { origin: base.origin, host: base.host, cookie, csrfToken, kind: "login", tls };
}

/** `DELETE /api/session`: ends a direct login so it does not count against the BMC's session limit. Never throws. */
export async function logout(session: BmcSession, timeoutMs: number): Promise<boolean> {
	try {
		const answer = await bmcRequest(
			new URL("/api/session", session.origin),
			{ method: "DELETE", headers: cookieHeaders(session) },
			session.tls,
			{ signal: new AbortController().signal, timeoutMs },
			"the logout request",
		);
		if (answer.status >= 400) log.warn("BMC logout refused", { bmc: session.host, status: answer.status });
		else log.debug("logged out of the BMC", { bmc: session.host });
		return answer.status < 400;
	} catch (error) {
		log.warn("BMC logout failed", { bmc: session.host, error: (error as Error).message });
		return false;
	}
}

// ---------------------------------------------------------------------------
// KVM token

const kvmTokenAnswer = z.looseObject({
	token: z.string().min(1),
	client_ip: z.string().optional(),
	session: z.union([z.string(), z.number()]).optional(),
});

/** `/api/kvm/token`: GET as the AMI viewer does, POST when the firmware answers 405. The token is one-time. */
export async function requestKvmToken(session: BmcSession, ctx: BmcRequestContext): Promise<KvmToken> {
	const url = new URL("/api/kvm/token", session.origin);
	const headers = { ...cookieHeaders(session), Accept: "application/json" };
	let answer = await bmcRequest(url, { headers }, session.tls, ctx, "the KVM token request");
	if (answer.status === 405) {
		answer = await bmcRequest(url, { method: "POST", headers }, session.tls, ctx, "the KVM token request");
	}
	if (answer.status === 401 || answer.status === 403) {
		if (mentionsSessionLimit(answer.body)) throw busy(session.host, "the KVM token request", answer.status);
		if (answer.status === 403 || /csrf/i.test(answer.body)) {
			throw new IkvmError(
				"AUTH_FAILED",
				`The BMC at ${session.host} refused the KVM token request (HTTP ${answer.status}): ${session.csrfToken ? "the CSRF token was not accepted" : "no CSRF token was found"}, or the account lacks KVM privilege.`,
				{
					stage: "bmc-login",
					hint: "Use an account with remote-console privilege; a fresh session is made on retry.",
					retryable: true,
				},
			);
		}
		if (session.kind === "viewer") throw expiredViewer(session.host, `KVM token refused with HTTP ${answer.status}`);
		throw new IkvmError(
			"AUTH_FAILED",
			`The BMC at ${session.host} refused a KVM token (HTTP ${answer.status}) right after login${session.csrfToken ? "" : " (it sent no CSRF token)"}.`,
			{ stage: "bmc-login", hint: "The account may lack the KVM (remote console) privilege.", retryable: true },
		);
	}
	if (answer.status === 429 || answer.status === 503 || (answer.status >= 400 && mentionsSessionLimit(answer.body))) {
		throw busy(session.host, "the KVM token request", answer.status);
	}
	if (answer.status >= 300 && answer.status < 400) {
		throw session.kind === "viewer"
			? expiredViewer(session.host, "KVM token request redirected to the login page")
			: new IkvmError(
					"AUTH_FAILED",
					`The BMC at ${session.host} redirected the KVM token request: the session was not accepted.`,
					{
						stage: "bmc-login",
						retryable: true,
					},
				);
	}
	if (answer.status !== 200) {
		throw new IkvmError(
			"UPSTREAM",
			`The BMC at ${session.host} answered the KVM token request with HTTP ${answer.status}.`,
			{
				stage: "bmc-login",
				retryable: answer.status >= 500,
			},
		);
	}
	const parsed = kvmTokenAnswer.safeParse(parseJson(answer, "the KVM token request", session.host));
	if (!parsed.success) {
		throw new IkvmError("PROTOCOL", `The BMC at ${session.host} answered the KVM token request without a token.`, {
			stage: "bmc-login",
			hint: "Is the HTML5 KVM enabled on this BMC?",
		});
	}
	const { token, client_ip: clientIp, session: kvmSession } = parsed.data;
	registerSecret(token);
	const sessionText = kvmSession === undefined ? undefined : String(kvmSession);
	registerSecret(sessionText);
	return { token, clientIp: clientIp ?? "", session: sessionText };
}
