/**
 * The static targets file (`ikvm.config.json`): VNC servers and AMI BMCs a
 * user declares by hand. Validated with zod; a bad file is a start-up error
 * naming the file and the field.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { z } from "zod";
import type { AmiLoginTarget, ConsoleTarget, VncTarget } from "../../console/types.ts";
import { IkvmError } from "../../errors.ts";
import { log } from "../../log.ts";
import { registerSecret } from "../../redact.ts";

const idSchema = z
	.string()
	.min(1, "must not be empty")
	.max(128, "must be at most 128 characters")
	.regex(/^[A-Za-z0-9._:@-]+$/, "may contain only letters, digits and . _ : @ -");

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name");

const tlsSchema = z
	.object({
		insecure: z.boolean().optional(),
		caFile: z.string().min(1).optional(),
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
		"how to trust the target's TLS certificate: insecure (self-signed, this target only), caFile, or a pinned fingerprint256",
	);

const wsUrl = z
	.string()
	.refine((u) => URL.canParse(u) && /^wss?:$/.test(new URL(u).protocol), "must be a ws:// or wss:// URL");
const httpUrl = z
	.string()
	.refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), "must be an http:// or https:// URL");

const vncSchema = z
	.object({
		id: idSchema,
		name: z.string().min(1).optional(),
		type: z.literal("vnc"),
		url: wsUrl.optional(),
		host: z.string().min(1).optional(),
		port: z.number().int().min(1).max(65535).optional(),
		password: z.string().optional(),
		passwordEnv: envName.optional(),
		/** VeNCrypt X509Plain logs in with a user name as well. */
		username: z.string().min(1).optional(),
		usernameEnv: envName.optional(),
		headers: z.record(z.string(), z.string()).optional(),
		tls: tlsSchema,
	})
	.strict()
	.superRefine((s, ctx) => {
		if (s.url && s.host) ctx.addIssue({ code: "custom", path: ["host"], message: "give either url or host, not both" });
		if (!s.url && !s.host) ctx.addIssue({ code: "custom", path: ["url"], message: "give a ws(s) url or a host" });
		if (s.port !== undefined && !s.host) ctx.addIssue({ code: "custom", path: ["port"], message: "port needs host" });
	});

const amiSchema = z
	.object({
		id: idSchema,
		name: z.string().min(1).optional(),
		type: z.literal("ami"),
		url: httpUrl,
		username: z.string().min(1).optional(),
		usernameEnv: envName.optional(),
		password: z.string().optional(),
		passwordEnv: envName.optional(),
		tls: tlsSchema,
	})
	.strict()
	.superRefine((s, ctx) => {
		if (!s.username && !s.usernameEnv) {
			ctx.addIssue({ code: "custom", path: ["usernameEnv"], message: "give usernameEnv (or username)" });
		}
		if (s.password === undefined && !s.passwordEnv) {
			ctx.addIssue({ code: "custom", path: ["passwordEnv"], message: "give passwordEnv (or password)" });
		}
	});

const fileSchema = z
	.object({
		servers: z.array(z.discriminatedUnion("type", [vncSchema, amiSchema], { error: 'type must be "vnc" or "ami"' })),
	})
	.strict();

export interface StaticServer {
	id: string;
	name: string;
	type: "vnc" | "ami";
	/** Host or IP for list_servers. */
	ip: string | null;
	target: ConsoleTarget;
}

export const DEFAULT_CONFIG_FILE = "ikvm.config.json";

/** The file to read: explicit path, else ./ikvm.config.json when present. */
export function findConfigFile(explicit: string | undefined, cwd = process.cwd()): string | undefined {
	if (explicit) return resolve(cwd, explicit);
	const fallback = resolve(cwd, DEFAULT_CONFIG_FILE);
	return existsSync(fallback) ? fallback : undefined;
}

function fail(file: string, field: string, message: string): never {
	throw new IkvmError("CONFIG_INVALID", `${file}: ${field ? `${field}: ` : ""}${message}`, {
		hint: "Fix the file (see README, 'Configured targets') and start again.",
	});
}

function pathOf(path: ReadonlyArray<PropertyKey>): string {
	return path.reduce<string>(
		(acc, p) => (typeof p === "number" ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)),
		"",
	);
}

export function loadStaticConfig(file: string, env: Record<string, string | undefined> = process.env): StaticServer[] {
	let text: string;
	try {
		text = readFileSync(file, "utf8");
	} catch (error) {
		fail(file, "", `cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
	}
	return parseStaticConfig(text, file, env);
}

export function parseStaticConfig(
	text: string,
	file: string,
	env: Record<string, string | undefined> = process.env,
): StaticServer[] {
	let json: unknown;
	try {
		json = JSON.parse(text);
	} catch (error) {
		fail(file, "", `not valid JSON (${(error as Error).message})`);
	}
	const parsed = fileSchema.safeParse(json);
	if (!parsed.success) {
		const issue = parsed.error.issues[0];
		fail(file, pathOf(issue?.path ?? []), issue?.message ?? "invalid");
	}

	const seen = new Set<string>();
	return parsed.data.servers.map((server, i) => {
		const at = `servers[${i}]`;
		if (seen.has(server.id)) fail(file, `${at}.id`, `duplicate id "${server.id}"`);
		seen.add(server.id);

		const secret = (inline: string | undefined, name: string | undefined, field: string): string | undefined => {
			if (name !== undefined) {
				const value = env[name];
				if (value === undefined || value === "")
					fail(file, `${at}.${field}`, `environment variable ${name} is not set`);
				registerSecret(value);
				return value;
			}
			if (inline !== undefined) {
				registerSecret(inline);
				log.warn(`${file}: ${at} has an inline secret; prefer ${field} naming an environment variable`, {
					id: server.id,
				});
			}
			return inline;
		};

		if (server.type === "vnc") {
			const password = secret(server.password, server.passwordEnv, "passwordEnv");
			const username = server.usernameEnv
				? secretName(env, server.usernameEnv, file, `${at}.usernameEnv`)
				: server.username;
			const target: VncTarget = server.url
				? { kind: "vnc", url: server.url, password, headers: server.headers, tls: server.tls }
				: { kind: "vnc", host: server.host, port: server.port ?? 5900, password, tls: server.tls };
			if (username) target.username = username;
			const ip = server.url ? new URL(server.url).hostname : (server.host ?? null);
			return { id: server.id, name: server.name ?? server.id, type: "vnc", ip, target };
		}
		const username = server.usernameEnv
			? secretName(env, server.usernameEnv, file, `${at}.usernameEnv`)
			: (server.username as string);
		const password = secret(server.password, server.passwordEnv, "passwordEnv") ?? "";
		const target: AmiLoginTarget = { kind: "ami-login", url: server.url, username, password, tls: server.tls };
		return { id: server.id, name: server.name ?? server.id, type: "ami", ip: new URL(server.url).hostname, target };
	});
}

function secretName(env: Record<string, string | undefined>, name: string, file: string, field: string): string {
	const value = env[name];
	if (value === undefined || value === "") fail(file, field, `environment variable ${name} is not set`);
	return value;
}
