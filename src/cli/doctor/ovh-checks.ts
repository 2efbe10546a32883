/**
 * Doctor steps for OVH: the API answers, the clock, the credentials, each access
 * rule, and each server's IPMI. Every call is read-only or rejected by OVH before
 * it does anything (see checkAccessRules); none opens a console.
 */
import type { OvhSettings } from "../../config.ts";
import { type IkvmError, isIkvmError } from "../../errors.ts";
import { readBodyWithin } from "../../net/read-body.ts";
import { checkIpmiFeatures } from "../../providers/ovh/access.ts";
import { type OvhApiClient, signRequest } from "../../providers/ovh/api.ts";
import { OvhApiError } from "../../providers/ovh/api-errors.ts";
import { OVH_ACCESS_RULES, type RequiredAccessRule, ruleGrants, ruleLabel } from "../../providers/ovh/rules.ts";
import {
	type CurrentCredential,
	CurrentCredentialSchema,
	DedicatedServerSchema,
	IpmiAccessValueSchema,
	IpmiSchema,
	ServiceNamesSchema,
	TaskSchema,
} from "../../providers/ovh/types.ts";
import { mapLimit } from "../../timing.ts";
import { type CheckResult, type DoctorContext, type DoctorStep, fail, pass, skip, warn } from "./types.ts";

const NEW_KEY_FIX =
	"Rules of a consumer key cannot be changed: create a new key with `ikvm-mcp ovh-credentials` (it asks for " +
	"every rule ikvm-mcp needs), validate it, and set OVH_CONSUMER_KEY to it.";

/** Days before a consumer key's expiry from which the doctor warns. */
const EXPIRY_WARN_DAYS = 7;

function describe(error: unknown): { detail: string; fix?: string } {
	if (isIkvmError(error)) return { detail: error.message, fix: error.hint };
	return { detail: error instanceof Error ? error.message : String(error) };
}

export const checkOvhReachable: DoctorStep = async (state, ctx) => {
	const name = "OVH API";
	if (!state.ovh) {
		// Said once here; the later OVH steps then print nothing.
		if (state.config && !state.config.ovh) return [skip(name, "not configured (no OVH_* credentials)")];
		state.ovhBlocked = "the environment is invalid";
		return [skip(name, `skipped: ${state.ovhBlocked}`)];
	}
	const started = performance.now();
	try {
		state.clockDelta = await state.ovh.timeDeltaSeconds(ctx.signal);
	} catch (error) {
		state.ovhBlocked = "the OVH API is unreachable";
		const { detail, fix } = describe(error);
		return [fail(name, `GET /auth/time failed: ${detail}`, fix)];
	}
	const ms = Math.round(performance.now() - started);
	return [pass(name, `${state.ovh.baseUrl} answered /auth/time in ${ms} ms`)];
};

/**
 * How far this machine's clock is from OVH's. ikvm-mcp stamps its own requests with
 * OVH's clock, so drift alone does not break it; but OVH rejects a signed request whose
 * timestamp is outside its window, and a clock without time sync keeps drifting and
 * jumps. Above the warning threshold we ask OVH itself: one signed request stamped with
 * our own clock. QUERY_TIME_OUT means OVH refuses this clock: a failure.
 */
export const checkClock: DoctorStep = async (state, ctx) => {
	const name = "clock";
	if (!state.ovh) return [];
	if (state.clockDelta === undefined) return [skip(name, `skipped: ${state.ovhBlocked}`)];
	const delta = state.clockDelta;
	const off = `${Math.abs(delta)} s ${delta > 0 ? "behind" : "ahead of"} OVH's clock`;
	const threshold = ctx.options.clockWarnSeconds ?? 10;
	if (Math.abs(delta) <= threshold) {
		// OVH's clock has whole seconds: ±1 s is measurement noise.
		return [pass(name, Math.abs(delta) <= 1 ? "in step with OVH's clock" : `${off} (within ${threshold} s)`)];
	}
	const fix = "Enable time sync on this machine (`timedatectl set-ntp true`, chrony or ntpd).";
	const refused = state.config?.ovh ? await refusedWithLocalClock(state.ovh, state.config.ovh, ctx) : false;
	if (refused) {
		return [
			fail(
				name,
				`this machine's clock is ${off}: OVH refuses requests stamped with it (QUERY_TIME_OUT); ikvm-mcp ` +
					"stamps its own with OVH's clock, but a clock this far off without time sync drifts and jumps",
				fix,
			),
		];
	}
	return [warn(name, `this machine's clock is ${off}; ikvm-mcp corrects for it, OVH still accepts it`, fix)];
};

