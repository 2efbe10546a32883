/**
 * A captured console picture: tightly packed RGBA, row-major, top-left origin.
 * This is what every console path produces and what the image stage consumes.
 */
export interface Frame {
	readonly width: number;
	readonly height: number;
	/** width * height * 4 bytes */
	readonly rgba: Uint8Array;
	readonly capturedAt: Date;
}

export interface Region {
	x: number;
	y: number;
	width: number;
	height: number;
}

export function createFrame(width: number, height: number, rgba: Uint8Array, capturedAt = new Date()): Frame {
	if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
		throw new RangeError(`invalid frame size ${width}x${height}`);
	}
	if (rgba.length !== width * height * 4) {
		throw new RangeError(`frame buffer has ${rgba.length} bytes, expected ${width * height * 4}`);
	}
	return { width, height, rgba, capturedAt };
}
