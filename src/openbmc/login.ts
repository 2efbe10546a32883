/**
 * bmcweb's web session, as its own web UI (webui-vue) opens the KVM page with it.
 *
 * What bmcweb checks, from its source (openbmc/bmcweb):
 * - include/login_routes.hpp: `POST /login` with `{"data": [user, password]}` answers with two
 *   cookies, `XSRF-TOKEN=<csrf>` and the session (`SESSION=` in older releases, `BMCWEB-SESSION=`
 *   since include/cookies.hpp); a root-level `{"username","password"}` body gets `{"token"}` instead.
 * - include/authentication.hpp: a request is authenticated by `X-Auth-Token`, the session cookie
 *   (with `X-XSRF-TOKEN` on every method but GET), `Authorization: Token …` or Basic.
 * - http/websocket.hpp: on a WebSocket upgrade of a logged-in session the `Sec-WebSocket-Protocol`
 *   must equal the session's CSRF token (else 401), and is echoed back.
 * - include/kvm_websocket.hpp: `/kvm/0` needs the ConfigureComponents or ConfigureManager
 *   privilege, allows 4 sessions, and relays bytes to obmc-ikvm's RFB server on 127.0.0.1:5900.
 * So: log in, then open `/kvm/0` with the cookies and the CSRF token as the subprotocol.
 */

import type { TlsOptions } from "../console/types.ts";
import { abortReasonToError, IkvmError } from "../errors.ts";
import { tlsFor } from "../net/bmc-http.ts";
import { readBodyWithin } from "../net/read-body.ts";
import { registerSecret } from "../redact.ts";
import { seconds } from "../timing.ts";

export interface BmcwebSession {
	/** https://host[:port] */
	origin: string;
	/** The `Cookie` header value for this session (every cookie the login set). */
	cookie?: string;
	/** The CSRF token: the KVM WebSocket's subprotocol and `X-XSRF-TOKEN` on POSTs. */
	csrf?: string;
	/** A session token from a JSON login, sent as X-Auth-Token when there are no cookies. */
	token?: string;
}

interface RequestContext {
	signal: AbortSignal;
	timeoutMs: number;
}

const MAX_BODY = 256 * 1024;

async function request(
	url: URL,
	init: { method: string; headers: Record<string, string>; body?: string },
	tls: TlsOptions | undefined,
	ctx: RequestContext,
	what: string,
): Promise<{ status: number; headers: Headers; body: string }> {
	if (ctx.signal.aborted) throw abortReasonToError(ctx.signal.reason, "openbmc-login");
	const timeout = AbortSignal.timeout(ctx.timeoutMs);
	try {
		const response = await fetch(url, {
			...init,
			redirect: "manual",
			signal: AbortSignal.any([ctx.signal, timeout]),
			tls: tlsFor(tls),
		});
		const body = await readBodyWithin(response, MAX_BODY);
		if (body === undefined) {
			throw new IkvmError("PROTOCOL", `The BMC at ${url.host} answered ${what} with more than 256 KiB.`, {
				stage: "openbmc-login",
				hint: "Is this an OpenBMC (bmcweb) BMC? Something else may answer at this address.",
			});
		}
		return { status: response.status, headers: response.headers, body };
	} catch (error) {
		if (error instanceof IkvmError) throw error;
		if (ctx.signal.aborted) throw abortReasonToError(ctx.signal.reason, "openbmc-login");
		if (timeout.aborted) {
			throw new IkvmError(
				"TIMEOUT",
				`The BMC at ${url.host} did not answer ${what} within ${seconds(ctx.timeoutMs)}.`,
				{
					stage: "openbmc-login",
					hint: "Check that the BMC is reachable from this machine (firewall, VPN).",
					retryable: true,
				},
			);
		}
		const message = error instanceof Error ? error.message : String(error);
		if (/certificate|self[- ]signed|verify/i.test(message)) {
			throw new IkvmError("CONNECTION", `The BMC at ${url.host} presented a TLS certificate that is not trusted.`, {
				stage: "openbmc-login",
				hint: 'BMCs usually have self-signed certificates; set "tls": {"insecure": true} on this target (this BMC only).',
				cause: error,
			});
		}
		throw new IkvmError("CONNECTION", `Could not reach the BMC at ${url.host} (${what}): ${message}`, {
			stage: "openbmc-login",
			hint: "Check the URL and that the BMC is reachable from this machine.",
			retryable: true,
			cause: error,
		});
	}
}

