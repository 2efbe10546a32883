/**
 * Pieces every driver's targets-file schema is built from, so ids, secret
 * references, URLs and TLS options read and fail the same way for every kind.
 */
import { z } from "zod";
import { LAYOUT_NAMES, type LayoutName } from "../input/layouts.ts";

export const idSchema = z
	.string()
	.min(1, "must not be empty")
	.max(128, "must be at most 128 characters")
	.regex(/^[A-Za-z0-9._:@-]+$/, "may contain only letters, digits and . _ : @ -");

export const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name");

export const tlsSchema = z
	.object({
		insecure: z.boolean().optional(),
		ca: z.string().min(1).optional(),
		fingerprint256: z
			.string()
			.regex(
				/^(sha256[/:=]?)?([0-9A-Fa-f]{2}:?){32}$/,
				"must be a SHA-256 fingerprint (64 hex digits, colons optional)",
			)
			.optional(),
	})
	.strict()
	.optional()
	.describe(
		"how to trust the target's TLS certificate: insecure (self-signed, this target only), ca (a PEM file of the CA), or a pinned fingerprint256",
	);

/**
 * `tls` of a BMC reached over HTTPS and its KVM WebSocket (AMI, Supermicro, OpenBMC): a CA file or
 * `insecure`. A pinned fingerprint cannot be checked on those connections, so it is refused rather
 * than ignored.
 */
export const bmcTlsSchema = z
	.object({
		insecure: z.boolean().optional(),
		ca: z.string().min(1).optional(),
		fingerprint256: z
			.undefined({
				error: "is supported for vnc (VeNCrypt over TCP) and redfish targets; use tls.ca or tls.insecure here",
			})
			.optional(),
	})
	.strict()
	.optional()
	.describe("how to trust the BMC's certificate: insecure (self-signed, this BMC only) or ca (a PEM file of the CA)");

export const wsUrl = z
	.string()
	.refine((u) => URL.canParse(u) && /^wss?:$/.test(new URL(u).protocol), "must be a ws:// or wss:// URL");

export const httpUrl = z
	.string()
	.refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), "must be an http:// or https:// URL");

/** Per-target control: true (all IKVM_CONTROL allows), false, or a list of keyboard, mouse, power, all. */
export const controlSchema = z
	.union([z.boolean(), z.array(z.enum(["keyboard", "mouse", "power", "all"]))], {
		error: "must be true, false or a list of keyboard, mouse, power, all",
	})
	.optional();

/** The host's keyboard layout, for consoles that send scan codes or HID reports. */
export const keyboardLayoutSchema = z
	.enum(LAYOUT_NAMES as [LayoutName, ...LayoutName[]], { error: `must be one of ${LAYOUT_NAMES.join(", ")}` })
	.optional();

/** Fields every targets-file entry has, whatever its type. */
export const entryFields = {
	id: idSchema,
	name: z.string().min(1).optional(),
	control: controlSchema,
	keyboardLayout: keyboardLayoutSchema,
};

/** A validated `tls` field as the consoles take it: `ca` names a PEM file, read when connecting. */
export function tlsFromConfig(
	tls: { insecure?: boolean; ca?: string; fingerprint256?: string } | undefined,
): { insecure?: boolean; caFile?: string; fingerprint256?: string } | undefined {
	if (!tls) return undefined;
	const { ca, ...rest } = tls;
	return ca ? { ...rest, caFile: ca } : rest;
}

/** The credentials of an entry that logs in to a BMC: a user name and a password, each inline or from a variable. */
export const loginFields = {
	username: z.string().min(1).optional(),
	usernameEnv: envName.optional(),
	password: z.string().optional(),
	passwordEnv: envName.optional(),
};

/** Refinement for entries with loginFields: both a user name and a password must be given, one way or the other. */
export function requireLogin(
	s: { username?: string; usernameEnv?: string; password?: string; passwordEnv?: string },
	ctx: z.RefinementCtx,
): void {
	if (!s.username && !s.usernameEnv) {
		ctx.addIssue({ code: "custom", path: ["usernameEnv"], message: "give usernameEnv (or username)" });
	}
	if (s.password === undefined && !s.passwordEnv) {
		ctx.addIssue({ code: "custom", path: ["passwordEnv"], message: "give passwordEnv (or password)" });
	}
}
