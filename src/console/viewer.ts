/**
 * Viewer links: a web page on (or in front of) a BMC that a provider hands out
 * (OVH's `kvmipHtml5URL`). Each console driver may recognise the links and pages
 * of its kind (`ConsoleDriver.viewer`); a provider asks the drivers in rank order
 * and hands the console to the first that recognises it, so a new kind extends the
 * sniffing in its own folder.
 */
import type { ConsoleTarget } from "./types.ts";

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

export interface ViewerSniffer {
	/**
	 * Order among drivers: lower first. More specific kinds go first (a Supermicro viewer is a
	 * noVNC page, so the ATEN sniffer must see it before the generic noVNC one).
	 */
	readonly rank: number;
	/** The target when the URL alone says it is this kind (no fetch needed), else null. `link` is the URL as given. */
	fromUrl(url: URL, link: string): ConsoleTarget | null;
	/** The target judged from the served page, else null. */
	fromPage(url: URL, page: ViewerPage, link: string): ConsoleTarget | null;
}

/** A query (or, as noVNC allows, hash) parameter, matched case-insensitively. */
export function viewerParam(url: URL, name: string): string | null {
	for (const [key, value] of url.searchParams) if (key.toLowerCase() === name) return value;
	const hash = url.hash.replace(/^#/, "");
	if (hash.includes("=")) {
		for (const [key, value] of new URLSearchParams(hash)) if (key.toLowerCase() === name) return value;
	}
	return null;
}
