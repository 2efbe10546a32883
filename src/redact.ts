/**
 * Redaction: secrets must never reach logs, errors or tool results.
 *
 * Two layers: exact values registered at start-up or when learned at run time
 * (API secrets, BMC passwords, session cookies, KVM tokens), and patterns for
 * secrets that appear inside URLs and headers before we know them.
 */

const secrets = new Set<string>();

/** Shorter values would redact ordinary words; such secrets are still covered by patterns. */
const MIN_SECRET_LENGTH = 4;

export function registerSecret(value: string | undefined | null): void {
	if (!value || value.length < MIN_SECRET_LENGTH) return;
	secrets.add(value);
	// Secrets also travel URL-encoded (query strings, form bodies).
	const encoded = encodeURIComponent(value);
	if (encoded !== value) secrets.add(encoded);
}

/** For tests only. */
export function clearSecretsForTest(): void {
	secrets.clear();
}

const PATTERNS: Array<[RegExp, string]> = [
	// token / session-ish query parameters in URLs
	[/([?&](?:token|session|sessionid|qsessionid|password|passwd|pwd|key|sig|signature)=)[^&#\s"'<>]+/gi, "$1[REDACTED]"],
	// cookies and CSRF headers
	[/(QSESSIONID=)[^;\s"',]+/gi, "$1[REDACTED]"],
	[/((?:X-CSRFTOKEN|CSRFToken|garc)["']?\s*[:=]\s*["']?)[^"'\s,;}]+/gi, "$1[REDACTED]"],
	// OVH signing headers
	[/((?:X-Ovh-Consumer|X-Ovh-Signature|X-Ovh-Application)["']?\s*[:=]\s*["']?)[^"'\s,;}]+/gi, "$1[REDACTED]"],
	[/(\$1\$)[0-9a-f]{40}/gi, "$1[REDACTED]"],
	// bearer tokens
	[/(Bearer\s+)[A-Za-z0-9._~+/=-]+/g, "$1[REDACTED]"],
	// credentials in URLs: scheme://user:pass@host
	[/(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:)[^@\s/]+@/gi, "$1[REDACTED]@"],
];

export function redact(text: string): string {
	let out = text;
	// Longest first, so a secret containing another is removed whole.
	const ordered = [...secrets].sort((a, b) => b.length - a.length);
	for (const secret of ordered) {
		if (out.includes(secret)) out = out.split(secret).join("[REDACTED]");
	}
	for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
	return out;
}
