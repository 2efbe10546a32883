/**
 * The static targets file (`ikvm.config.json`): VNC servers and AMI BMCs a
 * user declares by hand. Validated with zod; a bad file is a start-up error
 * naming the file and the field.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { z } from "zod";
import { PLACEHOLDER } from "../../config.ts";
import type { AnyConsoleDriver, SecretReader } from "../../console/driver.ts";
import { DRIVERS, driverForType } from "../../console/drivers.ts";
import type { ConsoleTarget } from "../../console/types.ts";
import { IkvmError } from "../../errors.ts";
import { log } from "../../log.ts";
import { registerPublic, registerSecret, weakSecretReason } from "../../redact.ts";

/** The targets file: a list of entries, each validated by the schema of its type's driver. */
function fileSchema(drivers: readonly AnyConsoleDriver[]) {
	const names = drivers.map((d) => `"${d.type}"`);
	const types = names.length > 1 ? `${names.slice(0, -1).join(", ")} or ${names.at(-1)}` : (names[0] ?? "");
	const schemas = drivers.map((d) => d.configSchema) as unknown as [z.ZodObject, ...z.ZodObject[]];
	return z
		.object({ servers: z.array(z.discriminatedUnion("type", schemas, { error: `type must be ${types}` })) })
		.strict();
}

export interface StaticServer {
	id: string;
	name: string;
	/** The entry's `type`: which driver opens it. */
	type: string;
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

export function loadStaticConfig(
	file: string,
	env: Record<string, string | undefined> = process.env,
	drivers: readonly AnyConsoleDriver[] = DRIVERS,
): StaticServer[] {
	let text: string;
	try {
		text = readFileSync(file, "utf8");
	} catch (error) {
		fail(file, "", `cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
	}
	return parseStaticConfig(text, file, env, drivers);
}

export function parseStaticConfig(
	text: string,
	file: string,
	env: Record<string, string | undefined> = process.env,
	drivers: readonly AnyConsoleDriver[] = DRIVERS,
): StaticServer[] {
	let json: unknown;
	try {
		json = JSON.parse(text);
	} catch (error) {
		fail(file, "", `not valid JSON (${(error as Error).message})`);
	}
	const parsed = fileSchema(drivers).safeParse(json);
	if (!parsed.success) {
		const issue = parsed.error.issues[0];
		fail(file, pathOf(issue?.path ?? []), issue?.message ?? "invalid");
	}

	const seen = new Set<string>();
	const entries = parsed.data.servers as Array<{ id: string; name?: string; type: string }>;
	return entries.map((server, i) => {
		const at = `servers[${i}]`;
		if (seen.has(server.id)) fail(file, `${at}.id`, `duplicate id "${server.id}"`);
		seen.add(server.id);

		registerPublic(server.id);
		registerPublic(server.name);
		const warnIfWeak = (value: string, where: string) => {
			const weak = weakSecretReason(value);
			if (weak)
				log.warn(`${file}: ${at} (${server.id}): the password ${where} is weak: ${weak}. Use a longer, random one.`);
		};
		const readSecret: SecretReader = (inline, name, field, options = {}) => {
			const secret = options.secret ?? true;
			if (name !== undefined) {
				const value = env[name];
				if (value === undefined || value === "")
					fail(file, `${at}.${field}`, `environment variable ${name} is not set`);
				if (PLACEHOLDER.test(value)) fail(file, `${at}.${field}`, `${name} is still the placeholder ${value}`);
				if (secret) {
					registerSecret(value);
					warnIfWeak(value, `in ${name}`);
				}
				return value;
			}
			if (inline !== undefined && secret) {
				registerSecret(inline);
				if (inline !== "") warnIfWeak(inline, "given inline");
				log.warn(`${file}: ${at} has an inline secret; prefer ${field} naming an environment variable`, {
					id: server.id,
				});
			}
			return inline;
		};

		const driver = driverForType(server.type, drivers) as AnyConsoleDriver;
		const { target, ip } = driver.fromConfig(server, readSecret);
		return { id: server.id, name: server.name ?? server.id, type: server.type, ip, target };
	});
}
