/**
 * Viewer URL → console target: which console path can show what OVH's viewer URL serves.
 *
 * OVH's `kvmipHtml5URL` value is a web page on (or in front of) the BMC. Two kinds are known:
 * - an AMI/ASRockRack MegaRAC HTML5 KVM: `https://<bmc>/?token=<QSESSIONID>`, whose page sets the
 *   `QSESSIONID` cookie and a `garc` CSRF token and moves on to `/viewer.html` → the AMI console path;
 * - a noVNC page (`vnc.html`, `vnc_lite.html`, `?path=websockify…`) that speaks RFB over a
 *   websockify WebSocket → the VNC console path with that ws(s) URL.
 *
 * Decision: the URL alone decides whenever it is conclusive, and then the page is NOT fetched.
 * An AMI viewer URL carries a session token that the AMI console path must present itself (it reads
 * the page's Set-Cookie and CSRF token); a fetch made only to look would start or spend that session.
 * Only a URL that names neither kind is fetched, once, without following redirects, and its status,
 * Location, cookies and body decide (`targetFromViewerPage`). Pure functions; the fetch is the caller's.
 */

import type { AmiViewerTarget } from "../../ami/target.ts";
import { atenTargetFromViewer } from "../../aten/viewer.ts";
import type { ConsoleTarget } from "../../console/types.ts";
import type { VncTarget } from "../../vnc/target.ts";

/** Query parameters (lower case) whose values are session secrets. */
export const VIEWER_SECRET_PARAMS = ["token", "qsessionid", "session", "sessionid", "password", "garc"] as const;

const NOVNC_PAGE = /(^|\/)vnc(_lite|_auto)?\.html$/i;
const AMI_PAGE = /(^|\/)viewer\.html$/i;

/** What a fetch of the viewer page returned, bounded by the caller. */
export interface ViewerPage {
	status: number;
	/** Location header of a redirect, as sent. */
	location?: string | null;
	setCookie?: string | null;
	contentType?: string | null;
	/** The start of the body (the caller caps how much it reads). */
	body: string;
}

/** The target when the URL alone says what serves it; null when the page must be looked at. */
export function targetFromViewerUrl(viewerUrl: string): ConsoleTarget | null {
	const url = parse(viewerUrl);
	if (url.protocol === "ws:" || url.protocol === "wss:") return vncTarget(url.href, url.protocol === "wss:");
	if (isNoVncUrl(url)) return noVncTarget(url);
	const aten = atenTargetFromViewer(viewerUrl);
	if (aten) return aten;
	if (isAmiUrl(url)) return amiTarget(viewerUrl);
	return null;
}

/** The target judged from the served page; null when it is neither an AMI KVM nor noVNC. */
export function targetFromViewerPage(viewerUrl: string, page: ViewerPage): ConsoleTarget | null {
	const url = parse(viewerUrl);
	// A Supermicro HTML5 console (its SID cookie, CGI pages or entry_value): the ATEN path.
	const aten = atenTargetFromViewer(viewerUrl, page);
	if (aten) return aten;
	if (page.status >= 300 && page.status < 400 && page.location) {
		const next = new URL(page.location, url);
		if (isNoVncUrl(next)) return noVncTarget(next);
		// The AMI path must replay the original URL: it is the one that hands out the session.
		if (isAmiUrl(next)) return amiTarget(viewerUrl);
	}
	if (page.setCookie && /QSESSIONID=/i.test(page.setCookie)) return amiTarget(viewerUrl);
	const body = page.body;
	if (/QSESSIONID|["']garc["']|\bgarc\s*=|viewer\.html|\/api\/kvm\/|MegaRAC/i.test(body)) return amiTarget(viewerUrl);
	if (/noVNC|core\/rfb\.js|new\s+RFB\s*\(|websockify/i.test(body)) return noVncTarget(url);
	return null;
}

function parse(viewerUrl: string): URL {
	return new URL(viewerUrl);
}

function isNoVncUrl(url: URL): boolean {
	if (url.protocol !== "http:" && url.protocol !== "https:") return false;
	if (NOVNC_PAGE.test(url.pathname)) return true;
	const path = param(url, "path");
	return path !== null && /websockify/i.test(path);
}

function isAmiUrl(url: URL): boolean {
	if (url.protocol !== "http:" && url.protocol !== "https:") return false;
	if (AMI_PAGE.test(url.pathname)) return true;
	return param(url, "token") !== null || param(url, "qsessionid") !== null;
}

/** A query (or, as noVNC allows, hash) parameter, matched case-insensitively. */
function param(url: URL, name: string): string | null {
	for (const [key, value] of url.searchParams) if (key.toLowerCase() === name) return value;
	const hash = url.hash.replace(/^#/, "");
	if (hash.includes("=")) {
		for (const [key, value] of new URLSearchParams(hash)) if (key.toLowerCase() === name) return value;
	}
	return null;
}

function amiTarget(viewerUrl: string): AmiViewerTarget {
	return { kind: "ami-viewer", viewerUrl, tls: { insecure: true } };
}

/** noVNC's own defaults: the page's host and port, path "websockify", TLS when the page is https. */
function noVncTarget(page: URL): VncTarget {
	const secure = page.protocol === "https:";
	const encrypt = param(page, "encrypt");
	const tls = encrypt === null ? secure : /^(1|true|yes)$/i.test(encrypt);
	const host = param(page, "host") || page.hostname;
	const port = param(page, "port") || page.port;
	const path = (param(page, "path") ?? "websockify").replace(/^\/+/, "");
	const hostPart = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
	const url = `${tls ? "wss" : "ws"}://${hostPart}${port ? `:${port}` : ""}/${path}`;
	const target = vncTarget(url, tls);
	const password = param(page, "password");
	if (password) target.password = password;
	return target;
}

function vncTarget(url: string, tls: boolean): VncTarget {
	return tls ? { kind: "vnc", url, tls: { insecure: true } } : { kind: "vnc", url };
}

/** Values in a viewer URL that are secrets (session tokens, passwords), for the redaction layer. */
export function viewerSecrets(viewerUrl: string): string[] {
	const url = parse(viewerUrl);
	const out: string[] = [];
	const collect = (params: URLSearchParams) => {
		for (const [key, value] of params) {
			if ((VIEWER_SECRET_PARAMS as readonly string[]).includes(key.toLowerCase()) && value) out.push(value);
		}
	};
	collect(url.searchParams);
	if (url.hash.includes("=")) collect(new URLSearchParams(url.hash.replace(/^#/, "")));
	if (url.password) out.push(decodeURIComponent(url.password));
	return out;
}
