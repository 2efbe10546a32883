/**
 * What the control tools (send_keys, mouse, power) share: the operator's
 * settings, the audit, confirmation of destructive acts, and the run of one
 * audited call from the permission check to the audit line.
 */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { CallContext } from "../call-context.ts";
import type { ControlKind } from "../config.ts";
import type { AuditEntry, AuditLog, AuditOutcome } from "../control/audit.ts";
import { checkControlAllowed } from "../control/policy.ts";
import { IkvmError, toIkvmError } from "../errors.ts";
import type { ProviderRegistry } from "../providers/registry.ts";
import type { ServerInfo, TargetControl } from "../providers/types.ts";
import type { ToolExtra } from "./context.ts";
import { textBlock, toolError } from "./results.ts";
import type { SessionState } from "./session.ts";

export interface ControlRuntime {
	/** What the operator enabled (IKVM_CONTROL); empty: no control tool is registered. */
	readonly allowed: ReadonlySet<ControlKind>;
	readonly audit: AuditLog;
	readonly keyDelayMs: number;
	/** IKVM_SECRET_<NAME> values by NAME. */
	readonly secrets: ReadonlyMap<string, string>;
	/** Mouse buttons a `down` left held, per server (the console's state, not a session's). */
	readonly heldButtons: Map<string, number>;
}

export interface ControlCall {
	readonly server: McpServer;
	readonly session: SessionState | undefined;
	readonly extra: ToolExtra;
	readonly serverId: string;
	readonly tool: AuditEntry["tool"];
	readonly action: string;
}

/** The part of an audit line that says who asked for what. */
export function auditFields(call: ControlCall): Omit<AuditEntry, "time" | "outcome"> {
	return {
		session: call.extra.sessionId ?? null,
		client: call.server.server.getClientVersion()?.name ?? null,
		remote: call.session?.info.remoteAddress ?? null,
		serverId: call.serverId,
		tool: call.tool,
		action: call.action,
	};
}

/** A call stopped by the safety model or the user: nothing was sent. */
export class Refusal extends IkvmError {
	constructor(message: string, hint: string) {
		super("ACCESS_DENIED", message, { hint });
	}
}

/** The target's switch for `kind`, checked together with the operator's; throws a Refusal naming what is missing. */
export async function targetControl(
	registry: ProviderRegistry,
	runtime: ControlRuntime,
	kind: ControlKind,
	serverId: string,
	ctx: CallContext,
): Promise<TargetControl> {
	const target = await registry.control(serverId, ctx);
	try {
		checkControlAllowed(kind, serverId, runtime.allowed, target);
	} catch (error) {
		const e = error as IkvmError;
		throw new Refusal(e.message, e.hint ?? "");
	}
	return target;
}

/**
 * Asks before a destructive act. With the client's elicitation capability the user is asked
 * (server name, provider, datacenter, action) and only an explicit accept goes on; otherwise the call
 * must carry `confirm` equal to the serverId. Throws a Refusal, having sent nothing, in every other case.
 */
export async function confirmDestructive(
	call: ControlCall,
	info: ServerInfo,
	what: string,
	confirm: string | undefined,
	ctx: CallContext,
): Promise<"elicitation" | "confirm"> {
	const where = [
		`server "${info.name}" (${info.id})`,
		`provider ${info.provider}`,
		...(info.datacenter ? [`datacenter ${info.datacenter}`] : []),
	].join(", ");
	if (call.server.server.getClientCapabilities()?.elicitation?.form) {
		let answer: Awaited<ReturnType<McpServer["server"]["elicitInput"]>>;
		try {
			answer = await call.server.server.elicitInput(
				{
					mode: "form",
					message: `ikvm-mcp is about to ${what} on ${where}. This cannot be undone. Allow it?`,
					requestedSchema: {
						type: "object",
						properties: {
							confirm: { type: "boolean", title: `Yes, ${what} on ${info.id}`, default: false },
						},
						required: ["confirm"],
					},
				},
				{ signal: ctx.signal },
			);
		} catch (error) {
			throw new Refusal(
				`Could not ask the user to confirm: ${toIkvmError(error).message}`,
				"Nothing was sent. Try again; the user must accept the confirmation.",
			);
		}
		if (answer.action === "accept" && answer.content?.confirm === true) return "elicitation";
		const how = { accept: "did not tick the confirmation for", decline: "declined", cancel: "cancelled" }[
			answer.action
		];
		throw new Refusal(
			`The user ${how} the request to ${what} on ${info.id}.`,
			"Nothing was sent. Do not retry unless the user asks.",
		);
	}
	if (confirm === info.id) return "confirm";
	throw new Refusal(
		`To ${what} on ${where} needs confirmation${confirm === undefined ? "" : ": confirm does not match the serverId"}.`,
		`Nothing was sent. Ask the user first; if they agree, call again with confirm set to the serverId ("${info.id}").`,
	);
}

/** The audit outcome of a call that threw. */
export function outcomeOf(error: unknown): AuditOutcome {
	return error instanceof Refusal ? "refused" : "error";
}

/** The answer to input the console did not take (a view-only session, another viewer in control). */
export function notDelivered(serverId: string, reason: string | undefined): CallToolResult {
	return {
		isError: true,
		content: [textBlock(`Not delivered to ${serverId}: ${reason ?? "the console did not accept input."}`)],
	};
}

/**
 * The answer to a control call that threw: its audit line (unless one was written already) and the
 * tool error. A failure to write the audit line is the answer instead: no act goes unrecorded.
 */
export function auditedFailure(
	control: ControlRuntime,
	call: ControlCall,
	error: unknown,
	tool: string,
	extra: Partial<AuditEntry> = {},
): CallToolResult {
	const e = toIkvmError(error);
	try {
		control.audit.record({
			...auditFields(call),
			...extra,
			outcome: outcomeOf(error),
			reason: `${e.code}: ${e.message}`,
		});
	} catch (auditError) {
		return toolError(auditError, tool, [call.serverId]);
	}
	return toolError(error, tool, [call.serverId]);
}
