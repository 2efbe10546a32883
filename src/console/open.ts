/**
 * Chooses the console protocol for a target.
 */
import { IkvmError } from "../errors.ts";
import type { ConsoleOpener } from "./types.ts";

export const openConsole: ConsoleOpener = async (target) => {
	throw new IkvmError("NOT_SUPPORTED", `Console type "${target.kind}" is not available yet.`);
};
