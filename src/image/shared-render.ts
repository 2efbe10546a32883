/**
 * Callers that share one capture (the console pool's single flight hands each
 * of them the same Frame) share its rendering too: one encode per frame and
 * options instead of one per caller. Under load this is most of the CPU a
 * screenshot costs. Entries live as long as their Frame does.
 */
import type { Frame } from "../frame.ts";
import { type RenderedScreenshot, type RenderOptions, renderScreenshot } from "./render.ts";

const renders = new WeakMap<Frame, Map<string, Promise<RenderedScreenshot>>>();

export function renderShared(frame: Frame, options: RenderOptions): Promise<RenderedScreenshot> {
	const key = JSON.stringify([options.raw, options.region ?? null]);
	let byOptions = renders.get(frame);
	if (!byOptions) {
		byOptions = new Map();
		renders.set(frame, byOptions);
	}
	let rendering = byOptions.get(key);
	if (!rendering) {
		rendering = renderScreenshot(frame, options);
		byOptions.set(key, rendering);
		// A failure (e.g. a region outside the frame) is not kept: it says nothing about the next caller.
		const entries = byOptions;
		rendering.catch(() => entries.delete(key));
	}
	return rendering;
}
