/**
 * Secret scan: known secrets go in (OVH application secret and consumer key,
 * BMC and VNC passwords, right and wrong) and the mock BMCs hand out more
 * (session cookies, CSRF tokens, viewer-URL access tokens, KVM tokens). Success
 * and failure paths run through the MCP server with LOG_LEVEL=debug, and every
 * byte written — log lines, tool results, progress messages, and in the
 * subprocess variant the process's whole stdout and stderr — is searched for
 * each secret, raw and URL-encoded.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { encodeAst2500Frame } from "../../src/demo/ast2500-encoder.ts";
import { sampleConsolePicture } from "../../src/demo/console-picture.ts";
import { type RfbTestServer, startRfbServer } from "../../src/demo/rfb-server.ts";
import { configureLogging } from "../../src/log.ts";
import { MockBmc } from "../mocks/bmc.ts";
import { MockOvhApi } from "../mocks/ovh-api.ts";
import { httpClient, inMemoryClient, texts } from "../support/mcp.ts";
import { spawnServer } from "../support/server-process.ts";

// Secrets with characters that change under URL and form encoding.
const APP_KEY = "leakTestAppKey42";
const APP_SECRET = "leakAppSecret+Kd8/Vn6=Tq0";
const CONSUMER_KEY = "leakConsumerKey&Gp4Xs7?Ce2";
const BMC_PASSWORD = "bmc-P@ss/w0rd+leak";
const BMC_WRONG_PASSWORD = "wrong-P@ss=leak#2";
const VNC_PASSWORD = "vncLeak7";
const VNC_WRONG_PASSWORD = "badVnc99";

const OVH_OK = "ns3001234.ip-51-68-1.eu";
const OVH_FORBIDDEN = "ns3005678.ip-51-68-2.eu";

const picture = sampleConsolePicture(160, 96);
const frame = encodeAst2500Frame(picture);

let ovh: MockOvhApi;
let ovhBmc: MockBmc;
let loginBmc: MockBmc;
let rejectingBmc: MockBmc;
let stallingBmc: MockBmc;
let vnc: RfbTestServer;
let dir: string;
let configFile: string;

const PASSWORD_ENV = {
	LEAK_BMC_PASS: BMC_PASSWORD,
	LEAK_BMC_WRONG: BMC_WRONG_PASSWORD,
	LEAK_VNC_PASS: VNC_PASSWORD,
	LEAK_VNC_WRONG: VNC_WRONG_PASSWORD,
};

beforeAll(async () => {
	[ovhBmc, loginBmc, rejectingBmc, stallingBmc] = await Promise.all([
		new MockBmc({ frames: () => frame }).start(),
		new MockBmc({ frames: () => frame, password: BMC_PASSWORD }).start(),
		// Accepts the login and the KVM token, then rejects the KVM session.
		new MockBmc({ frames: () => frame, password: BMC_PASSWORD, validation: 0 }).start(),
		new MockBmc({ frames: () => frame, password: BMC_PASSWORD, stall: "frame" }).start(),
	]);
	ovh = await MockOvhApi.start({
		applicationKey: APP_KEY,
		applicationSecret: APP_SECRET,
		consumerKey: CONSUMER_KEY,
		taskStepMs: 0,
		servers: [
			{ name: OVH_OK, datacenter: "gra3", ip: "51.68.1.10", viewerUrl: () => ovhBmc.viewerUrl() },
			{ name: OVH_FORBIDDEN, datacenter: "rbx8", ip: "51.68.2.20", viewerUrl: () => ovhBmc.viewerUrl() },
		],
	});
	vnc = await startRfbServer({ image: picture, security: "vnc", password: VNC_PASSWORD });
	dir = await mkdtemp(join(tmpdir(), "ikvm-secrets-"));
	configFile = join(dir, "targets.json");
	const ami = (id: string, bmc: MockBmc, passwordEnv: string) => ({
		id,
		type: "ami",
		url: bmc.origin,
		username: bmc.username,
		passwordEnv,
		tls: { insecure: true },
	});
	await writeFile(
		configFile,
		JSON.stringify({
			servers: [
				ami("rack", loginBmc, "LEAK_BMC_PASS"),
				ami("rack-wrong-password", loginBmc, "LEAK_BMC_WRONG"),
				ami("rack-rejecting", rejectingBmc, "LEAK_BMC_PASS"),
				ami("rack-stalling", stallingBmc, "LEAK_BMC_PASS"),
				{ id: "vm", type: "vnc", url: vnc.wsUrl, passwordEnv: "LEAK_VNC_PASS" },
				{ id: "vm-wrong-password", type: "vnc", host: "127.0.0.1", port: vnc.tcpPort, passwordEnv: "LEAK_VNC_WRONG" },
			],
		}),
	);
});

afterAll(async () => {
	await Promise.allSettled([
		ovh.stop(),
		vnc.close(),
		...[ovhBmc, loginBmc, rejectingBmc, stallingBmc].map((b) => b.stop()),
		rm(dir, { recursive: true, force: true }),
	]);
});

function serverEnv(): Record<string, string> {
	return {
		OVH_ENDPOINT: ovh.endpoint,
		OVH_APPLICATION_KEY: APP_KEY,
		OVH_APPLICATION_SECRET: APP_SECRET,
		OVH_CONSUMER_KEY: CONSUMER_KEY,
		OVH_IP_DISCOVERY_URL: ovh.ipDiscoveryUrl,
		IKVM_CONFIG: configFile,
		TOOL_TIMEOUT_SECONDS: "2",
		LOG_LEVEL: "debug",
		...PASSWORD_ENV,
	};
}

/** Runs every path and returns what the client saw: results and progress messages, as text. */
async function scenario(client: Client): Promise<{ seen: string[]; outcomes: Record<string, string> }> {
	const seen: string[] = [];
	const outcomes: Record<string, string> = {};
	const call = async (label: string, name: string, args: Record<string, unknown>) => {
		const result = (await client.callTool({ name, arguments: args }, undefined, {
			onprogress: (p) => seen.push(JSON.stringify(p)),
			timeout: 20_000,
		})) as CallToolResult;
		seen.push(JSON.stringify(result));
		outcomes[label] = result.isError ? (texts(result)[0] ?? "error") : "ok";
	};
	await call("list", "list_servers", {});
	for (const id of [OVH_OK, "rack", "vm", "rack"]) await call(`${id} screenshot`, "get_screenshot", { serverId: id });
	await call("bmc wrong password", "get_screenshot", { serverId: "rack-wrong-password" });
	await call("vnc wrong password", "get_screenshot", { serverId: "vm-wrong-password" });
	await call("bmc rejects the session", "get_screenshot", { serverId: "rack-rejecting" });
	ovh.inject({ path: `/dedicated/server/${OVH_FORBIDDEN}/features/ipmi`, status: 403, errorCode: "FORBIDDEN" });
	await call("ovh 403", "get_screenshot", { serverId: OVH_FORBIDDEN });
	await call("timeout", "get_screenshot", { serverId: "rack-stalling" });
	return { seen, outcomes };
}

