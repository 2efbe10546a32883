/**
 * Waiting for an OVH task (`GET …/task/{id}`), for every call that starts one (IPMI
 * access, reboot): poll until it is done, has failed, or the deadline would pass before
 * the next poll. A poll the caller's deadline cuts mid-flight is reported as the task
 * wait it is, whichever request happened to be on the wire.
 */
import type { CallContext } from "../../call-context.ts";
import { abortReasonToError } from "../../errors.ts";
import { formatDuration, sleep } from "../../timing.ts";
import type { OvhApiClient } from "./api.ts";
import { FAILED_TASK_STATUSES, type Task, TaskSchema, type TaskStatus } from "./types.ts";

export interface TaskWait {
	/** "done", "failed" (cancelled or an error status), or "timeout" (still running at the deadline). */
	outcome: "done" | "failed" | "timeout";
	/** The task as last read. */
	task: Task;
}

export interface TaskPolling {
	pollIntervalMs: number;
	/** Epoch ms after which no further poll is made. */
	deadline: number;
	/** How the task is named in progress reports, e.g. "OVH task 42 (hardReboot)". */
	label: string;
	/** When the wait began (progress shows the time since). */
	since: number;
}

export async function waitForOvhTask(
	api: OvhApiClient,
	path: string,
	ctx: CallContext,
	polling: TaskPolling,
): Promise<TaskWait> {
	for (;;) {
		const task = await api.get(path, TaskSchema, { signal: ctx.signal }).catch((error) => {
			if (ctx.signal.aborted) throw abortReasonToError(ctx.signal.reason, "ovh-task");
			throw error;
		});
		const status = task.status as TaskStatus;
		if (status === "done") return { outcome: "done", task };
		if (FAILED_TASK_STATUSES.includes(status)) return { outcome: "failed", task };
		ctx.progress("ovh-task", `${polling.label} is ${task.status} (${formatDuration(Date.now() - polling.since)})`);
		if (Date.now() + polling.pollIntervalMs > polling.deadline) return { outcome: "timeout", task };
		await sleep(polling.pollIntervalMs, ctx.signal, "ovh-task");
	}
}
