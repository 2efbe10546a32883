/**
 * Redfish error bodies and what each HTTP status means for the caller.
 *
 * A Redfish error is `{"error": {"code", "message", "@Message.ExtendedInfo": [...]}}`,
 * but vendors trim it (only an ExtendedInfo MessageId, old iLO's `Messages[].MessageID`,
 * Dell's own ids under a generic code), so parsing is lenient: the first extended
 * message with its resolution, else `error.message`, else the status text.
 */
import { IkvmError, type Stage } from "../errors.ts";

export interface RedfishMessage {
	/** Full id as sent, e.g. "Base.1.12.NoValidSession" or "IDRAC.2.4.RAC0218". */
	id?: string;
	message?: string;
	resolution?: string;
}

export interface RedfishFault {
	status: number;
	messages: RedfishMessage[];
	/** Seconds to wait, from Retry-After, when given. */
	retryAfterS?: number;
	/** Methods the resource allows (405). */
	allow?: string;
}

function str(value: unknown): string | undefined {
	return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}

function messageOf(value: unknown): RedfishMessage | undefined {
	if (!value || typeof value !== "object") return undefined;
	const o = value as Record<string, unknown>;
	const m: RedfishMessage = {
		id: str(o.MessageId) ?? str(o.MessageID),
		message: str(o.Message),
		resolution: str(o.Resolution),
	};
	return m.id || m.message ? m : undefined;
}

/** The messages of an error body, most specific first; [] when it is not a Redfish error. */
export function parseErrorBody(body: unknown): RedfishMessage[] {
	if (!body || typeof body !== "object") return [];
	const root = body as Record<string, unknown>;
	const out: RedfishMessage[] = [];
	const error = root.error as Record<string, unknown> | undefined;
	const lists = [error?.["@Message.ExtendedInfo"], root["@Message.ExtendedInfo"], root.Messages];
	for (const list of lists) {
		if (!Array.isArray(list)) continue;
		for (const item of list) {
			const m = messageOf(item);
			if (m) out.push(m);
		}
	}
	if (error && typeof error === "object") {
		const code = str(error.code);
		const message = str(error.message);
		// The generic top-level code adds nothing when an extended message says more.
		if (code || message) {
			if (out.length === 0 || !out.some((m) => m.id === code)) out.push({ id: code, message });
		}
	}
	return out;
}

/** "Base.1.12.NoValidSession" → "NoValidSession"; "IDRAC.2.4.RAC0218" → "RAC0218". */
export function messageKey(id: string | undefined): string {
	if (!id) return "";
	const parts = id.split(".");
	return parts[parts.length - 1] ?? id;
}

/** True when any message carries one of these keys (registry and version ignored). */
export function hasMessage(fault: RedfishFault, ...keys: string[]): boolean {
	return fault.messages.some((m) => keys.includes(messageKey(m.id)));
}

/** One readable line: "MessageId: message (resolution)"; never a request body. */
export function faultLine(fault: RedfishFault): string {
	const first = fault.messages.find((m) => m.message) ?? fault.messages[0];
	if (!first) return `HTTP ${fault.status}`;
	// One line: a BMC's text must not start a new log line or carry control characters.
	const flat = (text: string) => text.replace(/[\s\p{Cc}]+/gu, " ").trim();
	const parts = [`HTTP ${fault.status}`];
	if (first.id) parts.push(flat(first.id));
	let line = parts.join(" ");
	if (first.message) line += `: ${flat(first.message)}`;
	if (first.resolution) line += ` (${flat(first.resolution)})`;
	return line.length > 400 ? `${line.slice(0, 397)}...` : line;
}

/** Seconds from a Retry-After header (seconds or an HTTP date); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
	if (!value) return undefined;
	if (/^\s*\d+\s*$/.test(value)) return Number(value);
	const at = Date.parse(value);
	return Number.isNaN(at) ? undefined : Math.max(0, Math.round((at - now) / 1000));
}

/** An iDRAC or bmcweb "too many sessions" answer. */
export function isSessionLimit(fault: RedfishFault): boolean {
	if (hasMessage(fault, "SessionLimitExceeded", "RAC0218")) return true;
	return fault.messages.some((m) =>
		/maximum number of (user )?sessions|session limit|too many sessions/i.test(m.message ?? ""),
	);
}

export function sessionLimitError(host: string, fault: RedfishFault, stage: Stage): IkvmError {
	return new IkvmError("BUSY", `The BMC at ${host} has no free session: ${faultLine(fault)}.`, {
		stage,
		hint:
			"The BMC allows only a few sessions. Log out of its web UI or other tools, or wait for idle sessions to " +
			"time out (SessionService.SessionTimeout), then try again. Nothing is retried automatically.",
	});
}

/** The typed error for a Redfish answer that is not a success, following the status table. */
export function faultToError(host: string, what: string, fault: RedfishFault, stage: Stage): IkvmError {
	const line = faultLine(fault);
	const at = `The BMC at ${host} refused ${what}: ${line}`;
	if (isSessionLimit(fault)) return sessionLimitError(host, fault, stage);
	switch (fault.status) {
		case 401:
			return new IkvmError("AUTH_FAILED", `${at}.`, {
				stage,
				hint: "Check the username and password of this target (the environment variables its config names). It is not retried: repeated failures can lock the account.",
			});
		case 403:
			if (hasMessage(fault, "PasswordChangeRequired")) {
				return new IkvmError("ACCESS_DENIED", `${at}.`, {
					stage,
					hint: "This BMC account must change its password first: log in to the BMC web UI once and set a new one.",
				});
			}
			return new IkvmError("ACCESS_DENIED", `${at}.`, {
				stage,
				hint: "The account lacks the privilege for this (e.g. ConfigureComponents for power, Virtual Console for screenshots). Use an account with that role.",
			});
		case 404:
		case 405:
		case 501:
			return new IkvmError("NOT_SUPPORTED", `${at}.`, {
				stage,
				hint: fault.allow ? `The resource allows: ${fault.allow}.` : "This BMC does not offer that resource.",
			});
		case 409:
			return new IkvmError("UPSTREAM", `${at}.`, {
				stage,
				hint: "The BMC says the request conflicts with the current state.",
			});
		case 429:
		case 503:
			return new IkvmError("BUSY", `${at}.`, {
				stage,
				hint: `The BMC is busy${fault.retryAfterS !== undefined ? ` and asks to retry in ${fault.retryAfterS} s` : ""}; try again shortly.`,
				retryable: true,
			});
		case 400:
			if (hasMessage(fault, "LicenseRequired") || /licen[cs]e/i.test(line)) {
				return new IkvmError("NOT_SUPPORTED", `${at}.`, {
					stage,
					hint: "This feature needs a BMC licence that is not installed (e.g. iDRAC Enterprise/Datacenter, Supermicro SFT-DCMS-SINGLE).",
				});
			}
			return new IkvmError("UPSTREAM", `${at}.`, { stage });
		default:
			return new IkvmError("UPSTREAM", `${at}.`, { stage, retryable: fault.status >= 500 });
	}
}
