import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { NOT_CONFIGURED_HELP } from "../../providers/registry.ts";
import { createCallContext } from "../context.ts";
import type { ToolDeps } from "../deps.ts";
import { textBlock, toolError, toolResult } from "../results.ts";

const serverSchema = z.object({
	id: z.string(),
	name: z.string(),
	provider: z.string(),
	datacenter: z.string().nullable(),
	ip: z.string().nullable(),
	manufacturer: z.string().optional().describe("Redfish targets: system manufacturer"),
	model: z.string().optional().describe("Redfish targets: system model"),
	serial: z.string().optional().describe("Redfish targets: serial number"),
	powerState: z.string().optional().describe("Redfish targets: On, Off, PoweringOn, PoweringOff or Paused"),
	health: z.string().optional().describe("Redfish targets: OK, Warning or Critical"),
	bootProgress: z
		.string()
		.optional()
		.describe("Redfish targets: BootProgress.LastState, e.g. OSRunning, SetupEntered (what the screen should show)"),
});

export function registerListServers(server: McpServer, deps: ToolDeps): void {
	server.registerTool(
		"list_servers",
		{
			title: "List servers",
			description:
				"List every bare-metal server or VM whose console this server can show (OVH dedicated servers, " +
				"configured VNC, AMI BMC and Redfish targets). Returns a JSON array of {id, name, provider, datacenter, ip}, " +
				"plus for Redfish BMCs manufacturer, model, serial, powerState, health and bootProgress when known; " +
				"pass an id to get_screenshot. Cheap: no console is opened.",
			inputSchema: {},
			outputSchema: { servers: z.array(serverSchema) },
			annotations: { readOnlyHint: true, openWorldHint: true, idempotentHint: true },
		},
		async (_args, extra) => {
			try {
				const ctx = createCallContext(extra, deps.toolTimeoutMs);
				const { servers, errors } = await deps.registry.listServers(ctx);
				const content = [textBlock(JSON.stringify(servers, null, 2))];
				if (deps.registry.isEmpty) content.push(textBlock(NOT_CONFIGURED_HELP));
				for (const e of errors) content.push(textBlock(`Provider ${e.provider} failed: ${e.message}`));
				return toolResult(deps, content, { servers });
			} catch (error) {
				return toolError(error, "list_servers");
			}
		},
	);
}
