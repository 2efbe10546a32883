/**
 * What a control tool shows after it acted (`then`): the screen text once the
 * console had `settleMs` to react (the default), a screenshot, or nothing.
 */
import { z } from "zod";
import type { CallContext } from "../call-context.ts";
import type { ProviderRegistry } from "../providers/registry.ts";
import { readScreenText } from "../text/index.ts";
import { sleep } from "../timing.ts";
import { type ContentBlock, imageBlocks, textBlock } from "./results.ts";
import { describeText } from "./screen-text.ts";
import { geometryOf, type SessionState } from "./session.ts";

/** What a control tool returns after it acted. */
export const thenSchema = z.enum(["text", "screenshot", "none"]);

export type Then = z.infer<typeof thenSchema>;

export type Block = ContentBlock;

export async function afterInput(
	registry: ProviderRegistry,
	serverId: string,
	then: Then,
	settleMs: number,
	ctx: CallContext,
	session: SessionState | undefined,
): Promise<Block[]> {
	if (then === "none") return [];
	if (settleMs > 0) await sleep(settleMs, ctx.signal, "wait");
	const frame = await registry.capture(serverId, ctx);
	if (then === "text") {
		ctx.progress("ocr", "Reading the text");
		const text = await readScreenText(frame, { signal: ctx.signal });
		return [
			textBlock(`Screen after ${settleMs} ms, framebuffer ${frame.width}x${frame.height}:\n${describeText(text)}`),
		];
	}
	ctx.progress("encode", "Optimising the picture for reading");
	return imageBlocks(frame, { raw: false }, `Server ${serverId} after ${settleMs} ms: `, (shot) =>
		session?.recordScreenshot(serverId, geometryOf(shot, frame)),
	);
}
