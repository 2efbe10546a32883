/**
 * Power for OVH dedicated servers. OVH's API has one power call, a hard reset
 * (`POST /dedicated/server/{name}/reboot`, answered with a `hardReboot` task
 * polled until done), and reports the power state in the server's details
 * (`powerState`). Every other action goes through the server's BMC (its KVM
 * session) when the caller can open one.
 */
import type { CallContext } from "../../call-context.ts";
import { IkvmError } from "../../errors.ts";
import type { PowerAction, PowerResult } from "../../input/types.ts";
import { formatDuration } from "../../timing.ts";
import type { OvhApiClient } from "./api.ts";
import { OvhApiError } from "./api-errors.ts";
import { OVH_REBOOT_ACCESS_RULE, ruleLabel } from "./rules.ts";
import { waitForOvhTask } from "./tasks.ts";
import { DedicatedServerSchema, TaskSchema } from "./types.ts";

export interface OvhPowerOptions {
	pollIntervalMs: number;
	/** How long a reset waits for OVH's task. */
	taskTimeoutMs: number;
}

export const DEFAULT_POWER_OPTIONS: OvhPowerOptions = { pollIntervalMs: 2000, taskTimeoutMs: 120_000 };

/** What OVH itself can do, named in NOT_SUPPORTED errors. */
export const OVH_POWER_ACTIONS: readonly PowerAction[] = ["status", "reset"];

/** `powerState` of the server's details: "poweron" / "poweroff". */
export async function ovhPowerStatus(api: OvhApiClient, serviceName: string, ctx: CallContext): Promise<PowerResult> {
	ctx.progress("ovh-api", `Reading the power state of ${serviceName}`);
	const details = await api.get(`/dedicated/server/${encodeURIComponent(serviceName)}`, DedicatedServerSchema, {
		signal: ctx.signal,
	});
	const state = details.powerState === "poweron" ? "on" : details.powerState === "poweroff" ? "off" : "unknown";
	return {
		state,
		source: "OVH API (powerState)",
		message:
			state === "unknown"
				? `OVH does not report a power state for ${serviceName}.`
				: `OVH reports ${serviceName} powered ${state}.`,
	};
}

/** A hard reset through OVH: POST reboot, then the task until it is done. */
export async function ovhReset(
	api: OvhApiClient,
	serviceName: string,
	ctx: CallContext,
	options: OvhPowerOptions = DEFAULT_POWER_OPTIONS,
): Promise<PowerResult> {
	const base = `/dedicated/server/${encodeURIComponent(serviceName)}`;
	ctx.progress("ovh-api", `Asking OVH to hard-reset ${serviceName}`);
	const started = Date.now();
	const task = await api.post(`${base}/reboot`, undefined, TaskSchema, { signal: ctx.signal }).catch((error) => {
		if (error instanceof OvhApiError && error.ovhErrorCode === "NOT_GRANTED_CALL") {
			throw new IkvmError(
				"ACCESS_DENIED",
				`The OVH consumer key may not reset servers: it lacks the access rule ${ruleLabel(OVH_REBOOT_ACCESS_RULE)}. Nothing was rebooted.`,
				{
					stage: "ovh-api",
					hint: `Rules of a consumer key cannot be changed: create a new consumer key with the usual rules plus ${ruleLabel(OVH_REBOOT_ACCESS_RULE)} (POST /auth/credential with that list) and set OVH_CONSUMER_KEY to it.`,
					cause: error,
				},
			);
		}
		throw error;
	});
	const { outcome, task: now } = await waitForOvhTask(api, `${base}/task/${task.taskId}`, ctx, {
		pollIntervalMs: options.pollIntervalMs,
		deadline: started + options.taskTimeoutMs,
		label: `OVH task ${task.taskId} (hardReboot)`,
		since: started,
	});
	if (outcome === "done") {
		return {
			state: "on",
			source: `OVH task ${task.taskId}`,
			message: `OVH hard-reset ${serviceName}: task ${task.taskId} (${now.function ?? "hardReboot"}) done after ${formatDuration(Date.now() - started)}. The server is booting again.`,
		};
	}
	if (outcome === "failed") {
		throw new IkvmError(
			"UPSTREAM",
			`OVH task ${task.taskId} (hardReboot) for ${serviceName} ended "${now.status}"${now.comment ? `: ${now.comment}` : ""}.`,
			{ stage: "ovh-task", hint: "Check the server in the OVH manager; the reset may not have happened." },
		);
	}
	throw new IkvmError(
		"TIMEOUT",
		`OVH task ${task.taskId} (hardReboot) for ${serviceName} was still "${now.status}" after ${formatDuration(Date.now() - started)}.`,
		{
			stage: "ovh-task",
			hint: "The reset was accepted by OVH and may still happen: look at the console before asking again (a second reset would interrupt the boot).",
		},
	);
}

export function ovhPowerNotSupported(serviceName: string, action: PowerAction, why: string): IkvmError {
	return new IkvmError(
		"NOT_SUPPORTED",
		`Power "${action}" is not supported for the OVH server ${serviceName}: ${why}`,
		{
			stage: "ovh-api",
			hint: `OVH's API supports ${OVH_POWER_ACTIONS.join(" and ")} (reset is a hard reboot). For on, off, shutdown and cycle, use the BMC (OVH manager → IPMI) or reset instead.`,
		},
	);
}
