/**
 * zod schemas shared by several tools.
 */
import { z } from "zod";

const px = z.number().int().min(0).max(65535);

/** A rectangle in framebuffer pixels (see the framebuffer size a full capture reports). */
export const regionSchema = z
	.object({
		x: px.describe("Left edge, framebuffer pixels"),
		y: px.describe("Top edge, framebuffer pixels"),
		width: px.min(1).describe("Width, framebuffer pixels"),
		height: px.min(1).describe("Height, framebuffer pixels"),
	})
	.strict();

/** Configured ids are at most this long too (src/providers/static/config.ts); OVH names are shorter. */
export const MAX_SERVER_ID_LENGTH = 128;

export const serverIdSchema = z
	.string()
	.min(1, "serverId must not be empty")
	.max(
		MAX_SERVER_ID_LENGTH,
		`serverId must be at most ${MAX_SERVER_ID_LENGTH} characters: use an id exactly as list_servers returns it`,
	)
	.describe("Server id from list_servers, e.g. 'ns1234567.ip-1-2-3.eu'");
