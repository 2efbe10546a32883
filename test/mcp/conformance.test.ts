import { expect, test } from "bun:test";
import { APPLICABLE_SCENARIOS, runConformance } from "../../scripts/conformance.ts";

test(
	"the official MCP conformance scenarios that apply to this server pass",
	async () => {
		const results = await runConformance();
		expect(results.map((r) => r.scenario)).toEqual([...APPLICABLE_SCENARIOS]);
		for (const r of results) expect(`${r.scenario}: ${r.passed ? "pass" : r.summary}`).toBe(`${r.scenario}: pass`);
	},
	{ timeout: 120_000 },
);
