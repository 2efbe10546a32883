import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import type { AuditEntry } from "../../control/audit.ts";
import { IkvmError, toIkvmError } from "../../errors.ts";
import { MAX_SCROLL, planPointer } from "../../input/pointer.ts";
import { afterInput, type Block, thenSchema } from "../after-input.ts";
import { createCallContext } from "../context.ts";
import {
	auditedFailure,
	auditFields,
	type ControlCall,
	type ControlRuntime,
	notDelivered,
	targetControl,
} from "../control.ts";
import type { ToolDeps } from "../deps.ts";
import { textBlock, toolError, toolResult } from "../results.ts";
import { serverIdSchema } from "../schemas.ts";
import type { ScreenshotGeometry } from "../session.ts";

const SETTLE_MS = 300;

function bad(message: string, hint: string): never {
	throw new IkvmError("BAD_INPUT", message, { hint: `${hint} Nothing was sent.` });
}

/** Image pixels of the last screenshot → framebuffer pixels; checked against the image. */
function toFramebuffer(x: number, y: number, shot: ScreenshotGeometry): { x: number; y: number } {
	if (x >= shot.width || y >= shot.height) {
		bad(
			`x=${x}, y=${y} is outside the last screenshot image (${shot.width}x${shot.height}).`,
			'Give pixels of that image, or space "console" for framebuffer pixels.',
		);
	}
	const { region, scale } = shot;
	return {
		x: Math.min(region.x + region.width - 1, region.x + Math.floor(x / scale)),
		y: Math.min(region.y + region.height - 1, region.y + Math.floor(y / scale)),
	};
}

export function registerMouse(server: McpServer, deps: ToolDeps, control: ControlRuntime): void {
	server.registerTool(
		"mouse",
		{
			title: "Click on a server's console (mouse)",
			description:
				"Move, click, press, release or scroll the mouse on one server's console (graphical installers, BIOS setup " +
				"screens with a pointer). Look first with get_screenshot: x and y are pixels of the last get_screenshot image " +
				"of this server in this session (its text block states the scale), or framebuffer pixels with space " +
				'"console" or before any screenshot. On a text console prefer send_keys. action: click, double_click, move, ' +
				"down, up (down and up drag across calls), scroll (amount notches, positive = down). Returns a screenshot " +
				"afterwards unless then says otherwise.",
			inputSchema: {
				serverId: serverIdSchema,
				action: z.enum(["click", "double_click", "move", "down", "up", "scroll"]),
				x: z
					.number()
					.int()
					.min(0)
					.max(65535)
					.describe("Pixels from the left of the last screenshot image (or the framebuffer)"),
				y: z.number().int().min(0).max(65535).describe("Pixels from the top"),
				button: z.enum(["left", "right", "middle"]).default("left"),
				amount: z
					.number()
					.int()
					.min(-MAX_SCROLL)
					.max(MAX_SCROLL)
					.optional()
					.describe("scroll: notches, positive = down (default 1)"),
				space: z
					.enum(["image", "console"])
					.optional()
					.describe(
						'"image" (default when a screenshot was taken): pixels of the last screenshot; "console": framebuffer pixels',
					),
				// biome-ignore lint/suspicious/noThenProperty: the tool's argument is called "then" (issue 17); it is no promise
				then: thenSchema
					.default("screenshot")
					.describe("What to return afterwards: a screenshot (default), the screen text, or nothing"),
			},
			annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
		},
		async ({ serverId, action, x, y, button, amount, space, then }, extra) => {
			const call: ControlCall = { server, session: deps.session, extra, serverId, tool: "mouse", action };
			const ctx = createCallContext(extra, deps.toolTimeoutMs);
			let entry: Omit<AuditEntry, "time"> | undefined;
			let where: string | undefined;
			let at = { x, y };
			try {
				await targetControl(deps.registry, control, "mouse", serverId, ctx);
				const shot = space === "console" ? undefined : deps.session?.lastScreenshot(serverId);
				if (space === "image" && !shot) {
					bad(
						`No screenshot of "${serverId}" was taken in this session.`,
						'Call get_screenshot first, or use space "console".',
					);
				}
				if (shot) at = toFramebuffer(x, y, shot);
				where = `${action === "scroll" ? `scroll ${amount ?? 1}` : button} at ${at.x},${at.y}`;
				const held = control.heldButtons.get(serverId) ?? 0;
				const plan = planPointer(action, at.x, at.y, { button, amount, held });
				const outcome = await deps.registry.use(
					serverId,
					ctx,
					(session, c) => {
						if (!session.pointer) {
							throw new IkvmError(
								"NOT_SUPPORTED",
								`The console of "${serverId}" (${session.description}) has no mouse.`,
								{
									hint: "This console protocol has no pointer input in this build; use send_keys.",
								},
							);
						}
						const size = session.screenSize;
						if (size && (at.x >= size.width || at.y >= size.height)) {
							bad(
								`Framebuffer point ${at.x},${at.y} is outside the screen (${size.width}x${size.height}).`,
								shot
									? "The screen changed size since the last screenshot: take a new one."
									: "Check the framebuffer size with get_screenshot.",
							);
						}
						return session.pointer(plan.steps, c);
					},
					// Input is never merged with another call and never replayed: it may have reached the host.
					{ idempotent: false },
				);
				control.heldButtons.set(serverId, outcome.status === "delivered" ? plan.held : 0);
				entry = {
					...auditFields(call),
					keys: where,
					outcome: outcome.status,
					...(outcome.reason ? { reason: outcome.reason } : {}),
				};
				control.audit.record(entry);
				if (outcome.status === "not-delivered") return notDelivered(serverId, outcome.reason);
			} catch (error) {
				if (entry) return toolError(error, "mouse", [serverId]);
				control.heldButtons.delete(serverId);
				return auditedFailure(control, call, error, "mouse", where ? { keys: where } : {});
			}
			const content: Block[] = [textBlock(`Mouse ${action} on ${serverId}: ${where} (framebuffer pixels).`)];
			try {
				content.push(...(await afterInput(deps.registry, serverId, then, SETTLE_MS, ctx, deps.session)));
			} catch (error) {
				const e = toIkvmError(error);
				content.push(
					textBlock(
						`The mouse action was sent, but looking at the screen afterwards failed (${e.code}): ${e.toUserMessage()}`,
					),
				);
			}
			return toolResult(deps, content);
		},
	);
}
