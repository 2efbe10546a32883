/**
 * How the doctor checks that a configured console answers, per target kind.
 */
import { IkvmError } from "../../errors.ts";
import type { TargetProbe } from "./types.ts";

const notYet: TargetProbe = async (target) => {
	throw new IkvmError("NOT_SUPPORTED", `Checking ${target.kind} targets is not available in this build.`);
};

export const DEFAULT_TARGET_PROBES: Record<string, TargetProbe> = {
	vnc: notYet,
	"ami-login": notYet,
	"ami-viewer": notYet,
};
