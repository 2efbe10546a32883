#!/usr/bin/env bun
/**
 * `bun run demo`: the MCP server with simulated hardware, for trying ikvm-mcp
 * without OVH credentials or a BMC. Same HTTP endpoint and tools as `bun start`.
 */
import { isIkvmError } from "../errors.ts";
import { log } from "../log.ts";
import { serveFromEnvironment } from "../serve.ts";
import { DEMO_NOTICE, startDemoBackends } from "./backends.ts";

async function main(): Promise<void> {
	const backends = await startDemoBackends();
	try {
		await serveFromEnvironment(
			// Providers are given, so the user's OVH variables and targets file are not used.
			{},
			{ providers: backends.providers, notice: DEMO_NOTICE, onClose: backends.stop },
		);
	} catch (error) {
		await backends.stop();
		throw error;
	}
	const port = process.env.PORT || "3001";
	log.info(
		`demo: 6 simulated servers. Connect: claude mcp add ikvm-demo --transport http http://localhost:${port}/mcp`,
	);
}

main().catch((error) => {
	process.stderr.write(`ikvm-mcp demo: ${isIkvmError(error) ? error.toUserMessage() : String(error)}\n`);
	process.exit(1);
});
