/**
 * Opening a Supermicro console: the shared web login, a fresh one-time token,
 * the KVM WebSocket and the handshake — or, for a target with `preview`, the
 * CGI snapshot source. A failure on the way releases what was taken (the KVM
 * socket first, then the login), so nothing is left open on the BMC.
 */

import type { CallContext } from "../call-context.ts";
import type { ConsoleLimits, ConsoleSession } from "../console/types.ts";
import { IkvmError } from "../errors.ts";
import { hostOf } from "../net/bare-url.ts";
import { registerSecret } from "../redact.ts";
import { defaultAtenDecoderFactory } from "./decoder.ts";
import { type AtenLogins, atenLogins, type LoginLease } from "./logins.ts";
import { PreviewSession } from "./preview.ts";
import { AtenConsoleSession, type AtenSessionSettings, powerStateReader } from "./session.ts";
import {
	type AtenDecoderFactory,
	type AtenTarget,
	type AtenTimeouts,
	type AtenViewerTarget,
	DEFAULT_ATEN_TIMEOUTS,
} from "./types.ts";
import { type EntryToken, fetchEntryToken, isStaleSessionError } from "./web.ts";

export interface AtenOpenerOptions {
	timeouts?: Partial<AtenTimeouts>;
	decoder?: AtenDecoderFactory;
	keepAliveMs?: number;
	keyDelayMs?: number;
	maxPayloadBytes?: number;
	logins?: AtenLogins;
	/** Wait between the preview trigger and the snapshot download (the BMC needs about 3 s). */
	previewDelayMs?: number;
}

export type AtenOpener = (target: AtenTarget, ctx: CallContext, limits: ConsoleLimits) => Promise<ConsoleSession>;

export function createAtenOpener(options: AtenOpenerOptions = {}): AtenOpener {
	const timeouts: AtenTimeouts = { ...DEFAULT_ATEN_TIMEOUTS, ...options.timeouts };
	const settings: AtenSessionSettings = {
		timeouts,
		keepAliveMs: options.keepAliveMs ?? 3_000,
		keyDelayMs: options.keyDelayMs ?? 10,
		maxPayloadBytes: options.maxPayloadBytes ?? 32 * 1024 * 1024,
	};
	const decoderFactory = options.decoder ?? defaultAtenDecoderFactory;
	const logins = options.logins ?? atenLogins;
	return async (target, ctx, limits) => {
		if (target.kind === "aten-viewer") return openViewer(target, ctx, limits, settings, decoderFactory);
		if (target.kind !== "supermicro") {
			throw new IkvmError(
				"NOT_SUPPORTED",
				`The Supermicro console path cannot open a "${(target as { kind: string }).kind}" target.`,
			);
		}
		const request = { signal: ctx.signal, timeoutMs: timeouts.request };
		const credentials = { username: target.username, password: target.password };
		ctx.progress("aten-login", `Logging in to the BMC ${hostOf(target.url)} as ${target.username}`);
		let lease = await logins.acquire(target.url, credentials, target.tls, request);
		if (target.preview) {
			return new PreviewSession(lease, limits, { timeouts, delayMs: options.previewDelayMs ?? 3_000 });
		}
		let token: EntryToken;
		try {
			ctx.progress("aten-token", "Fetching a one-time console token (entry_value)");
			try {
				token = await fetchEntryToken(lease.session, credentials, request);
			} catch (error) {
				if (!isStaleSessionError(error)) throw error;
				// The BMC forgot the shared login (timed out, logged out elsewhere): once more with a fresh one.
				lease.invalidate();
				await lease.release(timeouts.close);
				lease = await logins.acquire(target.url, credentials, target.tls, request);
				token = await fetchEntryToken(lease.session, credentials, request);
			}
		} catch (error) {
			await lease.release(timeouts.close);
			throw error;
		}
		return connect(lease, token, ctx, limits, settings, decoderFactory);
	};
}

async function connect(
	lease: LoginLease,
	token: EntryToken,
	ctx: CallContext,
	limits: ConsoleLimits,
	settings: AtenSessionSettings,
	decoderFactory: AtenDecoderFactory,
): Promise<ConsoleSession> {
	const sid = token.sid || lease.session.sid;
	if (!sid) {
		await lease.release(settings.timeouts.close);
		throw new IkvmError(
			"NOT_SUPPORTED",
			`The BMC at ${lease.session.host} gave no SID cookie, which its KVM WebSocket needs.`,
			{
				stage: "aten-login",
				hint: "This firmware refused the CGI login and its Redfish session set no SID; the HTML5 console cannot be opened this way.",
			},
		);
	}
	const session = new AtenConsoleSession(
		{ lease, origin: lease.session.origin, host: lease.session.host, sid, tls: lease.session.tls },
		token.token,
		decoderFactory(limits),
		limits,
		settings,
		powerStateReader(lease, settings.timeouts.request),
	);
	try {
		await session.connect(ctx);
		return session;
	} catch (error) {
		await session.close();
		throw error;
	}
}

async function openViewer(
	target: AtenViewerTarget,
	ctx: CallContext,
	limits: ConsoleLimits,
	settings: AtenSessionSettings,
	decoderFactory: AtenDecoderFactory,
): Promise<ConsoleSession> {
	const origin = new URL(target.origin).origin;
	const host = new URL(origin).host;
	registerSecret(target.sid);
	const web = { origin, host, sid: target.sid, via: "cgi" as const, tls: target.tls };
	ctx.progress("aten-token", `Fetching a one-time console token from ${host}`);
	// A viewer link's session has no password behind it: the Redfish route is not open to it.
	const token = await fetchEntryToken(
		web,
		{ username: "", password: "" },
		{
			signal: ctx.signal,
			timeoutMs: settings.timeouts.request,
		},
	);
	const session = new AtenConsoleSession(
		{ origin, host, sid: target.sid, tls: target.tls },
		token.token,
		decoderFactory(limits),
		limits,
		{
			...settings,
		},
	);
	try {
		await session.connect(ctx);
		return session;
	} catch (error) {
		await session.close();
		throw error;
	}
}
