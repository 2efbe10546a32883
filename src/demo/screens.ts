/**
 * The demo's console pictures: real screens captured from QEMU (see
 * test/fixtures/screens/README.md for how each was made), loaded as RGBA.
 */
import sharp from "sharp";
import type { RgbaPicture } from "./ast2500-encoder.ts";

export const DEMO_SCREENS = {
	kernelPanic: "kernel-panic-1024x768.png",
	grubRescue: "grub-rescue-720x400.png",
	login: "login-1024x768.png",
	uefiSetup: "uefi-setup-640x480.png",
} as const;

export async function loadScreen(file: string): Promise<RgbaPicture> {
	const path = new URL(`./screens/${file}`, import.meta.url).pathname;
	const { data, info } = await sharp(path).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
	return { width: info.width, height: info.height, rgba: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}
