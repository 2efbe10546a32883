/**
 * One McpServer per MCP session, with every tool registered on it.
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { ProviderRegistry } from "../providers/registry.ts";
import { VERSION } from "../version.ts";
import { registerGetScreenText } from "./tools/get-screen-text.ts";
import { registerGetScreenshot } from "./tools/get-screenshot.ts";
import { registerListServers } from "./tools/list-servers.ts";
import { registerWaitForScreen } from "./tools/wait-for-screen.ts";

export interface ToolDeps {
	registry: ProviderRegistry;
	/** Deadline of a whole tool call. */
	toolTimeoutMs: number;
	/** Added to every tool result, e.g. to announce demo mode. */
	notice?: string;
}

export function createMcpServer(deps: ToolDeps): McpServer {
	const server = new McpServer(
		{ name: "ikvm-mcp", version: VERSION },
		{
			capabilities: { tools: {}, logging: {} },
			instructions:
				"Console access to bare-metal servers. Call list_servers, then get_screen_text (cheap, exact on text consoles) " +
				"or get_screenshot (an image) with a serverId; wait_for_screen watches for text or for the screen to settle.",
		},
	);
	registerListServers(server, deps);
	registerGetScreenshot(server, deps);
	registerGetScreenText(server, deps);
	registerWaitForScreen(server, deps);
	return server;
}
