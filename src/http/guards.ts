/**
 * Request guards for /mcp: DNS-rebinding protection (Host and Origin) and
 * bearer-token authentication. Pure functions over a Request.
 */
import { timingSafeEqual } from "node:crypto";

const LOOPBACK_NAMES = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

export function isLoopbackHost(host: string): boolean {
	return LOOPBACK_NAMES.has(host.toLowerCase()) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function hostnameOf(hostHeader: string): string {
	try {
		return new URL(`http://${hostHeader}`).hostname.toLowerCase();
	} catch {
		return "";
	}
}

/**
 * A Host header as HTTP allows it: a name, IPv4 or bracketed IPv6, and an optional port. Anything
 * else (no Host at all, `a@b`, spaces) is refused before the URL is even built: `a@b` would parse
 * as user `a` at host `b` and so pass for `b`.
 */
export function wellFormedHost(header: string | null): boolean {
	if (!header || header.length > 255) return false;
	return /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::\d{1,5})?$/.test(header);
}

export interface GuardOptions {
	/** True when the server listens on a loopback address only. */
	loopbackOnly: boolean;
	/** Extra allowed origins, exact `scheme://host[:port]` strings. */
	allowedOrigins: string[];
	/** Extra allowed Host header names (a reverse proxy's public name). */
	allowedHosts: string[];
	authToken?: string;
}

export type GuardFailure = { status: 401 | 403; message: string };

/**
 * A browser page on another site may reach a loopback server through DNS
 * rebinding; such requests carry a foreign Host or Origin. Clients that are
 * not browsers send no Origin at all, which is fine.
 */
export function checkRebinding(req: Request, options: GuardOptions): GuardFailure | null {
	const origin = req.headers.get("origin");
	if (origin) {
		const verdict = judgeOrigin(origin, options);
		if (verdict !== true) return { status: 403, message: verdict };
	}
	if (options.loopbackOnly) {
		const host = hostnameOf(req.headers.get("host") ?? "");
		if (!isLoopbackHost(host) && !options.allowedHosts.includes(host)) {
			return { status: 403, message: `Forbidden: Host ${host || "(none)"} is not a loopback name.` };
		}
	}
	return null;
}

/** True for a localhost origin or one listed in MCP_ALLOWED_ORIGINS, else why it is refused. */
export function judgeOrigin(origin: string, options: GuardOptions): true | string {
	if (origin === "null") return "Forbidden: opaque Origin.";
	let originHost = "";
	try {
		originHost = new URL(origin).hostname;
	} catch {
		return "Forbidden: malformed Origin header.";
	}
	if (isLoopbackHost(originHost) || options.allowedOrigins.includes(origin.replace(/\/$/, ""))) return true;
	return `Forbidden: Origin ${origin} is not allowed. Add it to MCP_ALLOWED_ORIGINS if it is yours.`;
}

/**
 * Which role a request's bearer token grants: the view token (MCP_AUTH_TOKEN) the read tools, the
 * control token (IKVM_CONTROL_TOKEN) also the control tools. With no view token, a request without a
 * token is let in as before, and controls only when no control token is configured either.
 */
export function bearerRole(
	req: Request,
	viewToken: string | undefined,
	controlToken: string | undefined,
): { role: "view" | "control" } | GuardFailure {
	const match = /^Bearer\s+(.+)$/i.exec(req.headers.get("authorization") ?? "");
	const sent = match?.[1]?.trim();
	if (sent !== undefined && controlToken && constantTimeEqual(sent, controlToken)) return { role: "control" };
	if (sent !== undefined && viewToken && constantTimeEqual(sent, viewToken)) return { role: "view" };
	if (!viewToken) {
		if (sent !== undefined && controlToken) {
			return { status: 401, message: "Unauthorized: the bearer token is not IKVM_CONTROL_TOKEN." };
		}
		return { role: controlToken ? "view" : "control" };
	}
	return { status: 401, message: "Unauthorized: send Authorization: Bearer <MCP_AUTH_TOKEN>." };
}

export function constantTimeEqual(a: string, b: string): boolean {
	const ab = Buffer.from(a);
	const bb = Buffer.from(b);
	// Compare equal-length buffers so the time does not reveal the length match.
	const len = Math.max(ab.length, bb.length, 1);
	const pa = Buffer.alloc(len);
	const pb = Buffer.alloc(len);
	ab.copy(pa);
	bb.copy(pb);
	return timingSafeEqual(pa, pb) && ab.length === bb.length;
}
