import { afterEach, describe, expect, test } from "bun:test";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { ConsoleOpener } from "../../../src/console/types.ts";
import { configureLogging } from "../../../src/log.ts";
import { OvhProvider, type OvhProviderOptions } from "../../../src/providers/ovh/provider.ts";
import {
	DEFAULT_MOCK_SERVERS,
	MOCK_APPLICATION_SECRET,
	MOCK_CONSUMER_KEY,
	type MockOvhApi,
	type MockOvhApiOptions,
} from "../../mocks/ovh-api.ts";
import { imagePixels, inMemoryClient, texts } from "../../support/mcp.ts";
import { mockOvhApis, ovhEnv, ovhSettings } from "../../support/mock-ovh.ts";
import { recordingOpener } from "./support.ts";

const WEB = "ns3001234.ip-51-68-1.eu";

let cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
	for (const c of cleanups.reverse()) await c();
	cleanups = [];
});

const startOvh = mockOvhApis({ taskStepMs: 60 });

async function startMock(options: MockOvhApiOptions = {}): Promise<MockOvhApi> {
	const mock = await startOvh(options);
	// Viewer URLs shaped like OVH's, one per access; the fake opener never connects to them.
	for (const name of (options.servers ?? DEFAULT_MOCK_SERVERS).map((s) => s.name)) {
		mock.setViewerUrl(name, (g) => `https://bmc-${g.accessNumber}.${g.server}.example/?token=${g.token}`);
	}
	return mock;
}

const FAST: OvhProviderOptions = {
	api: { retryBaseMs: 5 },
	access: { pollIntervalMs: 40, valueRetryMs: 40 },
};

/** An MCP client on an app whose OVH provider points at the mock. */
async function connect(
	mock: MockOvhApi,
	options: {
		env?: Record<string, string>;
		opener?: ConsoleOpener;
		provider?: OvhProviderOptions;
		viaConfig?: boolean;
	} = {},
) {
	const env = ovhEnv(mock, options.env);
	const providers = options.viaConfig
		? undefined
		: () => [
				new OvhProvider(
					ovhSettings(mock, { ipmiAllowedIp: env.OVH_IPMI_ALLOWED_IP, ipDiscoveryUrl: env.OVH_IP_DISCOVERY_URL }),
					{ ...FAST, ...options.provider, access: { ...FAST.access, ...options.provider?.access } },
				),
			];
	const c = await inMemoryClient({ providers, opener: options.opener }, env);
	cleanups.push(c.close);
	return c.client;
}

type Client = Awaited<ReturnType<typeof connect>>;

async function screenshot(client: Client, serverId = WEB, onMessage?: (m: string) => void): Promise<CallToolResult> {
	return (await client.callTool({ name: "get_screenshot", arguments: { serverId, raw: true } }, undefined, {
		onprogress: (p) => {
			if (p.message) onMessage?.(p.message);
		},
		timeout: 30_000,
	})) as CallToolResult;
}

async function listServers(client: Client): Promise<CallToolResult> {
	return (await client.callTool({ name: "list_servers", arguments: {} })) as CallToolResult;
}

function errorText(result: CallToolResult): string {
	expect(result.isError).toBe(true);
	return texts(result).join("\n");
}

