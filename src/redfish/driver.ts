/**
 * The Redfish target type: one configured BMC URL gives list_servers facts (one
 * server per ComputerSystem), screenshots where the BMC offers them, and power
 * through ComputerSystem.Reset.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import type { CallContext } from "../call-context.ts";
import { entryFields, envName, loginFields, requireLogin } from "../console/config-schema.ts";
import type { ConsoleDriver, ListedConsole } from "../console/driver.ts";
import { IkvmError } from "../errors.ts";
import { normalizeFingerprint } from "../net/tls.ts";
import { closeRedfishClients, redfishClientFor } from "./clients.ts";
import { openRedfishConsole } from "./console.ts";
import { findSystem, listSystems } from "./discovery.ts";
import { redfishDoctor } from "./doctor.ts";
import { redfishPower } from "./power.ts";
import type { RedfishTarget } from "./target.ts";

export const redfishTlsSchema = z
	.object({
		insecure: z.boolean().optional().describe("accept any certificate (explicit opt-in)"),
		ca: z.string().min(1).optional().describe("PEM file of the CA (or the certificate) to trust"),
		fingerprint256: z
			.string()
			.refine((v) => normalizeFingerprint(v) !== undefined, "must be a SHA-256 fingerprint (32 hex bytes, AB:CD:…)")
			.optional()
			.describe("pin the BMC's certificate by its SHA-256 fingerprint (recommended)"),
	})
	.strict()
	.superRefine((t, ctx) => {
		if (t.insecure && (t.ca || t.fingerprint256)) {
			ctx.addIssue({
				code: "custom",
				path: ["insecure"],
				message: "insecure turns off the checks ca/fingerprint256 ask for; give one or the other",
			});
		}
	});

export const redfishConfigSchema = z
	.object({
		...entryFields,
		type: z.literal("redfish"),
		url: z.string().refine((u) => URL.canParse(u) && new URL(u).protocol === "https:", "must be an https:// URL"),
		...loginFields,
		tls: redfishTlsSchema.optional(),
		auth: z.enum(["auto", "session", "basic"]).optional(),
		vncPasswordEnv: envName.optional(),
	})
	.strict()
	.superRefine(requireLogin);

export type RedfishConfigEntry = z.infer<typeof redfishConfigSchema>;

function hostOf(url: string): string {
	return new URL(url).hostname.replace(/^\[|\]$/g, "");
}

export interface RedfishDriver extends ConsoleDriver<RedfishTarget, typeof redfishConfigSchema> {
	listServers(target: RedfishTarget, ctx: CallContext): Promise<ListedConsole<RedfishTarget>[]>;
	close(): Promise<void>;
}

export const redfishDriver: RedfishDriver = {
	type: "redfish",
	kinds: ["redfish"],
	label: "Redfish",
	title: "Redfish BMC (Dell iDRAC, Supermicro, OpenBMC, …): server facts, screenshots where the BMC offers them, power",
	configSchema: redfishConfigSchema,
	fromConfig(entry, readSecret) {
		const e = entry as RedfishConfigEntry;
		const username = readSecret(e.username, e.usernameEnv, "usernameEnv", { secret: false });
		if (!username) {
			throw new IkvmError("CONFIG_INVALID", `${e.id}: usernameEnv: environment variable ${e.usernameEnv} is not set`);
		}
		const password = readSecret(e.password, e.passwordEnv, "passwordEnv") ?? "";
		let ca: string | undefined;
		if (e.tls?.ca) {
			try {
				ca = readFileSync(e.tls.ca, "utf8");
			} catch (error) {
				throw new IkvmError(
					"CONFIG_INVALID",
					`${e.id}: tls.ca: cannot read ${e.tls.ca} (${(error as NodeJS.ErrnoException).code ?? error})`,
				);
			}
			if (!ca.includes("-----BEGIN CERTIFICATE-----")) {
				throw new IkvmError("CONFIG_INVALID", `${e.id}: tls.ca: ${e.tls.ca} holds no PEM certificate`);
			}
		}
		const tls = e.tls ? { insecure: e.tls.insecure, ca, fingerprint256: e.tls.fingerprint256 } : undefined;
		const vncPassword = e.vncPasswordEnv ? readSecret(undefined, e.vncPasswordEnv, "vncPasswordEnv") : undefined;
		return {
			target: { kind: "redfish", url: e.url, username, password, tls, auth: e.auth, vncPassword, control: e.control },
			ip: hostOf(e.url),
		};
	},
	open: (target, ctx, limits) => openRedfishConsole(target, ctx, limits),
	describe(target) {
		const u = new URL(target.url);
		const tls = target.tls?.insecure
			? "TLS unverified"
			: target.tls?.fingerprint256
				? "TLS pinned"
				: target.tls?.ca
					? "TLS with CA"
					: "TLS";
		return `Redfish ${u.protocol}//${u.host}${target.systemId ? ` system ${target.systemId}` : ""} (${tls})`;
	},
	stages: [
		"redfish-connect",
		"redfish-login",
		"redfish-api",
		"redfish-screenshot",
		"connect",
		"handshake",
		"first-frame",
	],
	async probe(target, ctx) {
		// Reads only, logs out at the end; a failing line fails the target, warnings come with their fix.
		const control = target.control;
		const powerAllowed =
			control === true || (Array.isArray(control) && (control.includes("power") || control.includes("all")));
		const lines = await redfishDoctor(
			target,
			{ signal: ctx.signal, progress: () => {} },
			{ timeoutMs: ctx.timeoutMs, powerAllowed },
		);
		const failed = lines.find((l) => l.status === "fail");
		if (failed) throw new IkvmError("UPSTREAM", `${failed.name}: ${failed.detail}`, { hint: failed.fix });
		const warnings = lines.filter((l) => l.status === "warn");
		return {
			detail: lines.map((l) => `${l.name}: ${l.detail}`).join("; "),
			warning: warnings.length > 0 ? warnings.map((w) => w.fix ?? w.detail).join(" ") : undefined,
		};
	},
	async power(target, action, ctx) {
		const client = redfishClientFor(target);
		const system = await findSystem(client, target.systemId, ctx);
		return redfishPower(client, system.path, action, ctx);
	},
	async listServers(target, ctx) {
		const client = redfishClientFor(target);
		const systems = await listSystems(client, ctx);
		const several = systems.length > 1;
		return systems.map((s) => ({
			idSuffix: several ? s.id : undefined,
			name: s.name,
			facts: {
				manufacturer: s.manufacturer,
				model: s.model,
				serial: s.serial,
				powerState: s.powerState,
				health: s.health,
				bootProgress: s.bootProgress,
			},
			target: { ...target, systemId: s.id },
		}));
	},
	close: () => closeRedfishClients(),
};
