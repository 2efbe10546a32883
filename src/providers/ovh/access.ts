/**
 * IPMI console access for one OVH server: the viewer URL OVH hands out.
 *
 * Flow: check `features/ipmi` → POST `features/ipmi/access`
 * {type: "kvmipHtml5URL", ttl, ipToAllow?} → poll the returned task until `done` →
 * GET `features/ipmi/access?type=kvmipHtml5URL` for `{value, expiration}`.
 *
 * A granted URL is reused until shortly before it expires, so a second
 * screenshot does not cost another 20-60 s task. A task whose wait was cut
 * short by the caller (deadline, cancel) is remembered and resumed by the next
 * call instead of asking OVH again.
 */

import type { CallContext } from "../../call-context.ts";
import { IkvmError } from "../../errors.ts";
import { log } from "../../log.ts";
import { registerSecret } from "../../redact.ts";
import { formatDuration, sleep } from "../../timing.ts";
import type { OvhApiClient } from "./api.ts";
import { OvhApiError } from "./api-errors.ts";
import type { PublicIpDiscovery } from "./public-ip.ts";
import { waitForOvhTask } from "./tasks.ts";
import {
	type Ipmi,
	type IpmiAccessRequest,
	IpmiAccessValueSchema,
	IpmiSchema,
	type Task,
	TaskSchema,
} from "./types.ts";
import { viewerSecrets } from "./viewer.ts";

const accessLog = log.child("ovh-access");

export interface IpmiAccessOptions {
	/** Minutes OVH keeps the access open (1, 3, 5, 10 or 15). */
	ttlMinutes: IpmiAccessRequest["ttl"];
	/** Pause between two task polls. */
	pollIntervalMs: number;
	/** How long one call waits for the access task. */
	taskTimeoutMs: number;
	/** Reads of the access value while OVH still returns it empty. */
	valueAttempts: number;
	valueRetryMs: number;
	/** A URL is not reused when it expires within this margin (opening a console takes time). */
	reuseMarginMs: number;
	/** A remembered unfinished task older than this is not resumed. */
	resumeTaskMaxAgeMs: number;
	/** Where `ipToAllow` comes from; undefined → the access is requested without it. */
	ipToAllow: PublicIpDiscovery;
}

export const DEFAULT_ACCESS_OPTIONS: Omit<IpmiAccessOptions, "ipToAllow"> = {
	ttlMinutes: 15,
	pollIntervalMs: 2000,
	taskTimeoutMs: 90_000,
	valueAttempts: 5,
	valueRetryMs: 1000,
	reuseMarginMs: 60_000,
	resumeTaskMaxAgeMs: 5 * 60_000,
};

interface Grant {
	url: string;
	expiresAt: number;
}

interface PendingTask {
	taskId: number;
	requestedAt: number;
}

export interface ViewerUrl {
	url: string;
	/** True when a URL granted earlier was handed out again. */
	reused: boolean;
	expiresAt: number;
}

export class IpmiAccess {
	private readonly grants = new Map<string, Grant>();
	private readonly pending = new Map<string, PendingTask>();

	constructor(
		private readonly api: OvhApiClient,
		private readonly options: IpmiAccessOptions,
	) {}

	/** Drops a granted URL (it expired, or the BMC refused it). */
	forget(serviceName: string): void {
		this.grants.delete(serviceName);
	}

