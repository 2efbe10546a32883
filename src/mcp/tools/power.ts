import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import type { AuditEntry } from "../../control/audit.ts";
import type { PowerAction } from "../../input/types.ts";
import { createCallContext } from "../context.ts";
import {
	auditedFailure,
	auditFields,
	type ControlCall,
	type ControlRuntime,
	confirmDestructive,
	targetControl,
} from "../control.ts";
import type { ToolDeps } from "../deps.ts";
import { textBlock, toolError, toolResult } from "../results.ts";
import { serverIdSchema } from "../schemas.ts";

const WHAT: Record<Exclude<PowerAction, "status">, string> = {
	on: "power on",
	off: "power off (hard, like pulling the plug)",
	shutdown: "shut down (ACPI soft off)",
	reset: "reset (hard reboot)",
	cycle: "power cycle (off, then on)",
};

export function registerPower(server: McpServer, deps: ToolDeps, control: ControlRuntime): void {
	server.registerTool(
		"power",
		{
			title: "Server power (status, on, off, reset)",
			description:
				"Read or switch one server's power: status (on/off/unknown and where that was read), on, off (hard), " +
				"shutdown (ACPI soft off), reset (hard) or cycle. Before anything but status, look at the console with " +
				"get_screen_text or get_screenshot: a server that is only slow, or waiting at a prompt, needs keys, not a " +
				"reset. Every action but status needs the user's confirmation and may lose unsaved data.",
			inputSchema: {
				serverId: serverIdSchema,
				action: z.enum(["status", "on", "off", "shutdown", "reset", "cycle"]),
				confirm: z
					.string()
					.optional()
					.describe("When the client cannot ask the user: the serverId, once the user agreed to this action"),
			},
			annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
		},
		async ({ serverId, action, confirm }, extra) => {
			const call: ControlCall = { server, session: deps.session, extra, serverId, tool: "power", action };
			const ctx = createCallContext(extra, deps.toolTimeoutMs);
			let confirmedBy: AuditEntry["confirmedBy"];
			let audited = false;
			try {
				await targetControl(deps.registry, control, "power", serverId, ctx);
				if (action !== "status") {
					const info = await deps.registry.serverInfo(serverId, ctx);
					confirmedBy = await confirmDestructive(call, info, WHAT[action], confirm, ctx);
				}
				const result = await deps.registry.power(serverId, action, ctx);
				audited = true;
				control.audit.record({
					...auditFields(call),
					outcome: "delivered",
					reason: `state ${result.state} (${result.source})`,
					...(confirmedBy ? { confirmedBy } : {}),
				});
				const content = [
					textBlock(
						`Power ${action} on ${serverId}: ${result.message} State: ${result.state} (source: ${result.source}).`,
					),
				];
				return toolResult(deps, content, { state: result.state, source: result.source, message: result.message });
			} catch (error) {
				if (audited) return toolError(error, "power", [serverId]);
				return auditedFailure(control, call, error, "power", confirmedBy ? { confirmedBy } : {});
			}
		},
	);
}
