/**
 * The audit trail of control calls: one JSON line per send_keys, mouse or power
 * call, appended to IKVM_AUDIT_LOG and flushed to disk before the tool answers,
 * and the same line in the server log. Lines name keys and chords; typed text is
 * only counted (`<N chars>`) and secrets only named (`<secret NAME>`).
 */
import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";
import { IkvmError } from "../errors.ts";
import { log } from "../log.ts";
import { redact } from "../redact.ts";

export type AuditOutcome = "delivered" | "refused" | "not-delivered" | "error";

export interface AuditEntry {
	readonly time: string;
	/** MCP session id (HTTP); null on stdio and in-memory transports. */
	readonly session: string | null;
	/** The MCP client's name from its initialize request. */
	readonly client: string | null;
	/** The peer address of the HTTP session; null on stdio. */
	readonly remote: string | null;
	readonly serverId: string;
	readonly tool: "send_keys" | "mouse" | "power";
	/** "type" for send_keys; the mouse or power action. */
	readonly action: string;
	/** send_keys: key names and chords, `<N chars>`, `<secret NAME>`; mouse: button and position. */
	readonly keys?: string;
	readonly outcome: AuditOutcome;
	/** Why, for every outcome but delivered (an error code and message, a refusal's reason). */
	readonly reason?: string;
	/** How a destructive act was confirmed: "elicitation" or "confirm". */
	readonly confirmedBy?: "elicitation" | "confirm";
}

const auditLog = log.child("audit");

export class AuditLog {
	private fd: number | undefined;

	/** Opens (creating) the file at start-up, so an unwritable path is a start-up error and not a lost record. */
	constructor(readonly path?: string) {
		if (!path) return;
		try {
			this.fd = openSync(path, "a", 0o600);
		} catch (error) {
			throw new IkvmError(
				"CONFIG_INVALID",
				`IKVM_AUDIT_LOG ${path} cannot be opened for appending (${(error as NodeJS.ErrnoException).code ?? String(error)}).`,
				{ hint: "Point IKVM_AUDIT_LOG at a writable file, or unset it." },
			);
		}
	}

	/** Appends and flushes one line, and logs it. Throws when the file cannot be written. */
	record(entry: Omit<AuditEntry, "time">): AuditEntry {
		const full: AuditEntry = {
			time: new Date().toISOString(),
			...entry,
			...(entry.reason === undefined ? {} : { reason: redact(entry.reason) }),
		};
		const line = redact(JSON.stringify(full));
		auditLog.info("control call", JSON.parse(line) as Record<string, unknown>);
		if (this.fd !== undefined) {
			try {
				writeSync(this.fd, `${line}\n`);
				fsyncSync(this.fd);
			} catch (error) {
				auditLog.error("could not write the audit log", { path: this.path, error: String(error) });
				throw new IkvmError("INTERNAL", "The audit log could not be written.", {
					hint: `Check ${this.path} (disk full, permissions); the call's outcome was ${full.outcome}.`,
				});
			}
		}
		return full;
	}

	close(): void {
		if (this.fd === undefined) return;
		try {
			closeSync(this.fd);
		} catch {
			// Already closed.
		}
		this.fd = undefined;
	}
}
