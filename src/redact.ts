/**
 * Redaction: secrets must never reach logs, errors or tool results.
 *
 * Two layers: exact values registered at start-up or when learned at run time
 * (API secrets, BMC passwords, session cookies, KVM tokens), and patterns for
 * secrets that appear inside URLs and headers before we know them.
 */

const secrets = new Set<string>();
/** Strings that are never secret (server ids and names): redaction leaves them whole. */
const publicValues = new Set<string>();

/** Shorter values would redact ordinary words; such secrets are still covered by patterns. */
const MIN_SECRET_LENGTH = 4;
/** A secret shorter than this is easy to guess and likely to occur in ordinary text. */
const GOOD_SECRET_LENGTH = 8;

/**
 * Factory defaults and words that occur on consoles: as a password they are guessable, and
 * since every occurrence of a secret is hidden, they also garble ordinary output ("login:").
 */
const COMMON_SECRETS = new Set([
	"admin",
	"administrator",
	"root",
	"toor",
	"password",
	"passw0rd",
	"passwd",
	"login",
	"user",
	"guest",
	"test",
	"default",
	"changeme",
	"secret",
	"welcome",
	"letmein",
	"qwerty",
	"calvin",
	"0penbmc",
	"openbmc",
	"superuser",
	"ubuntu",
	"debian",
	"server",
	"console",
	"ipmi",
	"vnc",
	"1234",
	"12345",
	"123456",
	"12345678",
]);

export function registerSecret(value: string | undefined | null): void {
	if (!value || value.length < MIN_SECRET_LENGTH) return;
	secrets.add(value);
	// Secrets also travel URL-encoded (query strings, form bodies).
	const encoded = encodeURIComponent(value);
	if (encoded !== value) secrets.add(encoded);
	// And escaped, as logs and JSON results write a value with quotes, backslashes or control characters.
	const escaped = JSON.stringify(value).slice(1, -1);
	if (escaped !== value) secrets.add(escaped);
}

/**
 * Why a configured secret is a poor one, for a start-up warning (never the value itself), or
 * undefined when it is fine.
 */
export function weakSecretReason(value: string): string | undefined {
	if (value.length < MIN_SECRET_LENGTH) {
		return `it is shorter than ${MIN_SECRET_LENGTH} characters, too short to be hidden from logs and tool output`;
	}
	if (COMMON_SECRETS.has(value.toLowerCase())) {
		return "it is a common word or factory default: easy to guess, and hiding it also hides that word wherever it appears in output";
	}
	if (value.length < GOOD_SECRET_LENGTH) {
		return `it is shorter than ${GOOD_SECRET_LENGTH} characters: easy to guess, and hiding it may garble ordinary output`;
	}
	return undefined;
}

/** Marks a server id or name as public: output keeps it whole even when it contains a secret. */
export function registerPublic(value: string | undefined | null): void {
	if (value) publicValues.add(value);
}

/** For tests only. */
export function clearSecretsForTest(): void {
	secrets.clear();
	publicValues.clear();
}

const PATTERNS: Array<[RegExp, string]> = [
	// token / session-ish query parameters in URLs
	[
		/([?&](?:token|session|sessionid|qsessionid|sid|password|passwd|pwd|key|sig|signature)=)[^&#\s"'<>]+/gi,
		"$1[REDACTED]",
	],
	// cookies and CSRF headers
	[/(QSESSIONID=)[^;\s"',]+/gi, "$1[REDACTED]"],
	// BMC session cookies and headers (Supermicro SID, bmcweb, Redfish) before their values are registered
	[/(\b(?:SID|BMCWEB-SESSION|SESSION|XSRF-TOKEN)=)[^;\s"',&]+/g, "$1[REDACTED]"],
	[/((?:X-Auth-Token|X-XSRF-TOKEN)["']?\s*[:=]\s*["']?)[^"'\s,;}]+/gi, "$1[REDACTED]"],
	[/((?:X-CSRFTOKEN|CSRFToken|garc)["']?\s*[:=]\s*["']?)[^"'\s,;}]+/gi, "$1[REDACTED]"],
	// OVH signing headers
	[/((?:X-Ovh-Consumer|X-Ovh-Signature|X-Ovh-Application)["']?\s*[:=]\s*["']?)[^"'\s,;}]+/gi, "$1[REDACTED]"],
	[/(\$1\$)[0-9a-f]{40}/gi, "$1[REDACTED]"],
	// bearer tokens
	[/(Bearer\s+)[A-Za-z0-9._~+/=-]+/g, "$1[REDACTED]"],
	// credentials in URLs: scheme://user:pass@host
	[/(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:)[^@\s/]+@/gi, "$1[REDACTED]@"],
];

/**
 * Removes every registered secret and every secret-shaped pattern from `text`. Public strings
 * (registered ids and names, and `keep`: the caller's own input) are left whole where they fully
 * contain a secret, so `vm-admin-pw` stays `vm-admin-pw` when the password is `admin`; a public
 * string that is itself a secret, or is part of one, protects nothing.
 */
export function redact(text: string, keep: readonly string[] = []): string {
	const ordered = [...secrets].filter((s) => text.includes(s)).sort((a, b) => b.length - a.length);
	const shields = protectedRanges(text, keep, ordered);
	if (shields.length === 0) return redactPlain(text, ordered);
	let out = "";
	let at = 0;
	for (const [from, to] of shields) {
		out += redactPlain(text.slice(at, from), ordered) + text.slice(from, to);
		at = to;
	}
	return out + redactPlain(text.slice(at), ordered);
}

function redactPlain(text: string, ordered: string[]): string {
	let out = text;
	// Longest first, so a secret containing another is removed whole.
	for (const secret of ordered) {
		if (out.includes(secret)) out = out.split(secret).join("[REDACTED]");
	}
	for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
	return out;
}

/**
 * Where public strings occur in `text`, merged and sorted, minus any that a secret occurrence
 * overlaps without lying wholly inside (cutting there would leave part of the secret visible).
 */
function protectedRanges(text: string, keep: readonly string[], present: string[]): Array<[number, number]> {
	if (present.length === 0) return [];
	const candidates = [...publicValues, ...keep].filter(
		(p) => p.length > 0 && text.includes(p) && !present.some((secret) => secret.includes(p)),
	);
	if (candidates.length === 0) return [];
	const ranges: Array<[number, number]> = [];
	for (const p of candidates) {
		for (let i = text.indexOf(p); i >= 0; i = text.indexOf(p, i + 1)) ranges.push([i, i + p.length]);
	}
	ranges.sort((a, b) => a[0] - b[0]);
	const merged: Array<[number, number]> = [];
	for (const r of ranges) {
		const last = merged.at(-1);
		if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
		else merged.push([r[0], r[1]]);
	}
	const secretRanges: Array<[number, number]> = [];
	for (const secret of present) {
		for (let i = text.indexOf(secret); i >= 0; i = text.indexOf(secret, i + 1))
			secretRanges.push([i, i + secret.length]);
	}
	return merged.filter(([from, to]) => !secretRanges.some(([s, e]) => s < to && e > from && (s < from || e > to)));
}
