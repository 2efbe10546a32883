/**
 * Draws the pointer shape a server sent (Cursor pseudo-encodings) into a
 * picture. Servers that send the shape stop painting the pointer into the
 * framebuffer, so a screenshot has no pointer unless it is drawn back; for
 * text consoles it is better left out (it can hide a character), hence an
 * option, off by default.
 */
import { createFrame, type Frame } from "../frame.ts";
import type { CursorShape } from "./decoders/decoder.ts";

/** A copy of `frame` with `cursor` alpha-blended so that its hotspot lies at `x, y`. */
export function drawCursor(frame: Frame, cursor: CursorShape, x: number, y: number): Frame {
	const rgba = frame.rgba.slice();
	const left = x - cursor.hotX;
	const top = y - cursor.hotY;
	for (let j = 0; j < cursor.height; j++) {
		const fy = top + j;
		if (fy < 0 || fy >= frame.height) continue;
		for (let i = 0; i < cursor.width; i++) {
			const fx = left + i;
			if (fx < 0 || fx >= frame.width) continue;
			const s = (j * cursor.width + i) * 4;
			const a = cursor.rgba[s + 3] as number;
			if (a === 0) continue;
			const d = (fy * frame.width + fx) * 4;
			for (let c = 0; c < 3; c++) {
				const src = cursor.rgba[s + c] as number;
				rgba[d + c] = a === 255 ? src : Math.round((src * a + (rgba[d + c] as number) * (255 - a)) / 255);
			}
		}
	}
	return { ...createFrame(frame.width, frame.height, rgba, frame.capturedAt), ...extra(frame) };
}

/** Fields a frame may carry beyond Frame's own (e.g. the encodings that painted it). */
function extra(frame: Frame): Record<string, unknown> {
	const { width: _w, height: _h, rgba: _r, capturedAt: _c, ...rest } = frame as Frame & Record<string, unknown>;
	return rest;
}
