#!/usr/bin/env bun
/**
 * Server entry: `bun start`, `bun run src/index.ts [--stdio] [--port N] [--host H] [--config FILE]`.
 * MCP clients launch this file as a command (stdio) or connect to it over HTTP.
 * Same as `ikvm-mcp serve`.
 */
import { main } from "./cli.ts";

if (import.meta.main) main(["serve", ...process.argv.slice(2)]);
