/**
 * `ikvm-mcp ovh-credentials`: asks OVH for a consumer key with exactly the access
 * rules ikvm-mcp needs (OVH_ACCESS_RULES) and prints what to do with it.
 *
 * stdout is data a shell can `eval`: the validation URL as a comment and the
 * `export OVH_*=` lines. The application secret is never asked for nor printed:
 * its line is a commented placeholder the user completes. Guidance goes to stderr.
 */
import type { IkvmError } from "../errors.ts";
import { OvhApiClient, resolveEndpoint } from "../providers/ovh/api.ts";
import { accessRulesForRequest, OVH_ACCESS_RULES, ruleLabel } from "../providers/ovh/rules.ts";
import type { CredentialRequestResult } from "../providers/ovh/types.ts";
import { type CliIo, COMMON_OPTIONS, parse, UsageError } from "./args.ts";

export const OVH_CREDENTIALS_USAGE = `Usage: ikvm-mcp ovh-credentials [--endpoint eu|ca|us|URL] [--application-key AK] [--redirect URL]

Asks OVH for a consumer key with exactly the access rules ikvm-mcp needs, then prints the
validation URL to open (log in to OVH there to activate the key) and the OVH_* lines to export.

  --endpoint         OVH region (eu, ca, us, ovh-eu, kimsufi-eu, ...) or API URL; default $OVH_ENDPOINT or eu
  --application-key  your application key; default $OVH_APPLICATION_KEY
                     (create an application at https://eu.api.ovh.com/createApp/ first)
  --redirect         where OVH sends the browser after validation

The application secret is never printed: add it to the printed lines yourself.`;

export interface CredentialRequestOptions {
	endpoint: string;
	applicationKey: string;
	redirect?: string;
	signal?: AbortSignal;
	timeoutMs?: number;
}

/** Asks OVH (`POST /auth/credential`, unsigned) for a consumer key with the rules ikvm-mcp needs. */
export function requestConsumerKey(options: CredentialRequestOptions): Promise<CredentialRequestResult> {
	const api = new OvhApiClient({
		endpoint: options.endpoint,
		applicationKey: options.applicationKey,
		// Unsigned call: no secret is involved.
		applicationSecret: "",
		timeoutMs: options.timeoutMs ?? 15_000,
		retries: 1,
	});
	return api.requestCredential(accessRulesForRequest(), { redirection: options.redirect, signal: options.signal });
}

/** A value as a POSIX shell word: bare when safe, else single-quoted. */
export function shellWord(value: string): string {
	if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
	return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** What goes to stdout: shell lines, the secret as a commented placeholder. */
export function renderCredentialExports(input: {
	endpoint: string;
	applicationKey: string;
	result: CredentialRequestResult;
}): string {
	return [
		"# 1. Open this URL and log in to OVH to validate the consumer key (OVH refuses it until then):",
		`#    ${input.result.validationUrl}`,
		"# 2. Export these (add your application secret: ikvm-mcp never prints it):",
		`export OVH_ENDPOINT=${shellWord(input.endpoint)}`,
		`export OVH_APPLICATION_KEY=${shellWord(input.applicationKey)}`,
		"# export OVH_APPLICATION_SECRET='<your application secret>'",
		`export OVH_CONSUMER_KEY=${shellWord(input.result.consumerKey)}`,
		"",
	].join("\n");
}

export async function ovhCredentialsCommand(argv: string[], io: CliIo): Promise<number> {
	const { values, positionals } = parse(
		argv,
		{
			help: COMMON_OPTIONS.help,
			endpoint: { type: "string" },
			"application-key": { type: "string" },
			redirect: { type: "string" },
		},
		OVH_CREDENTIALS_USAGE,
	);
	if (values.help) {
		io.stdout(`${OVH_CREDENTIALS_USAGE}\n`);
		return 0;
	}
	if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`, OVH_CREDENTIALS_USAGE);

	const endpoint = (values.endpoint ?? io.env.OVH_ENDPOINT ?? "").trim() || "eu";
	let base: string;
	try {
		base = resolveEndpoint(endpoint);
	} catch (error) {
		throw new UsageError(`--endpoint: ${(error as IkvmError).toUserMessage()}`, OVH_CREDENTIALS_USAGE);
	}
	const applicationKey = (values["application-key"] ?? io.env.OVH_APPLICATION_KEY ?? "").trim();
	if (!applicationKey) {
		throw new UsageError(
			`give --application-key (or set OVH_APPLICATION_KEY); create an application at ${createAppUrl(base)}`,
			OVH_CREDENTIALS_USAGE,
		);
	}
	const redirect = values.redirect;
	if (redirect !== undefined && !/^https?:$/.test(URL.canParse(redirect) ? new URL(redirect).protocol : "")) {
		throw new UsageError(`--redirect must be an http(s) URL, got "${redirect}"`, OVH_CREDENTIALS_USAGE);
	}

	io.stderr(`Asking OVH (${base}) for a consumer key with these access rules:\n`);
	for (const rule of OVH_ACCESS_RULES) io.stderr(`  ${ruleLabel(rule).padEnd(48)} ${rule.purpose}\n`);

	const result = await requestConsumerKey({ endpoint, applicationKey, redirect, signal: io.signal });
	io.stdout(renderCredentialExports({ endpoint, applicationKey, result }));
	io.stderr(
		[
			"",
			`OVH answered: consumer key ${result.state === "pendingValidation" ? "waiting for validation" : `in state "${result.state}"`}.`,
			"Next:",
			"  1. open the validation URL above and log in (choose an unlimited validity, or note when it expires);",
			"  2. set the OVH_* variables (with your application secret) where ikvm-mcp runs —",
			"     `ikvm-mcp config <client>` prints them for your MCP client;",
			"  3. run `ikvm-mcp doctor` to check the key and its rules.",
			"",
		].join("\n"),
	);
	return 0;
}

/** Where applications are created for this API (same host as the API). */
function createAppUrl(base: string): string {
	return `${new URL(base).origin}/createApp/`;
}