/** One signed GET /auth/currentCredential stamped with the local clock: does OVH answer QUERY_TIME_OUT? */
async function refusedWithLocalClock(api: OvhApiClient, settings: OvhSettings, ctx: DoctorContext): Promise<boolean> {
	const consumerKey = settings.consumerKey;
	const url = `${api.baseUrl}/auth/currentCredential`;
	const timestamp = Math.floor(Date.now() / 1000);
	try {
		const response = await fetch(url, {
			headers: {
				Accept: "application/json",
				"X-Ovh-Application": settings.applicationKey,
				"X-Ovh-Consumer": consumerKey,
				"X-Ovh-Timestamp": String(timestamp),
				"X-Ovh-Signature": signRequest({
					applicationSecret: settings.applicationSecret,
					consumerKey,
					method: "GET",
					url,
					body: "",
					timestamp,
				}),
			},
			redirect: "manual",
			signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(ctx.timeouts.ovhRequestMs)]),
		});
		if (response.status !== 400) {
			await response.body?.cancel().catch(() => {});
			return false;
		}
		// OVH's error replies are small: a larger body is not the one looked for.
		const text = await readBodyWithin(response, 64 * 1024);
		if (text === undefined) return false;
		const body = JSON.parse(text) as { errorCode?: string } | null;
		return body?.errorCode === "QUERY_TIME_OUT";
	} catch {
		// No answer says nothing about the clock; the drift alone then only warns.
		return false;
	}
}

export const checkCredentials: DoctorStep = async (state, ctx) => {
	const name = "OVH credentials";
	if (!state.ovh) return [];
	if (state.ovhBlocked) return [skip(name, `skipped: ${state.ovhBlocked}`)];
	let parsed: CurrentCredential;
	try {
		parsed = await state.ovh.get("/auth/currentCredential", CurrentCredentialSchema, { signal: ctx.signal });
	} catch (error) {
		state.ovhBlocked = "the OVH credentials are not valid";
		const { detail, fix } = describe(error);
		const better =
			error instanceof OvhApiError && error.ovhErrorCode === "INVALID_CREDENTIAL" ? VALIDATE_FIX : undefined;
		return [fail(name, detail, better ?? fix)];
	}
	state.credential = parsed;
	const id = parsed.credentialId ? ` (credential ${parsed.credentialId})` : "";
	if (parsed.status !== "validated") {
		state.ovhBlocked = "the OVH consumer key is not usable";
		const what: Record<string, string> = {
			pendingValidation: "is not validated yet",
			expired: "has expired",
			refused: "was refused at validation",
		};
		return [
			fail(
				name,
				`the consumer key ${what[parsed.status] ?? `is in state "${parsed.status}"`}${id}`,
				parsed.status === "pendingValidation" ? VALIDATE_FIX : `Create a new consumer key: ${NEW_KEY_FIX}`,
			),
		];
	}
	const expires = parsed.expiration ? Date.parse(parsed.expiration) : Number.NaN;
	if (Number.isFinite(expires)) {
		const when = new Date(expires).toISOString();
		if (expires <= Date.now()) {
			state.ovhBlocked = "the OVH consumer key has expired";
			return [fail(name, `the consumer key expired at ${when}${id}`, `Create a new consumer key: ${NEW_KEY_FIX}`)];
		}
		if (expires - Date.now() < EXPIRY_WARN_DAYS * 86_400_000) {
			return [
				warn(
					name,
					`consumer key validated${id}, but it expires at ${when}`,
					"Create a new key before then with `ikvm-mcp ovh-credentials` (choose a longer validity when validating).",
				),
			];
		}
		return [pass(name, `consumer key validated${id}, expires ${when}`)];
	}
	return [pass(name, `consumer key validated${id}, no expiry`)];
};

const VALIDATE_FIX =
	"Open the validation URL OVH gave when the key was created (`ikvm-mcp ovh-credentials` prints it) and log in; " +
	"if it is lost or expired, run `ikvm-mcp ovh-credentials` again and use the new key.";

/** The probe of a rule; undefined when it needs a server and there is none. */
function probeCall(
	api: OvhApiClient,
	rule: RequiredAccessRule,
	server: string | undefined,
	listing: Promise<string[]>,
	signal: AbortSignal,
): Promise<unknown> | undefined {
	const label = ruleLabel(rule);
	if (label === "GET /dedicated/server") return listing;
	if (server === undefined) return undefined;
	const base = `/dedicated/server/${encodeURIComponent(server)}`;
	switch (label) {
		case "GET /dedicated/server/*":
			return api.get(base, DedicatedServerSchema, { signal });
		case "GET /dedicated/server/*/features/ipmi":
			return api.get(`${base}/features/ipmi`, IpmiSchema, { signal });
		case "POST /dedicated/server/*/features/ipmi/access":
			return api.post(`${base}/features/ipmi/access`, { type: "ikvm-mcp-doctor-probe" }, TaskSchema, { signal });
		case "GET /dedicated/server/*/features/ipmi/access":
			// The answer may hold a live viewer URL: it is read and dropped, never shown.
			return api.get(`${base}/features/ipmi/access`, IpmiAccessValueSchema, {
				signal,
				query: { type: "kvmipHtml5URL" },
			});
		case "GET /dedicated/server/*/task/*":
			return api.get(`${base}/task/0`, TaskSchema, { signal });
		default:
			// A rule added to OVH_ACCESS_RULES without a probe is judged by the key's rule list alone.
			return undefined;
	}
}

