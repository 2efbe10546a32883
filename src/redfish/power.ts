/**
 * Power through `ComputerSystem.Reset`: our actions mapped to ResetType values,
 * checked against what the BMC allows before anything is sent, a 202 task monitor
 * followed to its end, then PowerState polled until it shows the change or a
 * deadline passes. The result says what was observed, not what was hoped.
 */
import type { CallContext } from "../call-context.ts";
import { IkvmError } from "../errors.ts";
import type { PowerAction, PowerResult } from "../input/types.ts";
import { formatDuration, sleep } from "../timing.ts";
import { isObject, type RedfishClient } from "./client.ts";
import { type RedfishSystem, readSystem } from "./discovery.ts";
import { faultLine, faultToError, hasMessage, messageKey, parseErrorBody } from "./errors.ts";

/** The schema's ResetType enum: what a BMC may do when it lists no allowed values. */
export const RESET_TYPES_ENUM = [
	"On",
	"ForceOff",
	"GracefulShutdown",
	"GracefulRestart",
	"ForceRestart",
	"Nmi",
	"ForceOn",
	"PushPowerButton",
	"PowerCycle",
	"Suspend",
	"Pause",
	"Resume",
	"FullPowerCycle",
] as const;

/** Our action → ResetType values in preference order (the first allowed one is sent). */
export const RESET_PREFERENCE: Record<Exclude<PowerAction, "status">, readonly string[]> = {
	on: ["On", "ForceOn", "PushPowerButton"],
	off: ["ForceOff"],
	shutdown: ["GracefulShutdown", "PushPowerButton"],
	reset: ["ForceRestart", "PowerCycle"],
	cycle: ["PowerCycle", "FullPowerCycle", "ForceRestart"],
};

export interface PowerOptions {
	/** How long to watch PowerState after the BMC accepted the request. Default 60 s. */
	settleMs?: number;
	/** Pause between PowerState reads. Default 2 s. */
	pollMs?: number;
	/** Longest wait for a task monitor. Default 120 s. */
	taskMs?: number;
}

export function powerStateOf(value: string | undefined): PowerResult["state"] {
	if (value === "On" || value === "PoweringOff") return "on";
	if (value === "Off" || value === "PoweringOn") return "off";
	return "unknown";
}

/** The ResetType values the BMC allows for this system: inline, else from ActionInfo, else the enum. */
export async function allowedResetTypes(
	client: RedfishClient,
	system: RedfishSystem,
	ctx: CallContext,
): Promise<{ values: readonly string[]; source: "inline" | "ActionInfo" | "schema" }> {
	if (system.reset?.allowed && system.reset.allowed.length > 0)
		return { values: system.reset.allowed, source: "inline" };
	if (system.reset?.actionInfo) {
		const info = await client.get(system.reset.actionInfo, ctx, "the Reset ActionInfo", "redfish-power");
		const params = Array.isArray(info.Parameters) ? info.Parameters : [];
		const param = params.find((p) => isObject(p) && p.Name === "ResetType");
		const values = isObject(param) && Array.isArray(param.AllowableValues) ? param.AllowableValues : [];
		const strings = values.filter((v): v is string => typeof v === "string");
		if (strings.length > 0) return { values: strings, source: "ActionInfo" };
	}
	return { values: RESET_TYPES_ENUM, source: "schema" };
}

/** The ResetType to send for `action`, or a NOT_SUPPORTED error naming what the BMC allows. */
export function chooseResetType(
	action: Exclude<PowerAction, "status">,
	allowed: readonly string[],
	host: string,
): string {
	const choice = RESET_PREFERENCE[action].find((t) => allowed.includes(t));
	if (choice) return choice;
	throw new IkvmError(
		"NOT_SUPPORTED",
		`The BMC at ${host} allows no ResetType for "${action}" (wanted one of ${RESET_PREFERENCE[action].join(", ")}; it allows ${allowed.join(", ") || "none"}).`,
		{ stage: "redfish-power", hint: "Use another power action this BMC allows." },
	);
}

/** What PowerState should read once `action` took effect; undefined when it does not change (reset). */
function expectedState(action: Exclude<PowerAction, "status">): string | undefined {
	if (action === "on") return "On";
	if (action === "off" || action === "shutdown") return "Off";
	return undefined;
}

export async function redfishPower(
	client: RedfishClient,
	systemPath: string,
	action: PowerAction,
	ctx: CallContext,
	options: PowerOptions = {},
): Promise<PowerResult> {
	const source = "Redfish PowerState";
	let system = await readSystem(client, systemPath, ctx);
	if (action === "status") {
		return {
			state: powerStateOf(system.powerState),
			source,
			message: `PowerState of ${system.id} is ${system.powerState ?? "not reported"}.`,
		};
	}
	const expected = expectedState(action);
	if (expected && system.powerState === expected) {
		return { state: powerStateOf(expected), source, message: `${system.id} is already ${expected}; nothing was sent.` };
	}
	if (!system.reset) {
		throw new IkvmError(
			"NOT_SUPPORTED",
			`The system ${system.id} on ${client.host} has no ComputerSystem.Reset action.`,
			{
				stage: "redfish-power",
				hint: "This BMC offers no power control through Redfish.",
			},
		);
	}
	const allowed = await allowedResetTypes(client, system, ctx);
	const resetType = chooseResetType(action, allowed.values, client.host);
	const before = system.powerState;
	ctx.progress("redfish-power", `sending ResetType ${resetType} to ${system.id}`);
	const answer = await client.request("POST", system.reset.target, ctx, {
		body: { ResetType: resetType },
		what: `the Reset (${resetType})`,
		stage: "redfish-power",
	});
	if (answer.status === 409) {
		// iDRAC answers "already powered ON/OFF" (PSU501 and friends) with a conflict: a no-op when the state matches.
		system = await readSystem(client, systemPath, ctx);
		if (expected && system.powerState === expected) {
			return {
				state: powerStateOf(expected),
				source,
				message: `${system.id} is already ${expected} (the BMC said: ${faultLine(client.fault(answer))}).`,
			};
		}
		throw faultToError(client.host, `the Reset (${resetType})`, client.fault(answer), "redfish-power");
	}
	if (answer.status === 202) {
		const monitor = answer.headers.get("location");
		if (monitor) await followTask(client, monitor, ctx, options.taskMs ?? 120_000);
	} else if (answer.status < 200 || answer.status >= 300) {
		throw faultToError(client.host, `the Reset (${resetType})`, client.fault(answer), "redfish-power");
	}
	return watchPowerState(client, systemPath, resetType, before, expected, ctx, options);
}

