/**
 * Frame → the picture a caller asked for, with a caption a model can act on:
 * the exact framebuffer (`raw`), or the picture prepared for reading; either
 * cropped to a region first. Used by get_screenshot and `ikvm-mcp screenshot`.
 */

import type { Frame, Region } from "../frame.ts";
import { encodeImage, encodePng } from "./encode.ts";
import { checkRegion, cropRgba, optimizeFrame } from "./optimize.ts";

export interface RenderOptions {
	raw: boolean;
	region?: Region;
}

export interface RenderedScreenshot {
	png: Buffer;
	/** Output image size. */
	width: number;
	height: number;
	/** Output pixels per framebuffer pixel. */
	scale: number;
	/** The framebuffer area shown. */
	region: Region;
	/** Framebuffer size, region, scale, capture time and how to map coordinates. */
	caption: string;
}

function describeRegion(frame: Frame, region: Region | undefined): string {
	return region
		? `region x=${region.x} y=${region.y} ${region.width}x${region.height}`
		: `whole screen (region x=0 y=0 ${frame.width}x${frame.height})`;
}

async function rawImage(frame: Frame, region: Region | undefined): Promise<RenderedScreenshot> {
	const shown = region ?? { x: 0, y: 0, width: frame.width, height: frame.height };
	const png = region
		? (await encodeImage({ width: region.width, height: region.height, data: cropRgba(frame, region), channels: 4 }))
				.png
		: await encodePng(frame);
	return {
		png,
		width: shown.width,
		height: shown.height,
		scale: 1,
		region: shown,
		caption:
			`framebuffer ${frame.width}x${frame.height}; image ${shown.width}x${shown.height} = ${describeRegion(frame, region)}, ` +
			`raw pixels, scale 1; captured ${frame.capturedAt.toISOString()}${delivery(frame)}.`,
	};
}

async function optimisedImage(frame: Frame, region: Region | undefined): Promise<RenderedScreenshot> {
	const out = await optimizeFrame(frame, { region });
	const scale = Number(out.scale.toFixed(3));
	const lift = out.lift
		? `, dim capture brightened (levels ${out.lift.black.toFixed(0)}–${out.lift.white.toFixed(0)})`
		: "";
	const shown = out.trimmed
		? `region x=${out.region.x} y=${out.region.y} ${out.region.width}x${out.region.height} (the written part; the rest of the screen is empty background)`
		: describeRegion(frame, region);
	return {
		png: out.png,
		width: out.width,
		height: out.height,
		scale: out.scale,
		region: out.region,
		caption:
			`framebuffer ${frame.width}x${frame.height}; image ${out.width}x${out.height} = ${shown}, ` +
			`scale ${scale}${lift}; captured ${frame.capturedAt.toISOString()}${delivery(frame)}. ` +
			`Framebuffer x = ${out.region.x} + image x / ${scale}, y = ${out.region.y} + image y / ${scale}; ` +
			"pass region (framebuffer pixels) to zoom in, raw=true for exact pixels.",
	};
}

/** ", sent as ZRLE" or ", sent as Tight (JPEG: approximate pixels)": which encoding delivered the picture. */
function delivery(frame: Frame): string {
	if (!frame.encodings || frame.encodings.length === 0) return "";
	const lossy = frame.lossy
		? " (JPEG: approximate pixels; read text with get_screen_text or ask the target for lossless)"
		: "";
	return `, sent as ${frame.encodings.join(" + ")}${lossy}`;
}

export async function renderScreenshot(frame: Frame, options: RenderOptions): Promise<RenderedScreenshot> {
	if (options.region) checkRegion(options.region, frame.width, frame.height);
	return options.raw ? rawImage(frame, options.region) : optimisedImage(frame, options.region);
}