	async viewerUrl(serviceName: string, ctx: CallContext, fresh: boolean): Promise<ViewerUrl> {
		if (fresh) this.forget(serviceName);
		const grant = this.grants.get(serviceName);
		if (grant && grant.expiresAt - this.options.reuseMarginMs > Date.now()) {
			ctx.progress("ovh-access", `Reusing the console access OVH granted (valid until ${iso(grant.expiresAt)})`);
			return { url: grant.url, reused: true, expiresAt: grant.expiresAt };
		}
		this.grants.delete(serviceName);

		const base = `/dedicated/server/${encodeURIComponent(serviceName)}`;
		let task = this.pending.get(serviceName);
		if (task && task.requestedAt + this.options.resumeTaskMaxAgeMs < Date.now()) task = undefined;
		if (task) {
			ctx.progress("ovh-task", `Resuming OVH task ${task.taskId} started earlier for ${serviceName}`);
		} else {
			ctx.progress("ovh-access", `Checking the IPMI features of ${serviceName}`);
			await checkIpmiFeatures(this.api, serviceName, ctx.signal);
			const ipToAllow = await this.options.ipToAllow(ctx.signal);
			const body: IpmiAccessRequest = { type: "kvmipHtml5URL", ttl: this.options.ttlMinutes };
			if (ipToAllow) body.ipToAllow = ipToAllow;
			ctx.progress(
				"ovh-access",
				`Requesting HTML5 KVM access to ${serviceName}${ipToAllow ? ` for ${ipToAllow}` : ""} (an OVH task)`,
			);
			const requestedAt = Date.now();
			const created = await this.api.post(`${base}/features/ipmi/access`, body, TaskSchema, { signal: ctx.signal });
			task = { taskId: created.taskId, requestedAt };
			this.pending.set(serviceName, task);
			accessLog.info("requested IPMI console access", {
				server: serviceName,
				taskId: created.taskId,
				ipToAllow: ipToAllow ?? "none",
			});
		}

		await this.waitForTask(serviceName, base, task, ctx);
		const granted = await this.readValue(serviceName, base, task.requestedAt, ctx);
		this.grants.set(serviceName, granted);
		return { ...granted, reused: false };
	}

	private async waitForTask(serviceName: string, base: string, task: PendingTask, ctx: CallContext): Promise<void> {
		const started = Date.now();
		// Said before the first poll, so a deadline that cuts that poll names the task wait.
		ctx.progress("ovh-task", `Waiting for OVH task ${task.taskId} to open the console of ${serviceName}`);
		const { outcome, task: last } = await waitForOvhTask(this.api, `${base}/task/${task.taskId}`, ctx, {
			pollIntervalMs: this.options.pollIntervalMs,
			deadline: started + this.options.taskTimeoutMs,
			label: `OVH task ${task.taskId}`,
			since: task.requestedAt,
		}).catch((error) => {
			// A task OVH no longer knows is not resumed; one the caller's deadline cut is (the next call).
			if (error instanceof OvhApiError && error.httpStatus === 404) this.pending.delete(serviceName);
			throw error;
		});
		if (outcome === "done") {
			this.pending.delete(serviceName);
			return;
		}
		this.pending.delete(serviceName);
		if (outcome === "failed") throw taskFailed(serviceName, last);
		// Our own limit, not the caller's: do not resume this task, ask anew next time.
		throw new IkvmError(
			"TIMEOUT",
			`OVH task ${task.taskId} (${last.function ?? "requestAccessIPMI"}) for ${serviceName} was still ` +
				`"${last.status}" after ${formatDuration(Date.now() - started)}.`,
			{
				stage: "ovh-task",
				retryable: true,
				hint:
					"OVH is slow to open the console; try again in a minute. If it keeps happening, reset the server's " +
					`KVM sessions (OVH manager → IPMI, or POST ${base}/features/ipmi/resetSessions).`,
			},
		);
	}

