/**
 * Chooses the console protocol for a target.
 */
import { IkvmError } from "../errors.ts";
import { openAmiSession } from "../kvm/screenshot.ts";
import type { ConsoleOpener } from "./types.ts";

export const openConsole: ConsoleOpener = async (target, ctx, limits) => {
	switch (target.kind) {
		case "ami-viewer":
		case "ami-login":
			return openAmiSession(target, ctx, limits);
		default:
			throw new IkvmError("NOT_SUPPORTED", `Console type "${target.kind}" is not available yet.`);
	}
};
