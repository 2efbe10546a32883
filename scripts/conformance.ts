/**
 * `bun run conformance`: the official MCP conformance suite's server scenarios
 * that apply to this server, against a freshly started HTTP server.
 */
import { loadConfig } from "../src/config.ts";
import { startServing } from "../src/serve.ts";

/** The scenarios that apply: the rest expect the suite's own test tools, prompts or resources. */
export const APPLICABLE_SCENARIOS = [
	"server-initialize",
	"ping",
	"tools-list",
	"dns-rebinding-protection",
	"logging-set-level",
	"server-sse-multiple-streams",
] as const;

const SUITE = new URL("../node_modules/@modelcontextprotocol/conformance/dist/index.js", import.meta.url).pathname;

export interface ScenarioResult {
	scenario: string;
	passed: boolean;
	summary: string;
}

export async function runScenario(url: string, scenario: string): Promise<ScenarioResult> {
	const proc = Bun.spawn([process.execPath, SUITE, "server", "--url", url, "--scenario", scenario], {
		stdout: "pipe",
		stderr: "pipe",
		env: { ...process.env, NO_COLOR: "1" },
	});
	const timer = setTimeout(() => proc.kill(), 60_000);
	const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
	await proc.exited;
	clearTimeout(timer);
	const match = /Passed: (\d+)\/(\d+), (\d+) failed/.exec(out);
	const passed = !!match && match[1] === match[2] && match[3] === "0";
	return { scenario, passed, summary: match ? match[0] : (out + err).trim().split("\n").slice(-3).join(" ") };
}

export async function runConformance(): Promise<ScenarioResult[]> {
	const running = await startServing(loadConfig({ PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent" }), {
		providers: [],
	});
	try {
		const url = `http://127.0.0.1:${running.http?.port}/mcp`;
		const results: ScenarioResult[] = [];
		for (const scenario of APPLICABLE_SCENARIOS) results.push(await runScenario(url, scenario));
		return results;
	} finally {
		await running.stop();
	}
}

if (import.meta.main) {
	const results = await runConformance();
	for (const r of results) console.log(`${r.passed ? "pass" : "FAIL"}  ${r.scenario}  ${r.summary}`);
	const failed = results.filter((r) => !r.passed).length;
	console.log(`${results.length - failed}/${results.length} applicable conformance scenarios pass`);
	process.exit(failed === 0 ? 0 : 1);
}
