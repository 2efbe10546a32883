/**
 * What a control tool shows after it acted (`then`): the screen text once the
 * console had `settleMs` to react (the default), a screenshot, or nothing.
 */
import type { CallContext } from "../call-context.ts";
import { renderShared } from "../image/shared-render.ts";
import type { ProviderRegistry } from "../providers/registry.ts";
import { readScreenText } from "../text/index.ts";
import { sleep } from "../timing.ts";
import { textBlock } from "./results.ts";
import type { SessionState } from "./session.ts";
import { describeText } from "./tools/get-screen-text.ts";

export type Then = "text" | "screenshot" | "none";

export type Block = { type: "text"; text: string } | { type: "image"; data: string; mimeType: string };

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
	const shot = await renderShared(frame, { raw: false });
	session?.recordScreenshot(serverId, {
		width: shot.width,
		height: shot.height,
		scale: shot.scale,
		region: shot.region,
		framebuffer: { width: frame.width, height: frame.height },
	});
	return [
		{ type: "image", data: shot.png.toString("base64"), mimeType: "image/png" },
		textBlock(`Server ${serverId} after ${settleMs} ms: ${shot.caption}`),
	];
}
