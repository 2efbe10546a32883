/**
 * Power over VNC: only through the XVP extension (shutdown = ACPI power button,
 * reset = hard reset), and only when the server announced it. RFB itself has no
 * power control and XVP reports no power state.
 */
import type { CallContext } from "../call-context.ts";
import type { SessionRunner } from "../console/driver.ts";
import { IkvmError } from "../errors.ts";
import type { PowerAction, PowerResult } from "../input/types.ts";
import { VncSession } from "./session.ts";
import type { VncTarget } from "./target.ts";

const SUPPORTED = "shutdown and reset (through the server's XVP extension)";

export async function vncPower(
	target: VncTarget,
	action: PowerAction,
	ctx: CallContext,
	session: SessionRunner,
): Promise<PowerResult> {
	if (action !== "shutdown" && action !== "reset") {
		throw new IkvmError("NOT_SUPPORTED", `Power "${action}" is not supported on a VNC console.`, {
			stage: "input",
			hint: `VNC can at most ask for ${SUPPORTED}, and reports no power state. Use the hypervisor, BMC or provider for ${action}.`,
		});
	}
	return session(async (s, c) => {
		if (!(s instanceof VncSession)) {
			throw new IkvmError("INTERNAL", `vncPower was given a ${s.description} session for a ${target.kind} target.`);
		}
		ctx.progress("input", `Asking ${s.description} for an XVP ${action}`);
		await s.power(action, c);
		return {
			state: "unknown",
			source: "VNC XVP",
			message:
				action === "shutdown"
					? `The VNC server accepted an XVP shutdown (the guest's OS decides when it powers off).`
					: `The VNC server accepted an XVP reset: the machine restarts.`,
		};
	});
}
