/**
 * Shapes tool results. Errors become `isError` results with a redacted,
 * actionable message; they never escape as protocol errors or crashes.
 */
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { toIkvmError } from "../errors.ts";
import { log } from "../log.ts";
import { redact } from "../redact.ts";

/** `keep`: the caller's own input (a serverId it sent), shown back as it was sent. */
export function textBlock(text: string, keep: readonly string[] = []): { type: "text"; text: string } {
	return { type: "text", text: redact(text, keep) };
}

export function toolError(error: unknown, tool: string, keep: readonly string[] = []): CallToolResult {
	const e = toIkvmError(error);
	if (e.code === "INTERNAL") log.error(`${tool} failed`, { error: e.message, stack: (e.cause as Error)?.stack });
	else log.warn(`${tool} failed`, { code: e.code, stage: e.stage, error: e.message });
	return { isError: true, content: [textBlock(`Error (${e.code}): ${e.toUserMessage()}`, keep)] };
}