function expectOutcomes(outcomes: Record<string, string>): void {
	expect(outcomes.list).toBe("ok");
	expect(outcomes[`${OVH_OK} screenshot`]).toBe("ok");
	expect(outcomes["rack screenshot"]).toBe("ok");
	expect(outcomes["vm screenshot"]).toBe("ok");
	expect(outcomes["bmc wrong password"]).toContain("wrong username or password");
	expect(outcomes["vnc wrong password"]).toContain("VNC authentication failed");
	expect(outcomes["bmc rejects the session"]).toContain("session rejected");
	expect(outcomes["ovh 403"]).toContain("Error (ACCESS_DENIED)");
	expect(outcomes.timeout).toContain("Error (TIMEOUT)");
}

/** Every secret put in or handed out, with its URL-encoded form. */
function secrets(): string[] {
	const all = [
		APP_SECRET,
		CONSUMER_KEY,
		BMC_PASSWORD,
		BMC_WRONG_PASSWORD,
		VNC_PASSWORD,
		VNC_WRONG_PASSWORD,
		...[ovhBmc, loginBmc, rejectingBmc, stallingBmc].flatMap((b) => b.issuedSecrets()),
	];
	return [...new Set(all.flatMap((s) => [s, encodeURIComponent(s)]))];
}

function expectNoSecret(output: string): void {
	const found = secrets().filter((s) => output.includes(s));
	expect(found).toEqual([]);
	// Nothing even tried: no code path printed a secret for the redaction layer to catch.
	expect(output).not.toContain("[REDACTED]");
}

describe("secret scan", () => {
	test("in process: log lines (debug), tool results and progress carry no secret", async () => {
		const lines: string[] = [];
		configureLogging({ level: "debug", sink: (line) => lines.push(line) });
		const before = { issued: secrets().length };
		Object.assign(process.env, PASSWORD_ENV);
		try {
			const c = await inMemoryClient({}, serverEnv());
			const { seen, outcomes } = await scenario(c.client);
			await c.close();
			expectOutcomes(outcomes);
			expect(secrets().length).toBeGreaterThan(before.issued + 10);
			expect(lines.length).toBeGreaterThan(30);
			expect(lines.join("\n")).toContain("[ikvm:ovh-api] request");
			expectNoSecret([...lines, ...seen].join("\n"));
		} finally {
			configureLogging({ level: "silent", sink: (line) => process.stderr.write(`${line}\n`) });
			for (const name of Object.keys(PASSWORD_ENV)) delete process.env[name];
		}
	}, 60_000);

	test("subprocess over HTTP: every byte of stdout and stderr, through shutdown, carries no secret", async () => {
		const server = await spawnServer(serverEnv());
		let stopped = false;
		try {
			const client = await httpClient(server.url);
			const { seen, outcomes } = await scenario(client);
			await client.close();
			const { code } = await server.stop("SIGTERM");
			stopped = true;
			expect(code).toBe(0);
			expectOutcomes(outcomes);
			// The close paths ran and were logged too.
			expect(server.stderr()).toContain("logged out of the BMC");
			expect(server.stderr()).toContain("console closed");
			expect(server.stdout()).toBe("");
			expectNoSecret([server.stdout(), server.stderr(), ...seen].join("\n"));
		} finally {
			if (!stopped) await server.stop("SIGKILL");
		}
	}, 60_000);
});
