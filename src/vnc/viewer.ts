/**
 * VNC behind a viewer link: a ws(s) URL as it is, or a noVNC page (`vnc.html`,
 * `vnc_lite.html`, `?path=websockify…`) whose websockify WebSocket speaks RFB.
 */
import { type ViewerSniffer, viewerParam } from "../console/viewer.ts";
import type { VncTarget } from "./target.ts";

const NOVNC_PAGE = /(^|\/)vnc(_lite|_auto)?\.html$/i;

function isNoVncUrl(url: URL): boolean {
	if (url.protocol !== "http:" && url.protocol !== "https:") return false;
	if (NOVNC_PAGE.test(url.pathname)) return true;
	const path = viewerParam(url, "path");
	return path !== null && /websockify/i.test(path);
}

function vncTarget(url: string, tls: boolean): VncTarget {
	return tls ? { kind: "vnc", url, tls: { insecure: true } } : { kind: "vnc", url };
}

/** noVNC's own defaults: the page's host and port, path "websockify", TLS when the page is https. */
function noVncTarget(page: URL): VncTarget {
	const secure = page.protocol === "https:";
	const encrypt = viewerParam(page, "encrypt");
	const tls = encrypt === null ? secure : /^(1|true|yes)$/i.test(encrypt);
	const host = viewerParam(page, "host") || page.hostname;
	const port = viewerParam(page, "port") || page.port;
	const path = (viewerParam(page, "path") ?? "websockify").replace(/^\/+/, "");
	const hostPart = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
	const url = `${tls ? "wss" : "ws"}://${hostPart}${port ? `:${port}` : ""}/${path}`;
	const target = vncTarget(url, tls);
	const password = viewerParam(page, "password");
	if (password) target.password = password;
	return target;
}

export const vncViewer: ViewerSniffer = {
	rank: 20,
	fromUrl(url) {
		if (url.protocol === "ws:" || url.protocol === "wss:") return vncTarget(url.href, url.protocol === "wss:");
		return isNoVncUrl(url) ? noVncTarget(url) : null;
	},
	fromPage(url, page) {
		if (page.status >= 300 && page.status < 400 && page.location) {
			const next = new URL(page.location, url);
			if (isNoVncUrl(next)) return noVncTarget(next);
		}
		// An AMI page is never taken for noVNC, whatever scripts it mentions.
		if (page.setCookie && /QSESSIONID=/i.test(page.setCookie)) return null;
		if (/QSESSIONID|["']garc["']|\bgarc\s*=|MegaRAC/i.test(page.body)) return null;
		return /noVNC|core\/rfb\.js|new\s+RFB\s*\(|websockify/i.test(page.body) ? noVncTarget(url) : null;
	},
};
