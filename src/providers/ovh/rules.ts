/**
 * The access rules an OVH consumer key needs for ikvm-mcp: defined once here and
 * used by the credential helper (`ikvm-mcp ovh-credentials` asks OVH for exactly
 * these), the doctor (checks each one) and the README (a test keeps its table equal).
 *
 * OVH matches a rule by method and by path, where `*` stands for any characters,
 * `/` included (so `GET /dedicated/server/*` alone would cover the longer GET paths;
 * we still ask for each path explicitly so the key's rule list says what it is for).
 */
import type { AccessRule } from "./types.ts";

export interface RequiredAccessRule extends AccessRule {
	/** What ikvm-mcp uses the call for (the README table's last column). */
	readonly purpose: string;
}

export const OVH_ACCESS_RULES: readonly RequiredAccessRule[] = [
	{ method: "GET", path: "/dedicated/server", purpose: "listing your servers" },
	{ method: "GET", path: "/dedicated/server/*", purpose: "a server's datacenter, IP and reverse DNS" },
	{ method: "GET", path: "/dedicated/server/*/features/ipmi", purpose: "does the server have an HTML5 KVM" },
	{
		method: "POST",
		path: "/dedicated/server/*/features/ipmi/access",
		purpose: "asking OVH to open the console (a task)",
	},
	{ method: "GET", path: "/dedicated/server/*/features/ipmi/access", purpose: "reading the console's viewer URL" },
	{ method: "GET", path: "/dedicated/server/*/task/*", purpose: "waiting for that task" },
];

/**
 * The one extra rule power control needs (`reset` is OVH's reboot call). Not in OVH_ACCESS_RULES: a key
 * made for screenshots should not be able to reboot servers.
 */
export const OVH_REBOOT_ACCESS_RULE: RequiredAccessRule = {
	method: "POST",
	path: "/dedicated/server/*/reboot",
	purpose: "power reset (hard reboot), only when power control is enabled",
};

/** The rules as `POST /auth/credential` takes them. */
export function accessRulesForRequest(): AccessRule[] {
	return OVH_ACCESS_RULES.map(({ method, path }) => ({ method, path }));
}

/** "GET /dedicated/server/*": how errors, the doctor and OVH's manager name a rule. */
export function ruleLabel(rule: AccessRule): string {
	return `${rule.method} ${rule.path}`;
}

/** Whether a granted rule allows `method path` (a concrete path, or a rule path whose `*` are taken literally). */
export function ruleGrants(granted: AccessRule, method: string, path: string): boolean {
	if (granted.method !== method.toUpperCase()) return false;
	const pattern = granted.path
		.split("*")
		.map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
		.join(".*");
	return new RegExp(`^${pattern}$`).test(path);
}

/** The required rules that none of `granted` covers, in the order of OVH_ACCESS_RULES. */
export function missingRules(granted: readonly AccessRule[]): RequiredAccessRule[] {
	return OVH_ACCESS_RULES.filter((rule) => !granted.some((g) => ruleGrants(g, rule.method, rule.path)));
}
