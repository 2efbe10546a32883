/**
 * Frame → the PNG a caller asked for: the exact framebuffer (`raw`), or the
 * picture prepared for reading, optionally cropped to a region first.
 */
import { IkvmError } from "../errors.ts";
import { encodePng } from "./encode.ts";
import { createFrame, type Frame, type Region } from "./frame.ts";

export interface RenderOptions {
	raw: boolean;
	region?: Region;
}

export interface RenderedScreenshot {
	png: Buffer;
	width: number;
	height: number;
	/** Output pixels per framebuffer pixel. */
	scale: number;
	region?: Region;
}

export function cropFrame(frame: Frame, region: Region): Frame {
	const { x, y, width, height } = region;
	if (x < 0 || y < 0 || width < 1 || height < 1 || x + width > frame.width || y + height > frame.height) {
		throw new IkvmError(
			"BAD_INPUT",
			`region ${x},${y} ${width}x${height} is outside the ${frame.width}x${frame.height} framebuffer.`,
			{ hint: `Use 0 ≤ x, x + width ≤ ${frame.width}, 0 ≤ y, y + height ≤ ${frame.height}.` },
		);
	}
	const out = new Uint8Array(width * height * 4);
	for (let row = 0; row < height; row++) {
		const from = ((y + row) * frame.width + x) * 4;
		out.set(frame.rgba.subarray(from, from + width * 4), row * width * 4);
	}
	return createFrame(width, height, out, frame.capturedAt);
}

export async function renderScreenshot(frame: Frame, options: RenderOptions): Promise<RenderedScreenshot> {
	const source = options.region ? cropFrame(frame, options.region) : frame;
	const png = await encodePng(source);
	return { png, width: source.width, height: source.height, scale: 1, region: options.region };
}