/** Name=value pairs of every cookie set (not the emptied ones), in a `Cookie` header's form. */
function cookiesFrom(headers: Headers): { cookie?: string; csrf?: string } {
	const pairs: string[] = [];
	let csrf: string | undefined;
	for (const line of headers.getSetCookie()) {
		const m = /^\s*([^=;\s]+)=([^;]*)/.exec(line);
		if (!m?.[2]) continue;
		pairs.push(`${m[1]}=${m[2]}`);
		if (m[1] === "XSRF-TOKEN") csrf = m[2];
	}
	return { cookie: pairs.length ? pairs.join("; ") : undefined, csrf };
}

/** Logs in to bmcweb; the session's tokens are registered as secrets. */
export async function bmcwebLogin(
	baseUrl: string,
	username: string,
	password: string,
	tls: TlsOptions | undefined,
	ctx: RequestContext,
): Promise<BmcwebSession> {
	registerSecret(password);
	const base = new URL(baseUrl);
	const response = await request(
		new URL("/login", base),
		{
			method: "POST",
			headers: { "Content-Type": "application/json" },
			body: JSON.stringify({ data: [username, password] }),
		},
		tls,
		ctx,
		"the login",
	);
	if (response.status === 401 || response.status === 403) {
		throw new IkvmError("AUTH_FAILED", `The BMC at ${base.host} refused the login of "${username}".`, {
			stage: "openbmc-login",
			hint: "Check the user name and password; the KVM also needs the Operator or Administrator role.",
		});
	}
	if (response.status !== 200) {
		throw new IkvmError("PROTOCOL", `The BMC at ${base.host} answered the login with HTTP ${response.status}.`, {
			stage: "openbmc-login",
			hint: "Is this an OpenBMC (bmcweb) BMC? Its login is POST /login.",
		});
	}
	const { cookie, csrf } = cookiesFrom(response.headers);
	let token: string | undefined;
	try {
		const json = JSON.parse(response.body) as { token?: unknown };
		if (typeof json.token === "string" && json.token) token = json.token;
	} catch {
		// cookie logins answer with a status message; only the cookies matter
	}
	if (!cookie && !token) {
		throw new IkvmError("PROTOCOL", `The BMC at ${base.host} accepted the login but set no session.`, {
			stage: "openbmc-login",
			hint: "Is this an OpenBMC (bmcweb) BMC? Its login answers with session cookies.",
		});
	}
	for (const secret of [cookie, csrf, token]) registerSecret(secret);
	for (const part of cookie?.split("; ") ?? []) registerSecret(part.split("=").slice(1).join("="));
	return { origin: base.origin, cookie, csrf, token };
}

/** Headers that authenticate a request (and the WebSocket upgrade) as this session. */
export function sessionHeaders(session: BmcwebSession): Record<string, string> {
	if (session.cookie) return { Cookie: session.cookie };
	return session.token ? { "X-Auth-Token": session.token } : {};
}

/** Ends the web session; false when the BMC did not confirm (it then times the session out). Never throws. */
export async function bmcwebLogout(
	session: BmcwebSession,
	tls: TlsOptions | undefined,
	timeoutMs: number,
): Promise<boolean> {
	try {
		const headers: Record<string, string> = { ...sessionHeaders(session), "Content-Type": "application/json" };
		if (session.csrf) headers["X-XSRF-TOKEN"] = session.csrf;
		const response = await request(
			new URL("/logout", session.origin),
			{ method: "POST", headers, body: "{}" },
			tls,
			{ signal: AbortSignal.timeout(timeoutMs), timeoutMs },
			"the logout",
		);
		return response.status === 200;
	} catch {
		return false;
	}
}
