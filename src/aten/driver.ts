/**
 * The Supermicro (ATEN/Insyde HTML5 iKVM) console driver: targets-file entries
 * of type "supermicro", the provider hand-off kind "aten-viewer", and power.
 *
 * ```json
 * { "id": "smc-1", "type": "supermicro", "url": "https://10.0.0.9", "username": "ADMIN",
 *   "passwordEnv": "SMC_PW", "tls": { "insecure": true } }
 * ```
 * `"preview": true` reads screenshots from the BMC's CGI preview snapshot instead of the KVM.
 */
import { z } from "zod";
import {
	bmcTlsSchema,
	entryFields,
	httpUrl,
	loginFields,
	requireLogin,
	tlsFromConfig,
} from "../console/config-schema.ts";
import type { ConsoleDriver, ProbeContext, ProbeReport, SecretReader } from "../console/driver.ts";
import { IkvmError, type Stage } from "../errors.ts";
import { atenLogins } from "./logins.ts";
import { createAtenOpener } from "./open.ts";
import { AtenConsoleSession } from "./session.ts";
import { type AtenTarget, DEFAULT_ATEN_TIMEOUTS, type SupermicroTarget } from "./types.ts";
import { atenViewer } from "./viewer.ts";
import { atenPowerState } from "./web.ts";

export const supermicroConfigSchema = z
	.object({
		...entryFields,
		type: z.literal("supermicro"),
		url: httpUrl,
		...loginFields,
		tls: bmcTlsSchema,
		preview: z.boolean().optional().describe("screenshots from the BMC's CGI preview snapshot (read-only)"),
	})
	.strict()
	.superRefine(requireLogin);

export type SupermicroConfig = z.infer<typeof supermicroConfigSchema>;

const STAGES: readonly Stage[] = [
	"aten-login",
	"aten-token",
	"aten-connect",
	"aten-banner",
	"aten-auth",
	"aten-video",
	"aten-input",
	"aten-power",
	"aten-preview",
];

const open = createAtenOpener();

function fromConfig(
	entry: SupermicroConfig,
	readSecret: SecretReader,
): { target: SupermicroTarget; ip: string | null } {
	const username = readSecret(entry.username, entry.usernameEnv, "usernameEnv", { secret: false }) ?? "";
	const password = readSecret(entry.password, entry.passwordEnv, "passwordEnv");
	if (password === undefined) {
		throw new IkvmError("CONFIG_INVALID", `Target "${entry.id}": the password is not set.`, {
			hint: entry.passwordEnv ? `Set the environment variable ${entry.passwordEnv}.` : "Give passwordEnv.",
		});
	}
	const target: SupermicroTarget = { kind: "supermicro", url: entry.url, username, password };
	const tls = tlsFromConfig(entry.tls);
	if (tls) target.tls = tls;
	if (entry.preview) target.preview = true;
	return { target, ip: new URL(entry.url).hostname.replace(/^\[|\]$/g, "") };
}

function describe(target: AtenTarget): string {
	if (target.kind === "aten-viewer") return `Supermicro HTML5 iKVM via a viewer link to ${new URL(target.origin).host}`;
	const host = new URL(target.url).host;
	return target.preview
		? `Supermicro BMC ${host}, CGI preview snapshots as ${target.username} (read-only)`
		: `Supermicro BMC ${host}, HTML5 iKVM (ATEN) as ${target.username}`;
}

/**
 * Power: status from the web interface (no console needed); actions as the 0x1A
 * KVM message on the target's session (the caller confirms them beforehand).
 */
const power: NonNullable<ConsoleDriver<AtenTarget>["power"]> = async (target, action, ctx, session) => {
	if (action === "status") {
		if (target.kind !== "supermicro") {
			return { state: "unknown", source: "none", message: "A viewer-link console cannot read the power state." };
		}
		const lease = await atenLogins.acquire(
			target.url,
			{ username: target.username, password: target.password },
			target.tls,
			{ signal: ctx.signal, timeoutMs: DEFAULT_ATEN_TIMEOUTS.request },
		);
		try {
			const state = await atenPowerState(lease.session, {
				signal: ctx.signal,
				timeoutMs: DEFAULT_ATEN_TIMEOUTS.request,
			});
			return {
				state: state ?? "unknown",
				source: "BMC web interface (ipmi.cgi POWER_INFO)",
				message: state
					? `The BMC at ${lease.session.host} reports the server ${state}.`
					: `The BMC at ${lease.session.host} did not report the power state.`,
			};
		} finally {
			await lease.release(DEFAULT_ATEN_TIMEOUTS.close);
		}
	}
	if (target.kind === "supermicro" && target.preview) {
		throw new IkvmError(
			"NOT_SUPPORTED",
			"This Supermicro target reads CGI preview snapshots only; it has no power control.",
			{
				stage: "aten-power",
				hint: 'Remove "preview" from the target to use the KVM console, which carries power control.',
			},
		);
	}
	return session(async (console, callCtx) => {
		if (!(console instanceof AtenConsoleSession)) {
			throw new IkvmError("INTERNAL", "The Supermicro power action met a session of another kind.", {
				stage: "aten-power",
			});
		}
		return console.power(action, callCtx);
	});
};

/** The doctor's check: one frame from the KVM (then everything is closed and logged out again). */
async function probe(target: AtenTarget, ctx: ProbeContext): Promise<ProbeReport> {
	if (target.kind !== "supermicro") return { detail: "viewer links are checked when a screenshot is taken" };
	const opener = createAtenOpener({
		timeouts: { request: ctx.timeoutMs, connect: ctx.timeoutMs, handshake: ctx.timeoutMs, frame: ctx.timeoutMs },
		previewDelayMs: 3_000,
	});
	const callCtx = { signal: ctx.signal, progress: () => {} };
	const session = await opener(target, callCtx, ctx.limits);
	try {
		const frame = await session.capture(callCtx);
		const refusal = session instanceof AtenConsoleSession ? session.inputRefusal() : undefined;
		const what = target.preview ? "a preview snapshot" : "a KVM frame";
		return refusal
			? { detail: `${what} of ${frame.width}x${frame.height}`, warning: refusal }
			: { detail: `logged in as "${target.username}", ${what} of ${frame.width}x${frame.height}` };
	} finally {
		await session.close();
	}
}

export const atenDriver: ConsoleDriver<AtenTarget, typeof supermicroConfigSchema> = {
	type: "supermicro",
	kinds: ["supermicro", "aten-viewer"],
	title: "Supermicro BMC (ATEN/Insyde HTML5 iKVM: X10–X13 on ASPEED)",
	label: "Supermicro",
	configSchema: supermicroConfigSchema,
	fromConfig,
	open: (target, ctx, limits) => open(target, ctx, limits),
	describe,
	stages: STAGES,
	probe,
	power,
	viewer: atenViewer,
};