describe("OVH provider: list_servers", () => {
	test("through the full MCP path (configuration → buildProviders) returns the mock's servers", async () => {
		const mock = await startMock();
		const client = await connect(mock, { viaConfig: true });
		const result = await listServers(client);
		expect(result.isError).toBeFalsy();
		expect(JSON.parse(texts(result)[0] ?? "")).toEqual([
			{ id: WEB, name: "web-01.example.net", provider: "ovh", datacenter: "gra3", ip: "51.68.1.10" },
			{
				id: "ns3005678.ip-51-68-2.eu",
				name: "db-01.example.net",
				provider: "ovh",
				datacenter: "rbx8",
				ip: "51.68.2.20",
			},
			{
				id: "ns3009012.ip-51-68-3.eu",
				name: "ns3009012.ip-51-68-3.eu",
				provider: "ovh",
				datacenter: "sbg3",
				ip: "51.68.3.30",
			},
		]);
		// Listed again within the cache time: no new API calls.
		await listServers(client);
		expect(mock.count("GET", "/dedicated/server")).toBe(1);
		expect(mock.count("GET", /^\/dedicated\/server\/[^/]+$/)).toBe(3);
	});

	test("details are fetched concurrently, at most the cap at once", async () => {
		const servers = Array.from({ length: 12 }, (_, i) => ({ name: `ns${100 + i}.ip-10-0-0.eu`, datacenter: "gra1" }));
		const mock = await startMock({ servers });
		mock.inject({ path: /^\/dedicated\/server\/ns/, delayMs: 100, times: 12 });
		const client = await connect(mock, { provider: { detailConcurrency: 4 } });
		const result = await listServers(client);
		expect(JSON.parse(texts(result)[0] ?? "")).toHaveLength(12);
		expect(mock.peakInFlight).toBe(4);
	});

	test("a wrong application secret is a tool error that names OVH_APPLICATION_SECRET", async () => {
		const mock = await startMock();
		const client = await connect(mock, { env: { OVH_APPLICATION_SECRET: "totally-wrong-secret-42" }, viaConfig: true });
		const text = errorText(await listServers(client));
		expect(text).toContain("AUTH_FAILED");
		expect(text).toContain("signature");
		expect(text).toContain("OVH_APPLICATION_SECRET");
		expect(text).not.toContain("totally-wrong-secret-42");
	});

	test("an unknown consumer key is a tool error that says to create a new one", async () => {
		const mock = await startMock();
		const client = await connect(mock, { env: { OVH_CONSUMER_KEY: "unknownConsumerKeyXYZ123456" }, viaConfig: true });
		const text = errorText(await listServers(client));
		expect(text).toContain("NOT_CREDENTIAL");
		expect(text).toContain("OVH_CONSUMER_KEY");
		expect(text).not.toContain("unknownConsumerKeyXYZ123456");
	});

	test("a key without the detail rule fails with the rule to add", async () => {
		const mock = await startMock({ rules: [{ method: "GET", path: "/dedicated/server" }] });
		const client = await connect(mock);
		const text = errorText(await listServers(client));
		expect(text).toContain("ACCESS_DENIED");
		expect(text).toContain("GET /dedicated/server/*");
	});
});

