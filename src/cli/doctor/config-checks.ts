/**
 * Doctor steps for the configuration: the environment (OVH_*, limits, …) and the
 * configured-targets file, read exactly as the server reads them.
 */

import { loadConfig } from "../../config.ts";
import { DRIVERS } from "../../console/drivers.ts";
import { isIkvmError } from "../../errors.ts";
import { OvhApiClient } from "../../providers/ovh/api.ts";
import { findConfigFile, loadStaticConfig } from "../../providers/static/config.ts";
import { type DoctorStep, fail, pass, skip } from "./types.ts";

function messageOf(error: unknown): { detail: string; fix?: string } {
	if (isIkvmError(error)) return { detail: error.message, fix: error.hint };
	return { detail: error instanceof Error ? error.message : String(error) };
}

export const checkEnvironment: DoctorStep = async (state, ctx) => {
	const name = "environment";
	try {
		state.config = loadConfig(ctx.options.env, { configPath: ctx.options.configPath });
	} catch (error) {
		const { detail, fix } = messageOf(error);
		state.configError = detail;
		return [fail(name, detail, fix ?? "Fix the variable named above (see README, “Configuration”).")];
	}
	const ovh = state.config.ovh;
	if (!ovh) return [pass(name, "valid; OVH is not configured (no OVH_* credentials)")];
	try {
		// Short timeout and one retry: the doctor reports a slow API instead of waiting on it.
		state.ovh = new OvhApiClient({
			endpoint: ovh.endpoint,
			applicationKey: ovh.applicationKey,
			applicationSecret: ovh.applicationSecret,
			consumerKey: ovh.consumerKey,
			timeoutMs: ctx.timeouts.ovhRequestMs,
			retries: 1,
			retryBaseMs: 300,
			retryMaxMs: 2000,
		});
	} catch (error) {
		const { detail, fix } = messageOf(error);
		state.configError = detail;
		return [fail(name, detail, fix)];
	}
	return [pass(name, `valid; OVH configured for ${state.ovh.baseUrl}`)];
};

export const checkTargetsFile: DoctorStep = async (state, ctx) => {
	const name = "targets file";
	// Read even when the environment is invalid: its problems are reported on their own line.
	const explicit = ctx.options.configPath ?? state.config?.configPath ?? nonEmpty(ctx.options.env.IKVM_CONFIG);
	const file = findConfigFile(explicit, ctx.options.cwd);
	const results = [];
	if (!file) {
		results.push(skip(name, "none (IKVM_CONFIG is not set and there is no ./ikvm.config.json)"));
	} else {
		state.targetsFile = file;
		try {
			state.targets = loadStaticConfig(file, ctx.options.env);
			const targets = state.targets;
			const counts = DRIVERS.map((d) => ({ label: d.label, n: targets.filter((t) => t.type === d.type).length }))
				.filter((c) => c.n > 0 || c.label === "VNC" || c.label === "AMI")
				.map((c) => `${c.n} ${c.label}`)
				.join(", ");
			results.push(pass(name, `${file}: ${plural(targets.length, "target")} (${counts})`));
		} catch (error) {
			const { detail, fix } = messageOf(error);
			return [fail(name, detail, fix)];
		}
	}
	if (state.config && !state.config.ovh && (state.targets?.length ?? 0) === 0) {
		results.push(
			fail(
				"servers",
				"nothing is configured, so there is no console to take a screenshot of",
				"Set OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET and OVH_CONSUMER_KEY (`ikvm-mcp ovh-credentials` " +
					"creates the consumer key), or list VNC servers and AMI BMCs in ikvm.config.json (IKVM_CONFIG).",
			),
		);
	}
	return results;
};

function nonEmpty(value: string | undefined): string | undefined {
	return value === undefined || value === "" ? undefined : value;
}

export function plural(n: number, word: string): string {
	return `${n} ${word}${n === 1 ? "" : "s"}`;
}
