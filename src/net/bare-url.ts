/** A URL for display: no credentials, no query string (consoles put one-time tickets there). */
export function bareUrl(url: string): string {
	try {
		const u = new URL(url);
		return `${u.protocol}//${u.host}${u.pathname === "/" ? "" : u.pathname}`;
	} catch {
		return "(invalid URL)";
	}
}

/** The host (and port) of a URL for messages, or "(invalid URL)". */
export function hostOf(url: string): string {
	try {
		return new URL(url).host;
	} catch {
		return "(invalid URL)";
	}
}
