/**
 * The MegaRAC SP-X web API calls the input and power paths use: the KVM mouse
 * mode, and power.
 *
 * Power through the MegaRAC SP-X web API, with the BMC web session's cookie and
 * CSRF token: `GET /api/chassis-status` → `{"power_status": 1|0}`, and
 * `POST /api/actions/power` with `{"power_command": n}` (0 off, 1 on, 2 cycle,
 * 3 hard reset, 5 ACPI soft off). Used when no KVM session can be opened: a
 * powered-off host makes the KVM handshake end at "powered off", and that is
 * exactly when "on" is asked for.
 */
import { z } from "zod";
import { IkvmError } from "../errors.ts";
import type { PowerAction } from "../input/types.ts";
import { type BmcRequestContext, bmcRequest } from "../net/bmc-http.ts";
import { cookieHeaders } from "./bmc-session.ts";
import type { BmcSession } from "./types.ts";

export const POWER_COMMAND: Record<Exclude<PowerAction, "status">, number> = {
	off: 0,
	on: 1,
	cycle: 2,
	reset: 3,
	shutdown: 5,
};

const chassisStatus = z.looseObject({ power_status: z.number() });

function notAvailable(session: BmcSession, status: number): IkvmError {
	return new IkvmError(
		"NOT_SUPPORTED",
		`The BMC at ${session.host} has no SP-X power web API (HTTP ${status}) and no KVM session could be opened for power control.`,
		{ stage: "bmc-login", hint: "Use the BMC's web UI or IPMI (ipmitool chassis power …) for this server." },
	);
}

function refused(session: BmcSession, what: string, status: number): IkvmError {
	return new IkvmError("ACCESS_DENIED", `The BMC at ${session.host} refused ${what} (HTTP ${status}).`, {
		stage: "bmc-login",
		hint: "The BMC account needs the power-control (operator or administrator) privilege.",
	});
}

/** The power state from `GET /api/chassis-status`. */
export async function webPowerStatus(session: BmcSession, ctx: BmcRequestContext): Promise<boolean> {
	const url = new URL("/api/chassis-status", session.origin);
	const headers = { ...cookieHeaders(session), Accept: "application/json" };
	const answer = await bmcRequest(url, { headers }, session.tls, ctx, "the power status request");
	if (answer.status === 404 || answer.status === 405) throw notAvailable(session, answer.status);
	if (answer.status === 401 || answer.status === 403) throw refused(session, "the power status request", answer.status);
	if (answer.status !== 200) {
		throw new IkvmError(
			"UPSTREAM",
			`The BMC at ${session.host} answered the power status request with HTTP ${answer.status}.`,
			{
				stage: "bmc-login",
				retryable: answer.status >= 500,
			},
		);
	}
	let parsed: z.infer<typeof chassisStatus>;
	try {
		parsed = chassisStatus.parse(JSON.parse(answer.body));
	} catch {
		throw new IkvmError(
			"PROTOCOL",
			`The BMC at ${session.host} answered the power status request without power_status.`,
			{
				stage: "bmc-login",
			},
		);
	}
	return parsed.power_status === 1;
}

const adviserSettings = z.looseObject({ mouse_mode: z.number().optional() });

/**
 * The KVM mouse mode from `GET /api/settings/media/adviser` (2 = absolute, 1 = relative, 3 = other),
 * or undefined when the BMC does not say (older firmware has no such page: absolute is then assumed).
 */
export async function kvmMouseMode(session: BmcSession, ctx: BmcRequestContext): Promise<number | undefined> {
	const url = new URL("/api/settings/media/adviser", session.origin);
	const headers = { ...cookieHeaders(session), Accept: "application/json" };
	const answer = await bmcRequest(url, { headers }, session.tls, ctx, "the KVM settings request");
	if (answer.status !== 200) return undefined;
	try {
		return adviserSettings.parse(JSON.parse(answer.body)).mouse_mode;
	} catch {
		return undefined;
	}
}

/** `POST /api/actions/power` with the action's command number. */
export async function webPowerAction(
	session: BmcSession,
	action: Exclude<PowerAction, "status">,
	ctx: BmcRequestContext,
): Promise<void> {
	const url = new URL("/api/actions/power", session.origin);
	const headers = { ...cookieHeaders(session), Accept: "application/json", "Content-Type": "application/json" };
	const body = JSON.stringify({ power_command: POWER_COMMAND[action] });
	const answer = await bmcRequest(url, { method: "POST", headers, body }, session.tls, ctx, `the ${action} request`);
	if (answer.status === 404 || answer.status === 405) throw notAvailable(session, answer.status);
	if (answer.status === 401 || answer.status === 403) throw refused(session, `the ${action} request`, answer.status);
	if (answer.status !== 200) {
		throw new IkvmError(
			"UPSTREAM",
			`The BMC at ${session.host} answered the ${action} request with HTTP ${answer.status}.`,
			{
				stage: "bmc-login",
				retryable: false,
			},
		);
	}
}