	private async readValue(serviceName: string, base: string, requestedAt: number, ctx: CallContext): Promise<Grant> {
		for (let attempt = 1; ; attempt++) {
			ctx.progress("ovh-access", `Reading the viewer URL of ${serviceName}`);
			const access = await this.api.get(`${base}/features/ipmi/access`, IpmiAccessValueSchema, {
				signal: ctx.signal,
				query: { type: "kvmipHtml5URL" },
			});
			const value = access.value?.trim();
			const stated = access.expiration ? Date.parse(access.expiration) : Number.NaN;
			const expiresAt = Number.isFinite(stated) ? stated : requestedAt + this.options.ttlMinutes * 60_000;
			// An expired value is the previous grant still showing: the new one is not readable yet.
			if (value && expiresAt > Date.now()) {
				let url: URL;
				try {
					url = new URL(value);
				} catch {
					throw new IkvmError("PROTOCOL", `OVH's viewer value for ${serviceName} is not a URL.`, {
						stage: "ovh-access",
						hint: "OVH returned something unexpected for kvmipHtml5URL; try again or use the OVH manager.",
					});
				}
				for (const secret of viewerSecrets(url.href)) registerSecret(secret);
				return { url: value, expiresAt };
			}
			if (attempt >= this.options.valueAttempts) break;
			accessLog.debug("viewer URL not readable yet", { server: serviceName, attempt });
			await sleep(this.options.valueRetryMs, ctx.signal, "ovh-access");
		}
		throw new IkvmError(
			"UPSTREAM",
			`OVH finished the access task for ${serviceName} but gave no viewer URL after ${this.options.valueAttempts} reads.`,
			{ stage: "ovh-access", retryable: true, hint: "Try again; OVH sometimes needs a few more seconds." },
		);
	}
}

/**
 * Reads `features/ipmi` and throws NOT_SUPPORTED, saying why and what to do, unless the
 * server offers the HTML5 KVM console ikvm-mcp opens. Shared by screenshots and the doctor.
 */
export async function checkIpmiFeatures(api: OvhApiClient, serviceName: string, signal: AbortSignal): Promise<Ipmi> {
	const base = `/dedicated/server/${encodeURIComponent(serviceName)}`;
	let ipmi: Ipmi;
	try {
		ipmi = await api.get(`${base}/features/ipmi`, IpmiSchema, { signal });
	} catch (error) {
		if (error instanceof OvhApiError && error.httpStatus === 404) {
			throw new IkvmError("NOT_SUPPORTED", `OVH reports no IPMI for ${serviceName}.`, {
				stage: "ovh-access",
				hint: "This server range has no IPMI/KVM console (common on some Eco/Kimsufi servers).",
			});
		}
		throw error;
	}
	if (!ipmi.activated) {
		throw new IkvmError("NOT_SUPPORTED", `IPMI is not activated on ${serviceName}.`, {
			stage: "ovh-access",
			hint:
				"OVH reports no IPMI for this server (features/ipmi: activated=false). Some ranges have none; " +
				"otherwise ask OVH support to enable it.",
		});
	}
	const features = ipmi.supportedFeatures;
	if (!features.kvmipHtml5URL) {
		const offered = Object.entries(features)
			.filter(([, on]) => on)
			.map(([name]) => name);
		throw new IkvmError(
			"NOT_SUPPORTED",
			`The IPMI of ${serviceName} offers no HTML5 KVM console (it offers: ${offered.join(", ") || "nothing"}).`,
			{
				stage: "ovh-access",
				hint: offered.includes("kvmipJnlp")
					? "Only the Java (JNLP) viewer is available for this server; open it from the OVH manager."
					: "ikvm-mcp needs the kvmipHtml5URL feature; use the OVH manager for this server.",
			},
		);
	}
	return ipmi;
}

function taskFailed(serviceName: string, task: Task): IkvmError {
	const comment = task.comment ? `: ${task.comment}` : "";
	const what = `OVH task ${task.taskId} (${task.function ?? "requestAccessIPMI"}) for ${serviceName} ended "${task.status}"${comment}.`;
	switch (task.status) {
		case "customerError":
			return new IkvmError("UPSTREAM", what, {
				stage: "ovh-task",
				hint:
					"OVH refused the console request as made. If OVH_IPMI_ALLOWED_IP is set it must be this machine's " +
					"public IPv4; otherwise check the server's IPMI in the OVH manager.",
			});
		case "ovhError":
			return new IkvmError("UPSTREAM", what, {
				stage: "ovh-task",
				retryable: true,
				hint:
					"OVH failed to open the console. Try again later; if it persists, reset the KVM sessions or the IPMI " +
					"interface from the OVH manager.",
			});
		default:
			return new IkvmError("UPSTREAM", what, { stage: "ovh-task", retryable: true, hint: "Try again." });
	}
}

function iso(ms: number): string {
	return new Date(ms).toISOString();
}
