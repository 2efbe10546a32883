/**
 * The doctor: the checklist of what a screenshot needs, as a list of steps run in
 * order. Steps share what they learned (DoctorState) and skip what a failed
 * prerequisite makes pointless; the printer is separate (report.ts).
 */
import { isIkvmError } from "../../errors.ts";
import { checkEnvironment, checkTargetsFile } from "./config-checks.ts";
import { checkAccessRules, checkClock, checkCredentials, checkOvhReachable, checkOvhServers } from "./ovh-checks.ts";
import { checkTargets } from "./target-checks.ts";
import {
	type CheckResult,
	DEFAULT_DOCTOR_TIMEOUTS,
	type DoctorContext,
	type DoctorOptions,
	type DoctorState,
	type DoctorStep,
	fail,
} from "./types.ts";

export const DOCTOR_STEPS: readonly DoctorStep[] = [
	checkEnvironment,
	checkTargetsFile,
	checkOvhReachable,
	checkClock,
	checkCredentials,
	checkAccessRules,
	checkOvhServers,
	checkTargets,
];

export async function runDoctor(
	options: DoctorOptions,
	steps: readonly DoctorStep[] = DOCTOR_STEPS,
): Promise<CheckResult[]> {
	const ctx: DoctorContext = {
		options,
		timeouts: { ...DEFAULT_DOCTOR_TIMEOUTS, ...options.timeouts },
		signal: options.signal ?? new AbortController().signal,
	};
	const state: DoctorState = {};
	const all: CheckResult[] = [];
	for (const step of steps) {
		if (ctx.signal.aborted) break;
		let results: CheckResult[];
		try {
			results = await step(state, ctx);
		} catch (error) {
			// A step is written not to throw; if one does, the checklist still completes.
			const message = isIkvmError(error) ? error.toUserMessage() : String(error);
			results = [fail(step.name || "check", `the check itself failed: ${message}`)];
		}
		for (const result of results) {
			all.push(result);
			options.onResult?.(result);
		}
	}
	return all;
}
