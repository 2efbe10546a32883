/**
 * One web login per BMC and user, shared by everything that needs it (the KVM
 * session, power status, the preview) and held while any of them is open.
 * BMCs allow few web sessions, and a web logout kicks the KVM console, so the
 * logout happens only when the last holder lets go — after its KVM socket is
 * closed — and on shutdown, never in between.
 */
import type { TlsOptions } from "../console/types.ts";
import type { AtenRequestContext } from "./http.ts";
import { type AtenCredentials, type AtenWebSession, atenLogin, atenLogout } from "./web.ts";

export interface LoginLease {
	readonly session: AtenWebSession;
	/** This holder is done; the last one logs out (within `timeoutMs`). Safe to call twice. */
	release(timeoutMs: number): Promise<void>;
	/** The BMC stopped accepting the session: forget it (no logout; it is dead) so the next acquire logs in afresh. */
	invalidate(): void;
}

interface Entry {
	login: Promise<AtenWebSession>;
	holders: number;
	dead: boolean;
}

export class AtenLogins {
	private readonly entries = new Map<string, Entry>();

	/** Open web sessions (for tests and the doctor). */
	get size(): number {
		return this.entries.size;
	}

	/**
	 * Logs out of every web session still held, for a shutdown that did not close its
	 * consoles first; a holder's later release() then does nothing more. Never throws.
	 */
	async closeAll(timeoutMs: number): Promise<void> {
		const entries = [...this.entries.values()];
		this.entries.clear();
		await Promise.allSettled(
			entries.map(async (entry) => {
				entry.dead = true;
				const session = await entry.login;
				await atenLogout(session, timeoutMs);
			}),
		);
	}

	async acquire(
		url: string,
		credentials: AtenCredentials,
		tls: TlsOptions | undefined,
		ctx: AtenRequestContext,
	): Promise<LoginLease> {
		const key = `${new URL(url).origin}\u0000${credentials.username}`;
		let entry = this.entries.get(key);
		if (!entry) {
			const created: Entry = { login: atenLogin(url, credentials, tls, ctx), holders: 0, dead: false };
			entry = created;
			this.entries.set(key, created);
			created.login.catch(() => {
				if (this.entries.get(key) === created) this.entries.delete(key);
			});
		}
		entry.holders++;
		let session: AtenWebSession;
		try {
			session = await entry.login;
		} catch (error) {
			entry.holders--;
			throw error;
		}
		const held = entry;
		let released = false;
		return {
			session,
			invalidate: () => {
				held.dead = true;
				if (this.entries.get(key) === held) this.entries.delete(key);
			},
			release: async (timeoutMs) => {
				if (released) return;
				released = true;
				held.holders--;
				if (held.holders > 0) return;
				if (this.entries.get(key) === held) this.entries.delete(key);
				if (!held.dead) await atenLogout(session, timeoutMs);
			},
		};
	}
}

/** The process's logins: one per BMC and user. Sessions release theirs on close (the pool closes every session on shutdown). */
export const atenLogins = new AtenLogins();