describe("OVH provider: get_screenshot", () => {
	test("requests access, polls the task, and hands the viewer URL to the console layer as an AMI target", async () => {
		const mock = await startMock();
		const { opener, state } = recordingOpener();
		// Real configuration path and default timings.
		const client = await connect(mock, { opener, viaConfig: true });
		const progress: string[] = [];
		const result = await screenshot(client, WEB, (m) => progress.push(m));
		expect(result.isError).toBeFalsy();
		expect((await imagePixels(result)).width).toBe(64);

		expect(mock.accessRequests).toEqual([
			{ server: WEB, body: { type: "kvmipHtml5URL", ttl: 15, ipToAllow: "203.0.113.7" } },
		]);
		expect(state.targets).toHaveLength(1);
		const target = state.targets[0];
		expect(target?.kind).toBe("ami-viewer");
		expect(target).toEqual({
			kind: "ami-viewer",
			viewerUrl: expect.stringMatching(
				new RegExp(`^https://bmc-1\\.${WEB.replaceAll(".", "\\.")}\\.example/\\?token=\\w+$`),
			),
			tls: { insecure: true },
		});
		expect(mock.count("GET", `/dedicated/server/${WEB}/features/ipmi`)).toBe(1);
		expect(mock.count("GET", /\/task\/\d+$/)).toBeGreaterThanOrEqual(2);
		expect(progress.some((m) => /OVH task \d+ is (todo|doing)/.test(m))).toBe(true);
		expect(progress.some((m) => m.includes("Requesting HTML5 KVM access"))).toBe(true);
	});

	test("OVH_BMC_TLS_VERIFY=1 makes the console layer verify the BMC's certificate", async () => {
		const mock = await startMock();
		const { opener, state } = recordingOpener();
		const client = await connect(mock, { opener, viaConfig: true, env: { OVH_BMC_TLS_VERIFY: "1" } });
		expect((await screenshot(client)).isError).toBeFalsy();
		expect(state.targets[0]?.kind).toBe("ami-viewer");
		expect(state.targets[0]?.tls).toBeUndefined();
	});

	test("a still-valid viewer URL is reused for the next screenshot", async () => {
		const mock = await startMock();
		const { opener, state } = recordingOpener();
		// No warm console: every screenshot opens a new one and asks for a target.
		const client = await connect(mock, { opener, env: { CONSOLE_IDLE_SECONDS: "0" } });
		expect((await screenshot(client)).isError).toBeFalsy();
		expect((await screenshot(client)).isError).toBeFalsy();
		expect(mock.accessPosts(WEB)).toBe(1);
		expect(state.targets).toHaveLength(2);
		expect(state.targets[1]).toEqual(state.targets[0] as NonNullable<(typeof state.targets)[0]>);
	});

	test("an expired viewer URL is not reused: OVH is asked again", async () => {
		const mock = await startMock({ accessLifetimeMs: 600 });
		const { opener, state } = recordingOpener();
		const client = await connect(mock, {
			opener,
			env: { CONSOLE_IDLE_SECONDS: "0" },
			provider: { access: { reuseMarginMs: 0 } },
		});
		expect((await screenshot(client)).isError).toBeFalsy();
		await Bun.sleep(700);
		expect((await screenshot(client)).isError).toBeFalsy();
		expect(mock.accessPosts(WEB)).toBe(2);
		expect((state.targets[1] as unknown as { viewerUrl: string }).viewerUrl).toContain("bmc-2.");
	});

	test("when the pool asks for a fresh target (a warm console failed), the viewer URL is requested anew", async () => {
		const mock = await startMock();
		const { opener, state } = recordingOpener();
		const client = await connect(mock, { opener });
		expect((await screenshot(client)).isError).toBeFalsy();
		state.failCapture = true;
		expect((await screenshot(client)).isError).toBeFalsy();
		expect(mock.accessPosts(WEB)).toBe(2);
		expect(state.opened).toBe(2);
		expect((state.targets[1] as unknown as { viewerUrl: string }).viewerUrl).toContain("bmc-2.");
	});

	test("a reused URL that the BMC refuses is replaced once by a new one", async () => {
		const mock = await startMock();
		const seen = new Set<string>();
		const { opener, state } = recordingOpener({
			refuse: (t) => {
				const url = t.kind === "ami-viewer" ? (t.viewerUrl as string) : "";
				const again = seen.has(url);
				seen.add(url);
				return again;
			},
		});
		const client = await connect(mock, { opener, env: { CONSOLE_IDLE_SECONDS: "0" } });
		expect((await screenshot(client)).isError).toBeFalsy();
		const second = await screenshot(client);
		expect(second.isError).toBeFalsy();
		expect(mock.accessPosts(WEB)).toBe(2);
		expect(state.targets).toHaveLength(3);
	});

	test("a task that never finishes is a timeout naming the OVH task stage", async () => {
		const mock = await startMock({ taskOutcome: "never" });
		const { opener, state } = recordingOpener();
		const client = await connect(mock, { opener, provider: { access: { taskTimeoutMs: 500 } } });
		const text = errorText(await screenshot(client));
		expect(text).toContain("TIMEOUT");
		expect(text).toContain("[stage: ovh-task]");
		expect(text).toMatch(/OVH task \d+ \(requestAccessIPMI\) .* was still "doing"/);
		expect(state.targets).toHaveLength(0);
	});

	test("when the tool deadline cuts the task wait short, the next call resumes the same task", async () => {
		// The task stays "doing" and every poll of it hangs, so the deadline always lands in the task
		// wait, however loaded the machine is; the 3 s leave the requests before it ample time.
		const mock = await startMock({ taskOutcome: "never" });
		mock.inject({ method: "GET", path: /\/task\/\d+$/, delayMs: 30_000, times: Number.POSITIVE_INFINITY });
		const { opener } = recordingOpener();
		const client = await connect(mock, { opener, env: { TOOL_TIMEOUT_SECONDS: "3" } });
		const first = errorText(await screenshot(client));
		expect(first).toContain("TIMEOUT");
		expect(first).toContain("[stage: ovh-task]");
		expect(mock.accessPosts(WEB)).toBe(1);
		mock.clearFaults();
		mock.finishTasks();
		const result = await screenshot(client);
		expect(result.isError ? errorText(result) : "ok").toBe("ok");
		expect(mock.accessPosts(WEB)).toBe(1);
	}, 20_000);

	test("a failed task is a clear error with OVH's comment", async () => {
		const mock = await startMock({ taskOutcome: "customerError" });
		const client = await connect(mock, { opener: recordingOpener().opener });
		const text = errorText(await screenshot(client));
		expect(text).toContain('ended "customerError"');
		expect(text).toContain("IPMI access refused");
		expect(text).toContain("[stage: ovh-task]");
	});

	test("servers without IPMI or without the HTML5 KVM get a clear NOT_SUPPORTED", async () => {
		const mock = await startMock({
			servers: [
				{ name: "ns1.ip-10-0-0.eu", ipmi: { activated: false } },
				{ name: "ns2.ip-10-0-0.eu", ipmi: { features: { kvmipHtml5URL: false, serialOverLanURL: false } } },
			],
		});
		const client = await connect(mock, { opener: recordingOpener().opener });
		const off = errorText(await screenshot(client, "ns1.ip-10-0-0.eu"));
		expect(off).toContain("NOT_SUPPORTED");
		expect(off).toContain("IPMI is not activated");
		const jnlp = errorText(await screenshot(client, "ns2.ip-10-0-0.eu"));
		expect(jnlp).toContain("offers no HTML5 KVM console (it offers: kvmipJnlp)");
		expect(jnlp).toContain("Java");
		expect(mock.accessPosts()).toBe(0);
	});

	test("a missing access rule for the access request names the POST rule", async () => {
		const mock = await startMock({
			rules: [
				{ method: "GET", path: "/dedicated/server" },
				{ method: "GET", path: "/dedicated/server/*" },
			],
		});
		const client = await connect(mock, { opener: recordingOpener().opener });
		const text = errorText(await screenshot(client));
		expect(text).toContain("NOT_GRANTED_CALL");
		expect(text).toContain("POST /dedicated/server/*/features/ipmi/access");
	});

	test("an access value still empty after the task is read again", async () => {
		const mock = await startMock();
		mock.emptyValueReads = 2;
		const { opener, state } = recordingOpener();
		const client = await connect(mock, { opener });
		expect((await screenshot(client)).isError).toBeFalsy();
		expect(mock.count("GET", `/dedicated/server/${WEB}/features/ipmi/access`)).toBe(3);
		expect(state.targets[0]?.kind).toBe("ami-viewer");
	});

	test("OVH 429 and 500 during the capture are retried", async () => {
		const mock = await startMock();
		mock.inject({ method: "POST", path: `/dedicated/server/${WEB}/features/ipmi/access`, status: 429 });
		mock.inject({ path: /\/task\/\d+$/, status: 500 });
		const client = await connect(mock, { opener: recordingOpener().opener });
		expect((await screenshot(client)).isError).toBeFalsy();
		expect(mock.requests.filter((r) => r.method === "POST").map((r) => r.status)).toEqual([429, 200]);
	});
});

