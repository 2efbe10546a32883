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
import { AmiConsoleSession } from "./session.ts";
import type { AmiLoginTarget, AmiViewerTarget } from "./target.ts";

const DONE: Record<Exclude<PowerAction, "status">, string> = {
	on: "powered on",
	off: "powered off (hard)",
	shutdown: "asked to shut down (ACPI power button; the operating system decides when it powers off)",
	reset: "hard-reset",
	cycle: "power-cycled",
};

export async function amiPower(
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
