/**
 * How the doctor checks that a configured console answers, per target kind. Each
 * probe goes as far as proving the credentials work and no further, then undoes
 * what it opened: a VNC probe completes the RFB handshake (security included, so a
 * wrong password shows) and disconnects before asking for any picture.
 */
import { IkvmError } from "../../errors.ts";
import { noProgress } from "../../providers/types.ts";
import { createVncOpener } from "../../vnc/screenshot.ts";
import type { TargetProbe } from "./types.ts";

export const probeVnc: TargetProbe = async (target, ctx) => {
	if (target.kind !== "vnc") throw new IkvmError("INTERNAL", `The VNC probe was given a ${target.kind} target.`);
	const open = createVncOpener({ timeouts: { connectMs: ctx.timeoutMs, handshakeMs: ctx.timeoutMs } });
	const session = await open(target, { signal: ctx.signal, progress: noProgress }, ctx.limits);
	await session.close();
	return { detail: `RFB handshake complete${target.password ? ", password accepted" : ""}` };
};

export const DEFAULT_TARGET_PROBES: Partial<Record<string, TargetProbe>> = {
	vnc: probeVnc,
};