describe("OVH provider: ipToAllow", () => {
	test("OVH_IPMI_ALLOWED_IP is sent as is, with no discovery", async () => {
		const mock = await startMock();
		const client = await connect(mock, {
			opener: recordingOpener().opener,
			env: { OVH_IPMI_ALLOWED_IP: "198.51.100.9" },
		});
		expect((await screenshot(client)).isError).toBeFalsy();
		expect(mock.accessRequests[0]?.body.ipToAllow).toBe("198.51.100.9");
		expect(mock.count("GET", "/ip")).toBe(0);
	});

	test("when discovery fails the access is requested without ipToAllow, and a log line says so", async () => {
		const mock = await startMock();
		const lines: string[] = [];
		configureLogging({ level: "info", sink: (l) => lines.push(l) });
		cleanups.push(() => configureLogging({ level: "silent" }));
		const client = await connect(mock, {
			opener: recordingOpener().opener,
			env: { OVH_IP_DISCOVERY_URL: `${mock.origin}/no-such-ip-service` },
		});
		expect((await screenshot(client)).isError).toBeFalsy();
		expect(mock.accessRequests[0]?.body).toEqual({ type: "kvmipHtml5URL", ttl: 15 });
		expect(lines.some((l) => l.includes("without ipToAllow") && l.includes("OVH_IPMI_ALLOWED_IP"))).toBe(true);
	});
});

