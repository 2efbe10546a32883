/**
 * Shapes tool results, in one place for every tool: content blocks, structured
 * content, the notice (demo mode) on every result, redaction of every part, and
 * errors as `isError` results with a redacted, actionable message — never a
 * protocol error or a crash.
 */
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { toIkvmError } from "../errors.ts";
import type { Frame, Region } from "../frame.ts";
import { renderShared } from "../image/shared-render.ts";
import { log } from "../log.ts";
import { redact } from "../redact.ts";
import type { ToolDeps } from "./deps.ts";

export type ContentBlock = { type: "text"; text: string } | { type: "image"; data: string; mimeType: string };

/** `keep`: the caller's own input (a serverId it sent), shown back as it was sent. */
export function textBlock(text: string, keep: readonly string[] = []): { type: "text"; text: string } {
	return { type: "text", text: redact(text, keep) };
}

/** A frame as a PNG image block plus the caption saying its size and scale. */
export async function imageBlocks(
	frame: Frame,
	options: { raw: boolean; region?: Region },
	label: string,
): Promise<ContentBlock[]> {
	const { png, caption } = await renderShared(frame, options);
	return [{ type: "image", data: png.toString("base64"), mimeType: "image/png" }, textBlock(`${label}${caption}`)];
}

/** Keys whose values are names the user gave or chose, never screen content: left as they are. */
const NAME_KEYS = new Set(["id", "serverId", "name", "provider", "datacenter", "ip"]);

/** Redacts every string of structured content except ids and names. */
function redactDeep(value: unknown, key?: string): unknown {
	if (typeof value === "string") return key !== undefined && NAME_KEYS.has(key) ? value : redact(value);
	if (Array.isArray(value)) return value.map((v) => redactDeep(v));
	if (value && typeof value === "object") {
		return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v, k)]));
	}
	return value;
}

/** A successful result: the blocks, the notice last, structured content redacted like the text. */
export function toolResult(
	deps: Pick<ToolDeps, "notice">,
	content: ContentBlock[],
	structuredContent?: Record<string, unknown>,
): CallToolResult {
	const blocks = [...content];
	if (deps.notice) blocks.push(textBlock(deps.notice));
	return {
		content: blocks,
		...(structuredContent ? { structuredContent: redactDeep(structuredContent) as Record<string, unknown> } : {}),
	};
}

export function toolError(error: unknown, tool: string, keep: readonly string[] = []): CallToolResult {
	const e = toIkvmError(error);
	if (e.code === "INTERNAL") log.error(`${tool} failed`, { error: e.message, stack: (e.cause as Error)?.stack });
	else log.warn(`${tool} failed`, { code: e.code, stage: e.stage, error: e.message });
	return { isError: true, content: [textBlock(`Error (${e.code}): ${e.toUserMessage()}`, keep)] };
}
