/**
 * Power on an AMI MegaRAC BMC, through the KVM session's IVTP connection: 0x22
 * reads the power state, 0x23 asks for an action (0 off, 1 on, 2 cycle, 3 hard
 * reset, 5 ACPI soft off) and 0x24 answers it. The driver's `power` (see
 * ConsoleDriver.power) runs it on the target's warm session.
 */
import type { CallContext } from "../call-context.ts";
import type { SessionRunner } from "../console/driver.ts";
import { IkvmError } from "../errors.ts";
import type { PowerAction, PowerResult } from "../input/types.ts";
import { loginWithPassword, loginWithViewerUrl, logout } from "./bmc-session.ts";
import { AmiConsoleSession } from "./session.ts";
import type { BmcSession } from "./types.ts";
import { webPowerAction, webPowerStatus } from "./web-api.ts";

const WEB_TIMEOUT_MS = 15_000;

import type { AmiLoginTarget, AmiViewerTarget } from "./target.ts";

const DONE: Record<Exclude<PowerAction, "status">, string> = {
	on: "powered on",
	off: "powered off (hard)",
	shutdown: "asked to shut down (ACPI power button; the operating system decides when it powers off)",
	reset: "hard-reset",
	cycle: "power-cycled",
};

/**
 * Power on the warm KVM session (IVTP). When no KVM session opens because the host is powered off
 * (the handshake ends at "powered off"), status is "off" and other actions go through the BMC's web
 * API with a web session of its own.
 */
export async function amiPower(
	target: AmiViewerTarget | AmiLoginTarget,
	action: PowerAction,
	ctx: CallContext,
	session: SessionRunner,
): Promise<PowerResult> {
	try {
		return await ivtpPower(target, action, ctx, session);
	} catch (error) {
		if (!(error instanceof IkvmError) || error.code !== "POWERED_OFF") throw error;
		if (action === "status") {
			return {
				state: "off",
				source: "IVTP power status (KVM handshake)",
				message: "The BMC reports the server powered off (its KVM has no picture).",
			};
		}
		return webPower(target, action, ctx);
	}
}

async function webPower(
	target: AmiViewerTarget | AmiLoginTarget,
	action: Exclude<PowerAction, "status">,
	ctx: CallContext,
): Promise<PowerResult> {
	const request = { signal: ctx.signal, timeoutMs: WEB_TIMEOUT_MS };
	ctx.progress("bmc-login", `The server is off: asking the BMC's web API to ${action}`);
	const bmc: BmcSession =
		target.kind === "ami-login"
			? await loginWithPassword(target.url, target.username, target.password, target.tls, request)
			: await loginWithViewerUrl(target.viewerUrl, target.tls, request);
	try {
		await webPowerAction(bmc, action, request);
		const on = await webPowerStatus(bmc, request).catch(() => undefined);
		const state = on === undefined ? "unknown" : on ? "on" : "off";
		return {
			state,
			source: "BMC web API (chassis-status)",
			message: `The BMC at ${bmc.host} accepted the request: the server is ${DONE[action]}.${state === "unknown" ? "" : ` It now reports the server powered ${state}.`}`,
		};
	} finally {
		if (bmc.kind === "login") await logout(bmc, 3_000);
	}
}

function ivtpPower(
	target: AmiViewerTarget | AmiLoginTarget,
	action: PowerAction,
	ctx: CallContext,
	session: SessionRunner,
): Promise<PowerResult> {
	return session(async (s, c) => {
		if (!(s instanceof AmiConsoleSession)) {
			throw new IkvmError("INTERNAL", `amiPower was given a ${s.description} session for a ${target.kind} target.`);
		}
		const host = s.description.replace(/^ami /, "");
		ctx.progress("input", action === "status" ? `Reading the power state from ${host}` : `Asking ${host} to ${action}`);
		const result = await s.power(action, c);
		const source = "IVTP power status (BMC KVM connection)";
		if (action === "status") {
			return { state: result.state, source, message: `The BMC at ${host} reports the server powered ${result.state}.` };
		}
		if (result.answer !== undefined && result.answer !== 0) {
			throw new IkvmError(
				"UPSTREAM",
				`The BMC at ${host} refused the ${action} request (answer code ${result.answer}).`,
				{
					stage: "input",
					hint: "The account may lack power-control privilege, or the host is already in that state; check the BMC's web UI.",
				},
			);
		}
		const observed = result.state === "unknown" ? "" : ` It now reports the server powered ${result.state}.`;
		return {
			state: result.state,
			source,
			message: `The BMC at ${host} accepted the request: the server is ${DONE[action]}.${observed}`,
		};
	});
}
