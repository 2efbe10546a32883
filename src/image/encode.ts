/**
 * RGBA frame → PNG, pixel for pixel. sharp takes the decoder's buffer as is.
 */
import sharp from "sharp";
import type { Frame } from "./frame.ts";

export async function encodePng(frame: Frame): Promise<Buffer> {
	return sharp(frame.rgba, { raw: { width: frame.width, height: frame.height, channels: 4 } })
		.removeAlpha()
		.png({ compressionLevel: 6, adaptiveFiltering: false })
		.toBuffer();
}
