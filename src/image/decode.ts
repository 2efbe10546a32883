/**
 * Pictures a BMC hands over as a file (a Redfish screenshot action's PNG or JPEG)
 * decoded to the same Frame the streaming console paths produce, so the image and
 * text stages apply unchanged. The type comes from the bytes, never from a
 * Content-Type header (BMCs send images as application/octet-stream); the size is
 * checked from the header before any pixel is decoded.
 */
import sharp, { type Metadata } from "sharp";
import { IkvmError, type Stage } from "../errors.ts";
import { createFrame, type Frame } from "../frame.ts";

export type ImageType = "png" | "jpeg" | "bmp" | "gif";

/** Real screenshots are never this small; a shorter answer is an error page or a stub. */
export const MIN_IMAGE_BYTES = 256;

/** The image type from its magic bytes, or undefined. */
export function sniffImageType(bytes: Uint8Array): ImageType | undefined {
	if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) {
		return "png";
	}
	if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "jpeg";
	if (bytes.length >= 2 && bytes[0] === 0x42 && bytes[1] === 0x4d) return "bmp";
	if (bytes.length >= 4 && bytes[0] === 0x47 && bytes[1] === 0x49 && bytes[2] === 0x46 && bytes[3] === 0x38)
		return "gif";
	return undefined;
}

export interface DecodeLimits {
	maxWidth: number;
	maxHeight: number;
}

/** Decodes a PNG or JPEG to an RGBA Frame (8 bits per channel, alpha 255 where the image has none). */
export async function decodeImageFile(
	bytes: Uint8Array,
	limits: DecodeLimits,
	what: string,
	stage: Stage = "decode",
): Promise<Frame> {
	const type = sniffImageType(bytes);
	if (bytes.length < MIN_IMAGE_BYTES || (type !== "png" && type !== "jpeg")) {
		const head = Buffer.from(bytes.subarray(0, 16)).toString("hex");
		throw new IkvmError(
			"PROTOCOL",
			`${what} is not a PNG or JPEG picture (${bytes.length} bytes${type ? `, ${type}` : ""}, starting ${head || "with nothing"}).`,
			{ stage },
		);
	}
	let meta: Metadata;
	try {
		meta = await sharp(bytes).metadata();
	} catch (error) {
		throw new IkvmError("PROTOCOL", `${what} is a damaged ${type.toUpperCase()} file: ${(error as Error).message}`, {
			stage,
		});
	}
	const { width = 0, height = 0 } = meta;
	if (width <= 0 || height <= 0 || width > limits.maxWidth || height > limits.maxHeight) {
		throw new IkvmError(
			"TOO_LARGE",
			`${what} is ${width}x${height}, outside the allowed ${limits.maxWidth}x${limits.maxHeight}.`,
			{ stage, hint: "Raise IKVM_MAX_FRAMEBUFFER if this console really is that large." },
		);
	}
	try {
		const { data, info } = await sharp(bytes, { limitInputPixels: limits.maxWidth * limits.maxHeight })
			.ensureAlpha()
			.toColourspace("srgb")
			.raw({ depth: "uchar" })
			.toBuffer({ resolveWithObject: true });
		if (info.channels !== 4) throw new Error(`decoded to ${info.channels} channels`);
		return createFrame(info.width, info.height, new Uint8Array(data.buffer, data.byteOffset, data.length));
	} catch (error) {
		throw new IkvmError("PROTOCOL", `${what} could not be decoded: ${(error as Error).message}`, { stage });
	}
}
