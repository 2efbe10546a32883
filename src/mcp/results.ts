/**
 * Shapes tool results, in one place for every tool: content blocks, structured
 * content, the notice (demo mode) on every result, redaction of every part, and
 * errors as `isError` results with a redacted, actionable message — never a
 * protocol error or a crash.
 */
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { toIkvmError } from "../errors.ts";
import type { Frame, Region } from "../frame.ts";
import type { RenderedScreenshot } from "../image/render.ts";
import { renderShared } from "../image/shared-render.ts";
import { log } from "../log.ts";
import { redact } from "../redact.ts";
import { LOW_LINE_CONFIDENCE, type ScreenText } from "../text/index.ts";
import type { ToolDeps } from "./deps.ts";

export type ContentBlock = { type: "text"; text: string } | { type: "image"; data: string; mimeType: string };

/** `keep`: the caller's own input (a serverId it sent), shown back as it was sent. */
export function textBlock(text: string, keep: readonly string[] = []): { type: "text"; text: string } {
	return { type: "text", text: redact(text, keep) };
}

/**
 * A frame as a PNG image block plus the caption saying its size and scale; `onShot` learns how the
 * image maps to the framebuffer (mouse takes coordinates in the last image).
 */
export async function imageBlocks(
	frame: Frame,
	options: { raw: boolean; region?: Region },
	label: string,
	onShot?: (shot: RenderedScreenshot) => void,
): Promise<ContentBlock[]> {
	const shot = await renderShared(frame, options);
	onShot?.(shot);
	const { png, caption } = shot;
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

/**
 * For OCR text read with low confidence: which lines to doubt, and the region that zooms into
 * each. A screenshot of a region is enlarged up to 4x for the vision model; OCR of the same
 * region reads no better (measured on the demo's UEFI screen), so the note points to get_screenshot.
 */
export function lowConfidenceNote(text: ScreenText): string | undefined {
	if (text.method !== "ocr") return undefined;
	const lines = text.uncertain ?? [];
	if (lines.length === 0 && text.confidence >= LOW_LINE_CONFIDENCE) return undefined;
	const zoom = "look at them zoomed in with get_screenshot and that region (enlarged up to 4x) before relying on them";
	if (lines.length === 0) {
		return `Low OCR confidence (${text.confidence.toFixed(2)}): digits and look-alike letters may be misread; look at the part you need zoomed in with get_screenshot and a region (enlarged up to 4x) before relying on it.`;
	}
	const shown = lines.slice(0, 8).map((u) => {
		const r = u.region;
		return `line ${u.line + 1} (${u.confidence.toFixed(2)}): region {"x": ${r.x}, "y": ${r.y}, "width": ${r.width}, "height": ${r.height}}`;
	});
	const more = lines.length > shown.length ? ` (and ${lines.length - shown.length} more)` : "";
	return `Low OCR confidence (under ${LOW_LINE_CONFIDENCE}) on ${lines.length} line(s)${more}: digits and look-alike letters there may be misread; ${zoom}.\n${shown.join("\n")}`;
}
