/**
 * `bun run bench:load`: the server process under load and under faults,
 * against the mocks (reported, not a timed test).
 *
 * The MCP server runs as a subprocess (`bun run src/index.ts`, real HTTP) with
 * 10 configured consoles — 5 AMI BMCs by direct login, 5 VNC servers — and 2
 * OVH servers on the mock OVH API. 20 MCP sessions (the SDK client) then send
 * 200 concurrent list_servers and 50 concurrent get_screenshot (5 per console),
 * cold and warm. Then the BMCs drop every KVM connection in the middle of a
 * frame and the OVH API answers 500: every failed call must carry a clear
 * error, /health must stay up, and once CONSOLE_IDLE_SECONDS has passed no KVM
 * session, BMC login or VNC connection may be left open.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { encodeAst2500Frame } from "../src/demo/ast2500-encoder.ts";
import { MockBmc } from "../src/demo/bmc.ts";
import { sampleConsolePicture } from "../src/demo/console-picture.ts";
import { MOCK_APPLICATION_KEY, MOCK_APPLICATION_SECRET, MOCK_CONSUMER_KEY, MockOvhApi } from "../src/demo/ovh-api.ts";
import { type RfbTestServer, startRfbServer } from "../src/demo/rfb-server.ts";
import { spawnServer } from "../test/support/server-process.ts";

const SESSIONS = 20;
const LIST_CALLS = 200;
const SCREENSHOT_CALLS = 50;
const IDLE_SECONDS = 10;

interface Outcome {
	ms: number;
	ok: boolean;
	text: string;
}

interface PhaseRow {
	phase: string;
	calls: number;
	errors: number;
	p50: number;
	p99: number;
	max: number;
}

function percentile(sorted: number[], p: number): number {
	return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

function row(phase: string, outcomes: Outcome[]): PhaseRow {
	const ms = outcomes.map((o) => o.ms).sort((a, b) => a - b);
	return {
		phase,
		calls: outcomes.length,
		errors: outcomes.filter((o) => !o.ok).length,
		p50: percentile(ms, 50),
		p99: percentile(ms, 99),
		max: ms[ms.length - 1] ?? 0,
	};
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<Outcome> {
	const started = performance.now();
	try {
		const r = (await client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 })) as CallToolResult;
		const text = r.content.find((c) => c.type === "text");
		return { ms: performance.now() - started, ok: !r.isError, text: text?.type === "text" ? text.text : "" };
	} catch (error) {
		return { ms: performance.now() - started, ok: false, text: `transport failure: ${(error as Error).message}` };
	}
}

/** Peak resident set of a process (VmHWM), in MiB; Linux only. */
async function peakRssMiB(pid: number): Promise<number | undefined> {
	try {
		const status = await Bun.file(`/proc/${pid}/status`).text();
		const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
		return kb ? Number(kb) / 1024 : undefined;
	} catch {
		return undefined;
	}
}

function tableRow(cells: Array<string | number>): string {
	const [first, ...rest] = cells;
	const right = rest.map((c) => (typeof c === "number" ? c.toFixed(0) : c).padStart(6));
	return `| ${String(first).padEnd(34)} | ${right.join(" | ")} |`;
}

// ---------------------------------------------------------------- backends

const picture = sampleConsolePicture(1024, 768);
const frame = encodeAst2500Frame(picture);
const bmcs = await Promise.all([...Array(5)].map(() => new MockBmc({ frames: () => frame }).start()));
const viewerBmc = await new MockBmc({ frames: () => frame }).start();
const vncs: RfbTestServer[] = await Promise.all(
	[...Array(5)].map(() => startRfbServer({ image: picture, encoding: "zrle" })),
);
const ovhServers = ["ns3001234.ip-51-68-1.eu", "ns3005678.ip-51-68-2.eu"];
const ovh = await MockOvhApi.start({
	taskStepMs: 50,
	servers: ovhServers.map((name) => ({ name, datacenter: "gra3", viewerUrl: () => viewerBmc.viewerUrl() })),
});

const dir = await mkdtemp(join(tmpdir(), "ikvm-load-"));
const configFile = join(dir, "targets.json");
const consoles = [
	...bmcs.map((b, i) => ({
		id: `bmc-${i}`,
		type: "ami",
		url: b.origin,
		username: b.username,
		passwordEnv: "LOAD_BMC_PASS",
		tls: { insecure: true },
	})),
	...vncs.map((v, i) => ({ id: `vm-${i}`, type: "vnc", url: v.wsUrl })),
];
await writeFile(configFile, JSON.stringify({ servers: consoles }));

const server = await spawnServer({
	IKVM_CONFIG: configFile,
	LOAD_BMC_PASS: bmcs[0]?.password ?? "",
	OVH_ENDPOINT: ovh.endpoint,
	OVH_APPLICATION_KEY: MOCK_APPLICATION_KEY,
	OVH_APPLICATION_SECRET: MOCK_APPLICATION_SECRET,
	OVH_CONSUMER_KEY: MOCK_CONSUMER_KEY,
	OVH_IP_DISCOVERY_URL: ovh.ipDiscoveryUrl,
	CONSOLE_IDLE_SECONDS: String(IDLE_SECONDS),
	LOG_LEVEL: "warn",
});

const clients = await Promise.all(
	[...Array(SESSIONS)].map(async () => {
		const client = new Client({ name: "bench-load", version: "0" });
		await client.connect(new StreamableHTTPClientTransport(new URL(server.url)));
		return client;
	}),
);
const client = (i: number) => clients[i % SESSIONS] as Client;
const ids = consoles.map((c) => c.id);
const rows: PhaseRow[] = [];
const failures: string[] = [];

// ---------------------------------------------------------------- load

