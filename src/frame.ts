/**
 * A picture: tightly packed RGBA, row-major, top-left origin, width·height·4 bytes.
 * What decoders return, encoders take and the test servers serve.
 */
export interface Picture {
	readonly width: number;
	readonly height: number;
	/** width * height * 4 bytes */
	readonly rgba: Uint8Array;
}

/**
 * A captured console picture, with when it was taken. This is what every console
 * path produces and what the image and text stages consume.
 */
export interface Frame extends Picture {
	readonly capturedAt: Date;
	/** How the console sent it, when the protocol says: the encodings of what was painted (e.g. ["ZRLE"]). */
	readonly encodings?: readonly string[];
	/** Some pixels came lossily (JPEG) and may differ slightly from the screen. */
	readonly lossy?: boolean;
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
