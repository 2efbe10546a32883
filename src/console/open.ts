/**
 * Chooses the console protocol for a target.
 */

import { openAmiSession } from "../ami/session.ts";
import { IkvmError } from "../errors.ts";
import { redfishDriver } from "../redfish/driver.ts";
import { openVncSession } from "../vnc/session.ts";
import type { ConsoleOpener } from "./types.ts";

export const openConsole: ConsoleOpener = async (target, ctx, limits) => {
	switch (target.kind) {
		case "vnc":
			return openVncSession(target, ctx, limits);
		case "ami-viewer":
		case "ami-login":
			return openAmiSession(target, ctx, limits);
		case "redfish":
			return redfishDriver.open(target, ctx, limits);
		default:
			throw new IkvmError("NOT_SUPPORTED", `Console type "${(target as { kind: string }).kind}" is not supported.`);
	}
};
