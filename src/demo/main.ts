#!/usr/bin/env bun
/**
 * `bun run demo`: the MCP server with simulated hardware, for trying ikvm-mcp
 * without OVH credentials or a BMC. Same HTTP endpoint and tools as `bun start`; `--stdio`
 * serves MCP on stdin/stdout instead, for clients that launch it as a command.
 */
import { isIkvmError } from "../errors.ts";
import { log } from "../log.ts";
import { type Running, serveFromEnvironment } from "../serve.ts";
import { DEMO_NOTICE, startDemoBackends } from "./backends.ts";

async function main(): Promise<void> {
	const stdio = process.argv.slice(2).includes("--stdio");
	const backends = await startDemoBackends();
	let running: Running;
	try {
		running = await serveFromEnvironment(
			// Providers are given, so the user's OVH variables and targets file are not used.
			{ transport: stdio ? "stdio" : undefined },
			{ providers: backends.providers, notice: DEMO_NOTICE, onClose: backends.stop },
		);
	} catch (error) {
		await backends.stop();
		throw error;
	}
	// Over stdio the client that launched us is already connected: an HTTP hint would mislead.
	const count = backends.serverCount;
	if (running.http) {
		log.info(
			`demo: ${count} simulated servers. Connect: claude mcp add ikvm-demo --transport http ${running.http.url}`,
		);
	} else {
		log.info(`demo: ${count} simulated servers, serving MCP over stdio`);
	}
}

main().catch((error) => {
	process.stderr.write(`ikvm-mcp demo: ${isIkvmError(error) ? error.toUserMessage() : String(error)}\n`);
	process.exit(1);
});
