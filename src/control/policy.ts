/**
 * The two switches every control call needs: the operator's (IKVM_CONTROL or
 * --control, for the whole server) and the target's (a targets-file `control`
 * field, IKVM_CONTROL_SERVERS for OVH). A refusal names the one that is missing.
 */
import type { ControlKind } from "../config.ts";
import { IkvmError } from "../errors.ts";
import type { LayoutName } from "../input/layouts.ts";

/** What one target allows, from its own switch. */
export interface TargetControl {
	readonly allowed: ReadonlySet<ControlKind>;
	readonly keyboardLayout: LayoutName;
	/** Where this permission is set, for a refusal, e.g. 'the "control" field of target "x" in the targets file'. */
	readonly switchName: string;
}

export function checkControlAllowed(
	kind: ControlKind,
	serverId: string,
	global: ReadonlySet<ControlKind>,
	target: TargetControl,
): void {
	const missing: string[] = [];
	if (!global.has(kind)) missing.push(`IKVM_CONTROL (or --control) does not include ${kind}`);
	if (!target.allowed.has(kind)) missing.push(`${target.switchName} does not allow ${kind} on "${serverId}"`);
	if (missing.length === 0) return;
	throw new IkvmError(
		"ACCESS_DENIED",
		`${capitalise(kind)} control of "${serverId}" is not allowed: ${missing.join("; ")}.`,
		{
			hint: "Only the operator of ikvm-mcp can change this (see README, 'Control'). Nothing was sent.",
		},
	);
}

function capitalise(s: string): string {
	return s.charAt(0).toUpperCase() + s.slice(1);
}
