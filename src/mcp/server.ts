/**
 * One McpServer per MCP session, with every tool registered on it.
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { VERSION } from "../version.ts";
import type { CallGate } from "./calls.ts";
import type { ToolExtra } from "./context.ts";
import type { ToolDeps } from "./deps.ts";
import { registerGetScreenText } from "./tools/get-screen-text.ts";
import { registerGetScreenshot } from "./tools/get-screenshot.ts";
import { registerListServers } from "./tools/list-servers.ts";
import { registerWaitForScreen } from "./tools/wait-for-screen.ts";

export type { ToolDeps } from "./deps.ts";

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
	const tools = deps.calls ? trackedTools(server, deps.calls) : server;
	registerListServers(tools, deps);
	registerGetScreenshot(tools, deps);
	registerGetScreenText(tools, deps);
	registerWaitForScreen(tools, deps);
	return server;
}

type AnyToolCallback = (...args: unknown[]) => unknown;

/**
 * The server as tools see it, with every handler counted by `calls` and its
 * `extra.signal` aborted when shutdown begins — so each tool, present or
 * future, is stopped cleanly without knowing about shutdown.
 */
function trackedTools(server: McpServer, calls: CallGate): McpServer {
	const register = server.registerTool.bind(server) as unknown as (
		name: string,
		config: unknown,
		cb: AnyToolCallback,
	) => unknown;
	return new Proxy(server, {
		get(target, property, receiver) {
			if (property !== "registerTool") return Reflect.get(target, property, receiver);
			return (name: string, config: unknown, cb: AnyToolCallback) =>
				register(name, config, (...args: unknown[]) =>
					calls.track(async () => {
						// The SDK passes `extra` last: (args, extra) or (extra) for tools without input.
						const last = args.length - 1;
						const extra = args[last] as ToolExtra;
						args[last] = { ...extra, signal: AbortSignal.any([extra.signal, calls.signal]) };
						return cb(...args);
					}),
				);
		},
	});
}
