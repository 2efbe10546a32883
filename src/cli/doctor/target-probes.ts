/**
 * How the doctor checks that a configured console answers, per target kind.
 */
import type { TargetProbe } from "./types.ts";

export const DEFAULT_TARGET_PROBES: Partial<Record<string, TargetProbe>> = {};
