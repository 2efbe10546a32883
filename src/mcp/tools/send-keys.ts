import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import type { AuditEntry } from "../../control/audit.ts";
import { IkvmError, toIkvmError } from "../../errors.ts";
import { planKeys } from "../../input/resolve.ts";
import { afterInput, type Block, thenSchema } from "../after-input.ts";
import { createCallContext } from "../context.ts";
import {
	auditedFailure,
	auditFields,
	type ControlCall,
	type ControlRuntime,
	confirmDestructive,
	notDelivered,
	targetControl,
} from "../control.ts";
import type { ToolDeps } from "../deps.ts";
import { textBlock, toolError, toolResult } from "../results.ts";
import { serverIdSchema } from "../schemas.ts";

export function registerSendKeys(server: McpServer, deps: ToolDeps, control: ControlRuntime): void {
	server.registerTool(
		"send_keys",
		{
			title: "Type on a server's console (keyboard)",
			description:
				"Type keys on one server's console: a login, a GRUB edit, an fsck answer, a shell command. Look first: call " +
				"get_screen_text (cheap) to see what the console shows, and type only what the screen asks for. keys is plain " +
				"text plus {Enter} {Tab} {Esc} {Backspace} {Delete} {Insert} {Home} {End} {PageUp} {PageDown} {Up} {Down} " +
				"{Left} {Right} {Space} {F1}…{F12} {PrintScreen} {Pause}; chords like {Ctrl+C} {Alt+F2} {Shift+Tab} {Meta+R} " +
				"{Ctrl+Alt+Delete} {Alt+SysRq+b}; {{ and }} for literal braces; {wait 500} pauses (ms); {secret NAME} types a " +
				"password the operator configured, which you never see. The whole string is checked before anything is typed. " +
				"Ctrl+Alt+Delete and Alt+SysRq chords need the user's confirmation. Returns the screen text afterwards " +
				"(then: text, screenshot or none).",
			inputSchema: {
				serverId: serverIdSchema,
				keys: z
					.string()
					.min(1)
					.max(65536)
					.describe("Keys in the notation above, e.g. 'root{Enter}{wait 500}{secret ROOT}{Enter}'"),
				// biome-ignore lint/suspicious/noThenProperty: the tool's argument is called "then" (issue 17); it is no promise
				then: thenSchema
					.default("text")
					.describe("What to return after typing: the screen text (default), a screenshot, or nothing"),
				settleMs: z
					.number()
					.int()
					.min(0)
					.max(10_000)
					.default(500)
					.describe("How long the console may react before the screen is read, ms"),
				confirm: z
					.string()
					.optional()
					.describe(
						"For Ctrl+Alt+Delete or Alt+SysRq when the client cannot ask the user: the serverId, once the user agreed",
					),
			},
			annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
		},
		async ({ serverId, keys, then, settleMs, confirm }, extra) => {
			const call: ControlCall = { server, session: deps.session, extra, serverId, tool: "send_keys", action: "type" };
			const ctx = createCallContext(extra, deps.toolTimeoutMs);
			let entry: Omit<AuditEntry, "time"> | undefined;
			let described: string | undefined;
			let confirmedBy: AuditEntry["confirmedBy"];
			let typed = 0;
			try {
				const target = await targetControl(deps.registry, control, "keyboard", serverId, ctx);
				const plan = planKeys(keys, {
					layout: target.keyboardLayout,
					secret: (name) => control.secrets.get(name),
					keyDelayMs: control.keyDelayMs,
				});
				described = plan.description;
				if (plan.destructive.length > 0) {
					const info = await deps.registry.serverInfo(serverId, ctx);
					confirmedBy = await confirmDestructive(call, info, `press ${plan.destructive.join(", ")}`, confirm, ctx);
				}
				const outcome = await deps.registry.use(
					serverId,
					ctx,
					(session, c) => {
						if (!session.sendKeys) {
							throw new IkvmError(
								"NOT_SUPPORTED",
								`The console of "${serverId}" (${session.description}) cannot type.`,
								{
									hint: "This console protocol has no keyboard input in this build.",
								},
							);
						}
						return session.sendKeys(plan.steps, c);
					},
					// Input is never merged with another call and never replayed: it may have reached the host.
					{ idempotent: false },
				);
				typed = outcome.sent;
				entry = {
					...auditFields(call),
					keys: described,
					outcome: outcome.status,
					...(outcome.reason ? { reason: outcome.reason } : {}),
					...(confirmedBy ? { confirmedBy } : {}),
				};
				control.audit.record(entry);
				if (outcome.status === "not-delivered") return notDelivered(serverId, outcome.reason);
			} catch (error) {
				if (entry) return toolError(error, "send_keys", [serverId]);
				return auditedFailure(control, call, error, "send_keys", {
					...(described ? { keys: described } : {}),
					...(confirmedBy ? { confirmedBy } : {}),
				});
			}
			const content: Block[] = [textBlock(`Typed ${typed} keystrokes on ${serverId}: ${described}.`)];
			try {
				content.push(...(await afterInput(deps.registry, serverId, then, settleMs, ctx, deps.session)));
			} catch (error) {
				const e = toIkvmError(error);
				content.push(
					textBlock(`The keys were typed, but reading the screen afterwards failed (${e.code}): ${e.toUserMessage()}`),
				);
			}
			return toolResult(deps, content);
		},
	);
}