async function watchPowerState(
	client: RedfishClient,
	systemPath: string,
	resetType: string,
	before: string | undefined,
	expected: string | undefined,
	ctx: CallContext,
	options: PowerOptions,
): Promise<PowerResult> {
	// A restart need not show in PowerState at all, so it is watched for a shorter time.
	const settleMs = expected ? (options.settleMs ?? 60_000) : Math.min(options.settleMs ?? 60_000, 10_000);
	const pollMs = options.pollMs ?? 2_000;
	const started = Date.now();
	const seen: string[] = [];
	let last: string | undefined;
	for (;;) {
		const system = await readSystem(client, systemPath, ctx);
		last = system.powerState;
		if (last && seen[seen.length - 1] !== last) seen.push(last);
		const done = expected
			? last === expected
			: // reset/cycle: done once it went through a transition and is On again, or it left On and came back.
				seen.length > 1 && last === "On";
		const elapsed = Date.now() - started;
		if (done) {
			return {
				state: powerStateOf(last),
				source: "Redfish PowerState",
				message: `Sent ResetType ${resetType}; PowerState went ${[before ?? "?", ...seen].filter((s, i, a) => i === 0 || s !== a[i - 1]).join(" → ")} within ${formatDuration(elapsed)}.`,
			};
		}
		if (elapsed + pollMs > settleMs) break;
		await sleep(pollMs, ctx.signal, "redfish-power");
	}
	const observed = seen.join(" → ") || "not reported";
	const message = expected
		? `Sent ResetType ${resetType}; the BMC accepted it, but PowerState is still ${last ?? "not reported"} after ${formatDuration(settleMs)} (expected ${expected}; observed ${observed}).`
		: `Sent ResetType ${resetType}; the BMC accepted it. PowerState read ${observed} over ${formatDuration(settleMs)} (a restart need not change it; check the screen to see the reboot).`;
	return { state: powerStateOf(last), source: "Redfish PowerState", message };
}

const TERMINAL_OK = new Set(["Completed"]);
const TERMINAL_BAD = new Set(["Killed", "Exception", "Cancelled"]);

/** Follows a task monitor: 202 means still running; anything else is the operation's final answer. */
export async function followTask(
	client: RedfishClient,
	monitor: string,
	ctx: CallContext,
	deadlineMs: number,
): Promise<void> {
	const started = Date.now();
	for (;;) {
		const answer = await client.request("GET", monitor, ctx, { what: "the task monitor", stage: "redfish-power" });
		const task = isObject(answer.json) ? answer.json : {};
		const state = typeof task.TaskState === "string" ? task.TaskState : undefined;
		if (
			answer.status === 202 ||
			(answer.status === 200 && state && !TERMINAL_OK.has(state) && !TERMINAL_BAD.has(state))
		) {
			const percent = typeof task.PercentComplete === "number" ? ` (${task.PercentComplete}%)` : "";
			ctx.progress("redfish-power", `the BMC's task is ${state ?? "running"}${percent}`);
			const retry = client.fault(answer).retryAfterS;
			const waitMs = Math.min(10_000, Math.max(250, (retry ?? 1) * 1000));
			if (Date.now() - started + waitMs > deadlineMs) {
				throw new IkvmError("TIMEOUT", `The BMC's power task did not finish within ${formatDuration(deadlineMs)}.`, {
					stage: "redfish-power",
					hint: "The request was accepted; check the power state again in a while.",
					retryable: true,
				});
			}
			await sleep(waitMs, ctx.signal, "redfish-power");
			continue;
		}
		if (answer.status === 404 && !state) {
			// Some BMCs drop a finished monitor at once: the operation ended; PowerState tells the outcome.
			return;
		}
		if (answer.status >= 400) throw faultToError(client.host, "the power task", client.fault(answer), "redfish-power");
		if (state && TERMINAL_BAD.has(state)) {
			const messages = parseErrorBody({ "@Message.ExtendedInfo": task.Messages });
			const first = messages[0];
			throw new IkvmError(
				"UPSTREAM",
				`The BMC's power task ended ${state}${first ? `: ${first.id ? `${messageKey(first.id)}: ` : ""}${(first.message ?? "").replace(/\.$/, "")}` : ""}.`,
				{ stage: "redfish-power" },
			);
		}
		if (hasMessage(client.fault(answer), "ActionParameterValueNotInList")) {
			throw faultToError(client.host, "the power task", { ...client.fault(answer), status: 400 }, "redfish-power");
		}
		return;
	}
}
