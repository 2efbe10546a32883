/**
 * Doctor step for the configured targets: does each VNC server and AMI BMC answer?
 * Each probe has short time limits and leaves nothing open (a BMC allows few sessions).
 */
import type { ConsoleTarget } from "../../console/types.ts";
import { IkvmError, isIkvmError } from "../../errors.ts";
import { mapLimit } from "../../timing.ts";
import { DEFAULT_TARGET_PROBES } from "./target-probes.ts";
import { type CheckResult, type DoctorStep, fail, pass, warn } from "./types.ts";

/** Where a target points, for the checklist: never a password, and no query string (consoles put tickets there). */
export function describeTarget(target: ConsoleTarget): string {
	switch (target.kind) {
		case "vnc":
			return target.url ? `vnc ${bareUrl(target.url)}` : `vnc ${target.host}:${target.port ?? 5900}`;
		case "ami-login":
			return `ami ${bareUrl(target.url)}`;
		case "ami-viewer":
			return `ami viewer ${bareUrl(target.viewerUrl)}`;
	}
}

function bareUrl(url: string): string {
	try {
		const u = new URL(url);
		return `${u.protocol}//${u.host}${u.pathname === "/" ? "" : u.pathname}`;
	} catch {
		return "(invalid URL)";
	}
}

function rejectOnAbort(signal: AbortSignal, ms: number): Promise<never> {
	return new Promise((_, reject) => {
		signal.addEventListener(
			"abort",
			() => reject(new IkvmError("TIMEOUT", `The check did not finish within ${ms / 1000} s.`, { stage: "connect" })),
			{ once: true },
		);
	});
}

export const checkTargets: DoctorStep = async (state, ctx) => {
	const targets = state.targets ?? [];
	if (targets.length === 0) return [];
	const probes = { ...DEFAULT_TARGET_PROBES, ...ctx.options.probes };
	const settled = await mapLimit(targets, 4, async (server) => {
		const probe = probes[server.target.kind];
		if (!probe) throw new IkvmError("NOT_SUPPORTED", `No check exists for ${server.target.kind} targets.`);
		// Each phase has its own limit; this bound keeps a probe that overruns them from holding up the checklist.
		const boundMs = ctx.timeouts.targetMs * 4;
		const bound = AbortSignal.timeout(boundMs);
		const probing = probe(server.target, {
			signal: AbortSignal.any([ctx.signal, bound]),
			timeoutMs: ctx.timeouts.targetMs,
			limits: {
				maxWidth: state.config?.maxFramebuffer.width ?? 4096,
				maxHeight: state.config?.maxFramebuffer.height ?? 2160,
			},
		});
		return Promise.race([probing, rejectOnAbort(bound, boundMs)]);
	});
	return targets.map((server, i): CheckResult => {
		const name = `target ${server.id}`;
		const where = describeTarget(server.target);
		const result = settled[i];
		if (result?.status === "fulfilled") {
			const { detail, warning } = result.value;
			return warning ? warn(name, `${where}: ${detail}`, warning) : pass(name, `${where}: ${detail}`);
		}
		const error = result?.reason;
		if (isIkvmError(error)) return fail(name, `${where}: ${error.message}`, error.hint);
		return fail(name, `${where}: ${error instanceof Error ? error.message : String(error)}`);
	});
};