describe("OVH provider: viewer kinds", () => {
	test("a noVNC viewer URL becomes a VNC target with its websockify URL", async () => {
		const mock = await startMock();
		mock.setViewerUrl(WEB, "http://127.0.0.1:6080/vnc.html?host=127.0.0.1&port=5901&path=websockify");
		const { opener, state } = recordingOpener();
		const client = await connect(mock, { opener });
		expect((await screenshot(client)).isError).toBeFalsy();
		expect(state.targets[0]).toEqual({ kind: "vnc", url: "ws://127.0.0.1:5901/websockify" });
	});

	test("an inconclusive URL is looked at once: a noVNC page → VNC, anything else → NOT_SUPPORTED", async () => {
		let hits = 0;
		const page = Bun.serve({
			hostname: "127.0.0.1",
			port: 0,
			fetch(req) {
				hits++;
				const html = new URL(req.url).pathname.startsWith("/novnc")
					? '<html><script type="module">import RFB from "./core/rfb.js";</script></html>'
					: "<html><applet>Java only</applet></html>";
				return new Response(html, { headers: { "content-type": "text/html" } });
			},
		});
		cleanups.push(() => page.stop(true));
		const mock = await startMock();
		mock.setViewerUrl(WEB, `http://127.0.0.1:${page.port}/novnc/console`);
		mock.setViewerUrl("ns3005678.ip-51-68-2.eu", `http://127.0.0.1:${page.port}/other`);
		const { opener, state } = recordingOpener();
		const client = await connect(mock, { opener, env: { CONSOLE_IDLE_SECONDS: "0" } });
		expect((await screenshot(client)).isError).toBeFalsy();
		expect(state.targets[0]).toEqual({ kind: "vnc", url: `ws://127.0.0.1:${page.port}/websockify` });
		// The reused URL is not looked at again.
		expect((await screenshot(client)).isError).toBeFalsy();
		expect(hits).toBe(1);

		const text = errorText(await screenshot(client, "ns3005678.ip-51-68-2.eu"));
		expect(text).toContain("NOT_SUPPORTED");
		expect(text).toContain("neither an AMI HTML5 KVM nor a noVNC page");
	});
});

test("the application secret, the consumer key and viewer tokens never appear in logs, errors or results", async () => {
	const lines: string[] = [];
	configureLogging({ level: "debug", sink: (l) => lines.push(l) });
	cleanups.push(() => configureLogging({ level: "silent" }));
	// Tasks done at once: this test uses the default (slow) poll interval.
	const mock = await startMock({ taskStepMs: 0 });
	const { opener, state } = recordingOpener();
	const outputs: string[] = [];
	const collect = (r: CallToolResult) => outputs.push(JSON.stringify(r.content));

	const good = await connect(mock, { opener, viaConfig: true });
	collect(await listServers(good));
	collect(await screenshot(good));
	mock.inject({ path: "/dedicated/server/ns3005678.ip-51-68-2.eu/features/ipmi", status: 403, errorCode: "FORBIDDEN" });
	collect(await screenshot(good, "ns3005678.ip-51-68-2.eu"));

	const badSecret = await connect(mock, { env: { OVH_APPLICATION_SECRET: "wrongSecretValue9876" }, viaConfig: true });
	collect(await listServers(badSecret));
	const badKey = await connect(mock, { env: { OVH_CONSUMER_KEY: "wrongConsumerKey5432" }, viaConfig: true });
	collect(await listServers(badKey));

	const token =
		new URL((state.targets[0] as unknown as { viewerUrl: string }).viewerUrl).searchParams.get("token") ?? "";
	expect(token.length).toBeGreaterThan(8);
	const everything = [...lines, ...outputs].join("\n");
	expect(lines.length).toBeGreaterThan(5);
	expect(everything).toContain("requested IPMI console access");
	// Not even masked: no code path tried to print one.
	expect(everything).not.toContain("[REDACTED]");
	for (const secret of [
		MOCK_APPLICATION_SECRET,
		MOCK_CONSUMER_KEY,
		"wrongSecretValue9876",
		"wrongConsumerKey5432",
		token,
	]) {
		expect(everything).not.toContain(secret);
	}
});
