/**
 * How the doctor checks that a configured console answers, per target kind. Each
 * probe goes as far as proving the credentials work and no further, then undoes
 * what it opened: a VNC probe completes the RFB handshake (security included, so a
 * wrong password shows) and asks for one frame, because a server can finish the
 * handshake and still never send a picture (TigerVNC before update requests were
 * repeated); an AMI probe
 * logs in to the BMC and logs out, without opening a KVM session (BMCs allow few,
 * and the owner may be using one).
 */

import { loginWithPassword, logout } from "../../ami/bmc-session.ts";
import { noProgress } from "../../call-context.ts";
import { IkvmError } from "../../errors.ts";
import { createVncOpener } from "../../vnc/session.ts";
import type { TargetProbe } from "./types.ts";

export const probeVnc: TargetProbe = async (target, ctx) => {
	if (target.kind !== "vnc") throw new IkvmError("INTERNAL", `The VNC probe was given a ${target.kind} target.`);
	const open = createVncOpener({
		timeouts: { connectMs: ctx.timeoutMs, handshakeMs: ctx.timeoutMs, frameMs: ctx.timeoutMs },
	});
	const callCtx = { signal: ctx.signal, progress: noProgress };
	const session = await open(target, callCtx, ctx.limits);
	try {
		const frame = await session.capture(callCtx);
		return {
			detail: `RFB handshake complete${target.password ? ", password accepted" : ""}, first frame ${frame.width}x${frame.height}`,
		};
	} finally {
		await session.close();
	}
};

export const probeAmiLogin: TargetProbe = async (target, ctx) => {
	if (target.kind !== "ami-login") throw new IkvmError("INTERNAL", `The AMI probe was given a ${target.kind} target.`);
	const session = await loginWithPassword(target.url, target.username, target.password, target.tls, {
		signal: ctx.signal,
		timeoutMs: ctx.timeoutMs,
	});
	// Logged out whatever happens next: the login alone is what the doctor wanted to know.
	const loggedOut = await logout(session, ctx.timeoutMs);
	if (!loggedOut) {
		return {
			detail: `logged in as "${target.username}", but the BMC did not accept the logout`,
			warning: "The web session stays open until the BMC times it out; if the BMC limits sessions, wait a few minutes.",
		};
	}
	return { detail: `logged in as "${target.username}" and out again` };
};

export const DEFAULT_TARGET_PROBES: Partial<Record<string, TargetProbe>> = {
	vnc: probeVnc,
	"ami-login": probeAmiLogin,
};
