/**
 * What one MCP session carries: who opened it (its role and address, for the
 * audit and for which tools it sees) and the geometry of the last screenshot
 * each server returned to it, so `mouse` can take coordinates in that image.
 */
import type { Frame, Region } from "../frame.ts";
import type { RenderedScreenshot } from "../image/render.ts";

export interface SessionInfo {
	/** "view": read tools only; "control": also the control tools the operator enabled. */
	readonly role: "view" | "control";
	/** The peer address (HTTP); null on stdio. */
	readonly remoteAddress: string | null;
}

/** How the last screenshot image of a server maps to its framebuffer. */
export interface ScreenshotGeometry {
	/** Image size in pixels. */
	readonly width: number;
	readonly height: number;
	/** Image pixels per framebuffer pixel. */
	readonly scale: number;
	/** The framebuffer area the image shows. */
	readonly region: Region;
	/** Framebuffer size when it was taken. */
	readonly framebuffer: { readonly width: number; readonly height: number };
}

/** The geometry of an image rendered from `frame`. */
export function geometryOf(shot: RenderedScreenshot, frame: Frame): ScreenshotGeometry {
	return {
		width: shot.width,
		height: shot.height,
		scale: shot.scale,
		region: shot.region,
		framebuffer: { width: frame.width, height: frame.height },
	};
}

export class SessionState {
	private readonly screenshots = new Map<string, ScreenshotGeometry>();

	constructor(readonly info: SessionInfo) {}

	recordScreenshot(serverId: string, geometry: ScreenshotGeometry): void {
		this.screenshots.set(serverId, geometry);
	}

	lastScreenshot(serverId: string): ScreenshotGeometry | undefined {
		return this.screenshots.get(serverId);
	}
}
