import { describe, expect, test } from "bun:test";
import { accessRuleFor } from "../../../src/providers/ovh/api-errors.ts";
import {
	accessRulesForRequest,
	missingRules,
	OVH_ACCESS_RULES,
	ruleGrants,
	ruleLabel,
} from "../../../src/providers/ovh/rules.ts";
import { PROVIDER_CALLS } from "./support.ts";

async function ovhCredentialsSection(): Promise<string> {
	const readme = await Bun.file(new URL("../../../README.md", import.meta.url)).text();
	const start = readme.indexOf("### OVH credentials");
	expect(start).toBeGreaterThan(0);
	const end = readme.indexOf("\n## ", start);
	return readme.slice(start, end);
}

describe("the access rules ikvm-mcp needs", () => {
	test("README's table lists exactly the code's rules, in order, with their purposes", async () => {
		const section = await ovhCredentialsSection();
		const rows = [...section.matchAll(/^\s*\|\s*(GET|POST|PUT|DELETE)\s*\|\s*`([^`]+)`\s*\|\s*(.*?)\s*\|\s*$/gm)].map(
			(m) => ({ method: m[1], path: m[2], purpose: m[3] }),
		);
		expect(rows).toEqual(OVH_ACCESS_RULES.map((r) => ({ ...r })));
	});

	test("README's hand-made request (curl) asks for exactly the same rules", async () => {
		const section = await ovhCredentialsSection();
		const body = /-d '(\{"accessRules":[\s\S]*?\})'/.exec(section)?.[1];
		expect(body).toBeDefined();
		expect(JSON.parse(body as string).accessRules).toEqual(accessRulesForRequest());
	});

	test("every call the OVH provider makes is covered, and named by the rule errors cite", () => {
		const labels = OVH_ACCESS_RULES.map(ruleLabel);
		for (const [method, path] of PROVIDER_CALLS) {
			expect(labels).toContain(accessRuleFor(method, path));
			expect(OVH_ACCESS_RULES.some((r) => ruleGrants(r, method, path))).toBe(true);
		}
	});

	test("a granted rule covers a required one as OVH matches: method equal, * spans any characters", () => {
		expect(ruleGrants({ method: "GET", path: "/*" }, "GET", "/dedicated/server/*/task/*")).toBe(true);
		expect(ruleGrants({ method: "GET", path: "/dedicated/server/*" }, "GET", "/dedicated/server/*/features/ipmi")).toBe(
			true,
		);
		expect(ruleGrants({ method: "GET", path: "/dedicated/server" }, "GET", "/dedicated/server/*")).toBe(false);
		expect(ruleGrants({ method: "GET", path: "/dedicated/server/*" }, "POST", "/dedicated/server/*")).toBe(false);
		expect(ruleGrants({ method: "GET", path: "/dedicated/server.json" }, "GET", "/dedicated/serverXjson")).toBe(false);
	});

	test("missingRules names the required rules nothing grants", () => {
		expect(missingRules(accessRulesForRequest())).toEqual([]);
		expect(missingRules([{ method: "GET", path: "/*" }]).map(ruleLabel)).toEqual([
			"POST /dedicated/server/*/features/ipmi/access",
		]);
		expect(missingRules([])).toHaveLength(OVH_ACCESS_RULES.length);
	});
});