/** What a probe of one rule found. */
type ProbeOutcome = { granted: true; note?: string } | { granted: false; detail: string; fix?: string };

/**
 * A harmless call per rule, chosen so OVH checks the grant and then does nothing:
 * reads (GET) of the first server, and task 0, which does not exist (404 after the
 * grant check). The POST rule is the one that could open a console: its probe sends
 * an invalid `type`, which OVH rejects with 400 without creating anything. OVH does
 * not document whether it checks the grant before validating the body, so a 400
 * alone would not prove the grant: for this rule the key's own rule list (read from
 * /auth/currentCredential) decides, and the probe only adds what the list cannot
 * show (an IAM policy denying the call, 403 FORBIDDEN).
 */
async function probeRule(
	api: OvhApiClient,
	rule: RequiredAccessRule,
	server: string | undefined,
	listing: Promise<string[]>,
	signal: AbortSignal,
): Promise<ProbeOutcome | undefined> {
	const pending = probeCall(api, rule, server, listing, signal);
	if (!pending) return undefined;
	try {
		await pending;
		return { granted: true };
	} catch (error) {
		if (!(error instanceof OvhApiError)) return { granted: false, ...describe(error) };
		// Past the grant check: the object is missing or the (deliberately invalid) parameters are refused.
		if (error.httpStatus === 404) return { granted: true, note: "answered 404 after the grant check" };
		if (error.httpStatus === 400 && !error.ovhErrorCode)
			return { granted: true, note: "invalid probe refused with 400" };
		if (error.ovhErrorCode === "NOT_GRANTED_CALL") {
			return { granted: false, detail: "not granted: OVH answered 403 NOT_GRANTED_CALL", fix: NEW_KEY_FIX };
		}
		return { granted: false, ...describe(error as IkvmError) };
	}
}

export const checkAccessRules: DoctorStep = async (state, ctx) => {
	if (!state.ovh) return [];
	if (state.ovhBlocked) return [skip("access rules", `skipped: ${state.ovhBlocked}`)];
	const api = state.ovh;
	const granted = state.credential?.rules ?? undefined;
	const results: CheckResult[] = [];

	// The list is the first rule's probe, and names the server the other probes use.
	const listing = api.get("/dedicated/server", ServiceNamesSchema, { signal: ctx.signal });
	try {
		state.servers = await listing;
	} catch {
		// Reported as that rule's result below.
	}
	const sample = state.servers?.[0];

	for (const rule of OVH_ACCESS_RULES) {
		const name = `rule ${ruleLabel(rule)}`;
		const listed = granted ? granted.some((g) => ruleGrants(g, rule.method, rule.path)) : undefined;
		if (listed === false) {
			results.push(fail(name, "not in the consumer key's access rules (/auth/currentCredential)", NEW_KEY_FIX));
			continue;
		}
		const outcome = await probeRule(api, rule, sample, listing, ctx.signal);
		if (!outcome) {
			results.push(
				listed
					? pass(name, "in the consumer key's access rules (not probed: no server on this account)")
					: skip(name, "not checked: no server to probe with, and the key's rules are not readable"),
			);
		} else if (outcome.granted) {
			results.push(pass(name, listed ? "granted" : `granted (${outcome.note ?? "probe succeeded"})`));
		} else {
			results.push(fail(name, outcome.detail, outcome.fix));
		}
	}
	return results;
};

export const checkOvhServers: DoctorStep = async (state, ctx) => {
	if (!state.ovh) return [];
	if (state.ovhBlocked) return [skip("OVH servers", `skipped: ${state.ovhBlocked}`)];
	const servers = state.servers;
	if (!servers) return [skip("OVH servers", "skipped: the servers could not be listed (see the rules above)")];
	if (servers.length === 0) {
		return [
			warn(
				"OVH servers",
				`no dedicated server on this OVH account (${state.ovh.baseUrl})`,
				"Check that OVH_ENDPOINT is the region of your servers (eu, ca, us) and that the key belongs to their account.",
			),
		];
	}
	const api = state.ovh;
	const checked = await mapLimit(servers, 4, (server) => checkIpmiFeatures(api, server, ctx.signal));
	const results = servers.map((server, i): CheckResult => {
		const name = `server ${server}`;
		const result = checked[i];
		if (result?.status === "fulfilled") return pass(name, "IPMI activated, HTML5 KVM supported");
		const { detail, fix } = describe(result?.reason);
		return fail(name, detail, fix);
	});
	return results;
};
