/**
 * Viewer URL → console target: which console path can show what OVH's viewer URL serves.
 *
 * OVH's `kvmipHtml5URL` value is a web page on (or in front of) the BMC. The console drivers
 * recognise their own kinds (`ConsoleDriver.viewer`: a Supermicro ATEN viewer, a noVNC page or
 * ws(s) URL, an AMI MegaRAC HTML5 KVM); this module asks them in rank order.
 *
 * Decision: the URL alone decides whenever it is conclusive, and then the page is NOT fetched.
 * An AMI viewer URL carries a session token that the AMI console path must present itself (it reads
 * the page's Set-Cookie and CSRF token); a fetch made only to look would start or spend that session.
 * Only a URL that names neither kind is fetched, once, without following redirects, and its status,
 * Location, cookies and body decide (`targetFromViewerPage`). Pure functions; the fetch is the caller's.
 */

import { DRIVERS } from "../../console/drivers.ts";
import type { ConsoleTarget } from "../../console/types.ts";
import type { ViewerPage, ViewerSniffer } from "../../console/viewer.ts";

export type { ViewerPage };

/** Query parameters (lower case) whose values are session secrets. */
export const VIEWER_SECRET_PARAMS = ["token", "qsessionid", "session", "sessionid", "password", "garc", "sid"] as const;

/** The console kinds that recognise viewer links, most specific first. */
function sniffers(): ViewerSniffer[] {
	return DRIVERS.flatMap((d) => (d.viewer ? [d.viewer] : [])).sort((a, b) => a.rank - b.rank);
}

/** The target when the URL alone says what serves it; null when the page must be looked at. */
export function targetFromViewerUrl(viewerUrl: string): ConsoleTarget | null {
	const url = parse(viewerUrl);
	for (const sniffer of sniffers()) {
		const target = sniffer.fromUrl(url, viewerUrl);
		if (target) return target;
	}
	return null;
}

/** The target judged from the served page; null when no console kind recognises it. */
export function targetFromViewerPage(viewerUrl: string, page: ViewerPage): ConsoleTarget | null {
	const url = parse(viewerUrl);
	for (const sniffer of sniffers()) {
		const target = sniffer.fromPage(url, page, viewerUrl);
		if (target) return target;
	}
	return null;
}

function parse(viewerUrl: string): URL {
	return new URL(viewerUrl);
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
