/**
 * Pieces every driver's targets-file schema is built from, so ids, secret
 * references, URLs and TLS options read and fail the same way for every kind.
 */
import { z } from "zod";

export const idSchema = z
	.string()
	.min(1, "must not be empty")
	.max(128, "must be at most 128 characters")
	.regex(/^[A-Za-z0-9._:@-]+$/, "may contain only letters, digits and . _ : @ -");

export const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name");

export const tlsSchema = z
	.object({ insecure: z.boolean().optional() })
	.strict()
	.optional()
	.describe("accept a self-signed certificate for this target only");

export const wsUrl = z
	.string()
	.refine((u) => URL.canParse(u) && /^wss?:$/.test(new URL(u).protocol), "must be a ws:// or wss:// URL");

export const httpUrl = z
	.string()
	.refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), "must be an http:// or https:// URL");

/** Fields every targets-file entry has, whatever its type. */
export const entryFields = {
	id: idSchema,
	name: z.string().min(1).optional(),
};
