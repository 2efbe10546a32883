#!/usr/bin/env bun
/**
 * Server entry: `bun start`, `bun run src/index.ts [--stdio] [--port N] [--host H] [--config F]`.
 * MCP clients launch this file as a command (stdio) or connect to it over HTTP.
 */
import { parseArgs } from "node:util";
import { isIkvmError } from "./errors.ts";
import { serveFromEnvironment } from "./serve.ts";

const USAGE = `Usage: bun run src/index.ts [--stdio] [--port N] [--host H] [--config FILE]

Serves MCP over Streamable HTTP at http://127.0.0.1:3001/mcp (PORT, HOST), or over stdio
with --stdio or MCP_TRANSPORT=stdio.`;

async function main(argv: string[]): Promise<void> {
	let values: { stdio?: boolean; port?: string; host?: string; config?: string; help?: boolean };
	try {
		({ values } = parseArgs({
			args: argv,
			options: {
				stdio: { type: "boolean" },
				port: { type: "string" },
				host: { type: "string" },
				config: { type: "string" },
				help: { type: "boolean", short: "h" },
			},
			allowPositionals: false,
		}));
	} catch (error) {
		process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
		process.exit(2);
	}
	if (values.help) {
		process.stdout.write(`${USAGE}\n`);
		return;
	}
	const port = values.port === undefined ? undefined : Number(values.port);
	if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
		process.stderr.write(`--port must be a number between 0 and 65535\n`);
		process.exit(2);
	}
	await serveFromEnvironment({
		transport: values.stdio ? "stdio" : undefined,
		port,
		host: values.host,
		configPath: values.config,
	});
}

if (import.meta.main) {
	main(process.argv.slice(2)).catch((error) => {
		const message = isIkvmError(error) ? error.toUserMessage() : String(error);
		process.stderr.write(`ikvm-mcp: ${message}\n`);
		process.exit(1);
	});
}
