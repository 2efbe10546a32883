/**
 * Shapes tool results. Errors become `isError` results with a redacted,
 * actionable message; they never escape as protocol errors or crashes.
 */
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { toIkvmError } from "../errors.ts";
import { log } from "../log.ts";
import { redact } from "../redact.ts";

export function textBlock(text: string): { type: "text"; text: string } {
	return { type: "text", text: redact(text) };
}

export function toolError(error: unknown, tool: string): CallToolResult {
	const e = toIkvmError(error);
	if (e.code === "INTERNAL") log.error(`${tool} failed`, { error: e.message, stack: (e.cause as Error)?.stack });
	else log.warn(`${tool} failed`, { code: e.code, stage: e.stage, error: e.message });
	return { isError: true, content: [textBlock(`Error (${e.code}): ${e.toUserMessage()}`)] };
}
