/**
 * Doctor step for the configured targets: does each console answer? Each target is
 * checked by its driver's probe, with short time limits, leaving nothing open (a BMC
 * allows few sessions).
 */

import { DEFAULT_MAX_FRAMEBUFFER } from "../../config.ts";
import type { ProbeReport } from "../../console/driver.ts";
import { describeTarget, driverForKind } from "../../console/drivers.ts";
import { IkvmError, isIkvmError } from "../../errors.ts";
import { mapLimit } from "../../timing.ts";
import { type CheckResult, type DoctorStep, fail, pass, type TargetProbe, warn } from "./types.ts";

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
	const settled = await mapLimit(targets, 4, async (server) => {
		const kind = server.target.kind;
		const driver = driverForKind(kind);
		const probe: TargetProbe | undefined =
			ctx.options.probes?.[kind] ??
			(driver?.probe ? (target, c) => driver.probe?.(target, c) as Promise<ProbeReport> : undefined);
		if (!probe) throw new IkvmError("NOT_SUPPORTED", `No check exists for ${kind} targets.`);
		// Each phase has its own limit; this bound keeps a probe that overruns them from holding up the checklist.
		const boundMs = ctx.timeouts.targetMs * 4;
		const bound = AbortSignal.timeout(boundMs);
		const probing = probe(server.target, {
			signal: AbortSignal.any([ctx.signal, bound]),
			timeoutMs: ctx.timeouts.targetMs,
			limits: {
				maxWidth: state.config?.maxFramebuffer.width ?? DEFAULT_MAX_FRAMEBUFFER.width,
				maxHeight: state.config?.maxFramebuffer.height ?? DEFAULT_MAX_FRAMEBUFFER.height,
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