const lists = await Promise.all([...Array(LIST_CALLS)].map((_, i) => call(client(i), "list_servers", {})));
rows.push(row(`${LIST_CALLS} x list_servers`, lists));

for (const phase of ["cold", "warm"]) {
	const shots = await Promise.all(
		[...Array(SCREENSHOT_CALLS)].map((_, i) => call(client(i), "get_screenshot", { serverId: ids[i % ids.length] })),
	);
	rows.push(row(`${SCREENSHOT_CALLS} x get_screenshot, ${phase}`, shots));
	for (const s of shots) if (!s.ok) failures.push(`${phase}: ${s.text}`);
}
for (const l of lists) if (!l.ok) failures.push(`list: ${l.text}`);
const loadRss = await peakRssMiB(server.proc.pid);
const ovhListRequests = ovh.count("GET", "/dedicated/server");
const logins = bmcs.reduce((n, b) => n + b.stats.logins, 0);
const fullScreens = bmcs.reduce((n, b) => n + b.stats.fullScreenRequests, 0);

// ---------------------------------------------------------------- faults

for (const b of bmcs) {
	b.options.closeMidFrame = 1;
	b.dropKvmConnections();
}
ovh.inject({ status: 500, times: Number.POSITIVE_INFINITY });
const faultIds = [...ids, ...ovhServers];
const faulty = await Promise.all(
	[...Array(SCREENSHOT_CALLS)].map((_, i) =>
		call(client(i), "get_screenshot", { serverId: faultIds[i % faultIds.length] }),
	),
);
const faultLists = await Promise.all([...Array(20)].map((_, i) => call(client(i), "list_servers", {})));
rows.push(row(`${SCREENSHOT_CALLS} x get_screenshot, faults`, faulty));
rows.push(row("20 x list_servers, faults", faultLists));
const failed = faulty.filter((o) => !o.ok);
const clear = /^Error \([A-Z_]+\): .{20,}\[stage: [a-z-]+\]/;
const unclear = failed.filter((o) => !clear.test(o.text));
const byCode = new Map<string, number>();
for (const o of failed) {
	const code = /^Error \(([A-Z_]+)\)/.exec(o.text)?.[1] ?? "unclear";
	byCode.set(code, (byCode.get(code) ?? 0) + 1);
}
// One example of each kind of error (numbers and ports aside).
const examples = new Map<string, string>();
for (const o of failed) {
	const kind = o.text.replace(/\d+/g, "#");
	if (!examples.has(kind)) examples.set(kind, o.text);
}
const health = await fetch(`${server.origin}/health`).then(
	(r) => r.ok,
	() => false,
);

// Leaks: after the idle time every warm console is closed.
await Bun.sleep((IDLE_SECONDS + 1.5) * 1000);
const open = {
	kvmSessions: [...bmcs, viewerBmc].reduce((n, b) => n + b.stats.kvmSessions, 0),
	kvmSockets: [...bmcs, viewerBmc].reduce((n, b) => n + b.stats.kvmOpen, 0),
	webLogins: bmcs.reduce((n, b) => n + b.stats.webSessions, 0),
	vncConnections: vncs.reduce((n, v) => n + v.openConnections, 0),
};
const peakRss = await peakRssMiB(server.proc.pid);

await Promise.all(clients.map((c) => c.close()));
const stopped = await server.stop("SIGTERM");
await Promise.allSettled([ovh.stop(), viewerBmc.stop(), ...bmcs.map((b) => b.stop()), ...vncs.map((v) => v.close())]);
await rm(dir, { recursive: true, force: true });

// ---------------------------------------------------------------- report

console.log(
	`\nikvm-mcp load: ${SESSIONS} MCP sessions over HTTP, ${ids.length} consoles (5 AMI BMCs, 5 VNC), 1024x768\n`,
);
console.log(tableRow(["phase", "calls", "errors", "p50 ms", "p99 ms", "max ms"]));
console.log(`|${"-".repeat(36)}|${"-------:|".repeat(5)}`);
for (const r of rows) console.log(tableRow([r.phase, r.calls, r.errors, r.p50, r.p99, r.max]));
console.log("");
console.log(
	`server peak RSS: ${loadRss?.toFixed(0) ?? "n/a"} MiB after load, ${peakRss?.toFixed(0) ?? "n/a"} MiB overall`,
);
console.log(
	`load phase: ${logins} BMC logins and ${fullScreens} GET_FULL_SCREEN for ${2 * SCREENSHOT_CALLS} screenshots`,
);
console.log(`load phase: ${ovhListRequests} GET /dedicated/server on the OVH API for ${LIST_CALLS} list_servers`);
console.log(`faults: ${failed.length} failed calls, by code ${JSON.stringify(Object.fromEntries(byCode))}`);
for (const text of examples.values()) console.log(`  e.g. ${text.slice(0, 200)}`);
console.log(`every failure has a clear error: ${unclear.length === 0 ? "yes" : `NO (${unclear.length})`}`);
console.log(`/health during faults: ${health ? "ok" : "DOWN"}`);
console.log(`left open after ${IDLE_SECONDS + 1.5} s idle: ${JSON.stringify(open)}`);
console.log(`SIGTERM: exit ${stopped.code} in ${stopped.ms.toFixed(0)} ms`);

const problems = [
	...failures.map((f) => `load-phase error: ${f}`),
	...unclear.map((o) => `unclear error: ${o.text}`),
	...(health ? [] : ["/health failed during faults"]),
	...Object.entries(open)
		.filter(([, n]) => n !== 0)
		.map(([k, n]) => `leak: ${k} = ${n}`),
	...(stopped.code === 0 ? [] : [`exit code ${stopped.code}`]),
];
if (problems.length > 0) {
	console.log(`\nPROBLEMS:\n${problems.slice(0, 20).join("\n")}`);
	process.exit(1);
}
