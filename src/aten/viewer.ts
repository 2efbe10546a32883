/**
 * Recognising a Supermicro HTML5 console behind a viewer link (what a provider
 * such as OVH hands out): the link, or the page it serves, belongs to the ATEN
 * web UI when it is a `/cgi/...` page of it, sets the `SID` session cookie, or
 * carries the console's one-time `entry_value`. The hand-off target keeps only
 * the link's session (SID); every KVM connection fetches its own fresh token
 * with it, so the token a looked-at page held is never reused.
 * Pure functions; the fetch is the caller's.
 */
import type { ViewerSniffer } from "../console/viewer.ts";
import type { AtenViewerTarget } from "./types.ts";

/** What a fetch of the viewer link returned (the same fields the OVH provider reads). */
export interface AtenViewerPage {
	status: number;
	location?: string | null;
	setCookie?: string | null;
	contentType?: string | null;
	body: string;
}

const SUPERMICRO_PAGE =
	/entry_value|man_ikvm_html5|url_redirect\.cgi|ATEN iKVM|Supermicro|\/cgi\/login\.cgi|iKVM_HTML5|IKVM\.html/i;

function sidOf(setCookie: string | null | undefined): string | undefined {
	if (!setCookie) return undefined;
	for (const match of setCookie.matchAll(/(?:^|[;,]\s*)SID=([^;,\s]*)/g)) if (match[1]) return match[1];
	return undefined;
}

function sidParam(url: URL): string | undefined {
	for (const [key, value] of url.searchParams) if (key.toLowerCase() === "sid" && value) return value;
	return undefined;
}

function isAtenPath(url: URL): boolean {
	return /^\/cgi\/(url_redirect|login)\.cgi$/i.test(url.pathname) || /\.IKVM$/i.test(url.pathname);
}

/**
 * The Supermicro target of a viewer link, or null when it is not one (or when no
 * session can be taken from it). Without `page`, only a conclusive URL counts
 * (an ATEN CGI path carrying `SID` in its query).
 */
export function atenTargetFromViewer(viewerUrl: string, page?: AtenViewerPage): AtenViewerTarget | null {
	let url: URL;
	try {
		url = new URL(viewerUrl);
	} catch {
		return null;
	}
	if (url.protocol !== "https:" && url.protocol !== "http:") return null;
	const target = (sid: string): AtenViewerTarget => ({
		kind: "aten-viewer",
		origin: url.origin,
		sid,
		tls: { insecure: true },
	});
	const fromUrl = sidParam(url);
	if (!page) return fromUrl && isAtenPath(url) ? target(fromUrl) : null;
	const sid = sidOf(page.setCookie) ?? fromUrl;
	if (!sid) return null;
	const redirect = page.status >= 300 && page.status < 400 && page.location ? new URL(page.location, url) : undefined;
	const looksAten =
		isAtenPath(url) || (redirect !== undefined && isAtenPath(redirect)) || SUPERMICRO_PAGE.test(page.body);
	return looksAten ? target(sid) : null;
}

/** The ATEN sniffer for provider viewer links: before the generic noVNC one (the Supermicro viewer is noVNC-based). */
export const atenViewer: ViewerSniffer = {
	rank: 10,
	fromUrl: (_url, link) => atenTargetFromViewer(link),
	fromPage: (_url, page, link) => atenTargetFromViewer(link, page),
};
