import { describe, expect, test } from "bun:test";
import { formatResult, summarize } from "../../src/cli/doctor/report.ts";
import { runDoctor } from "../../src/cli/doctor/run.ts";
import type { CheckResult, DoctorOptions } from "../../src/cli/doctor/types.ts";
import { accessRulesForRequest, OVH_ACCESS_RULES, ruleLabel } from "../../src/providers/ovh/rules.ts";
import { MOCK_APPLICATION_KEY, MOCK_APPLICATION_SECRET, MOCK_CONSUMER_KEY } from "../mocks/ovh-api.ts";
import { mockOvhApis, ovhEnv } from "../support/mock-ovh.ts";
import { freePort } from "../support/ports.ts";
import { tempDir, writeTargets } from "../support/targets-file.ts";

const startMock = mockOvhApis();

/** An empty directory, so no ./ikvm.config.json is picked up. */
const cwd = tempDir("ikvm-doctor-");

function doctor(env: Record<string, string>, options: Partial<DoctorOptions> = {}) {
	return runDoctor({ env, cwd, timeouts: { ovhRequestMs: 2000, targetMs: 1000 }, ...options });
}

function find(results: CheckResult[], name: string): CheckResult {
	const found = results.find((r) => r.name === name);
	if (!found) throw new Error(`no result "${name}" in:\n${results.map(formatResult).join("\n")}`);
	return found;
}

function statuses(results: CheckResult[]): Record<string, string> {
	return Object.fromEntries(results.map((r) => [r.name, r.status]));
}

const RULE_NAMES = OVH_ACCESS_RULES.map((r) => `rule ${ruleLabel(r)}`);

describe("doctor: OVH", () => {
	test("all green: every step passes, the POST probe opens nothing, exit code 0", async () => {
		const mock = await startMock();
		const results = await doctor(ovhEnv(mock));
		expect(statuses(results)).toEqual({
			environment: "pass",
			"targets file": "skip",
			"OVH API": "pass",
			clock: "pass",
			"OVH credentials": "pass",
			...Object.fromEntries(RULE_NAMES.map((n) => [n, "pass"])),
			"server ns3001234.ip-51-68-1.eu": "pass",
			"server ns3005678.ip-51-68-2.eu": "pass",
			"server ns3009012.ip-51-68-3.eu": "pass",
		});
		expect(summarize(results).exitCode).toBe(0);
		// The probes were harmless: no console access was requested, nothing but the probe POST was sent.
		expect(mock.accessPosts()).toBe(0);
		expect(mock.requests.filter((r) => r.method !== "GET").map((r) => [r.path, r.status])).toEqual([
			["/dedicated/server/ns3001234.ip-51-68-1.eu/features/ipmi/access", 400],
		]);
		expect(find(results, "OVH credentials").detail).toContain("validated");
	});

	test("a wrong application secret fails the credentials, says which secret, and skips what needs them", async () => {
		const mock = await startMock();
		const results = await doctor(ovhEnv(mock, { OVH_APPLICATION_SECRET: "wrong-secret-value" }));
		const credentials = find(results, "OVH credentials");
		expect(credentials.status).toBe("fail");
		expect(credentials.detail).toContain("INVALID_SIGNATURE");
		expect(credentials.fix).toContain("OVH_APPLICATION_SECRET");
		expect(find(results, "access rules").status).toBe("skip");
		expect(find(results, "OVH servers").status).toBe("skip");
		expect(summarize(results).exitCode).toBe(1);
		const text = results.map(formatResult).join("\n");
		expect(text).not.toContain("wrong-secret-value");
		expect(text).not.toContain(MOCK_CONSUMER_KEY);
	});

	test("a consumer key not validated yet: fail, with the validation step as the fix", async () => {
		const mock = await startMock();
		mock.addConsumer({
			consumerKey: "ck-pending-0123456789",
			applicationKey: MOCK_APPLICATION_KEY,
			status: "pendingValidation",
			rules: accessRulesForRequest(),
		});
		const results = await doctor(ovhEnv(mock, { OVH_CONSUMER_KEY: "ck-pending-0123456789" }));
		const credentials = find(results, "OVH credentials");
		expect(credentials.status).toBe("fail");
		expect(credentials.detail).toContain("not validated yet");
		expect(credentials.fix).toContain("validation URL");
		expect(credentials.fix).toContain("ikvm-mcp ovh-credentials");
		expect(find(results, "access rules").status).toBe("skip");
	});

	test("an expired consumer key and an unknown one fail with a new key as the fix", async () => {
		const mock = await startMock();
		mock.addConsumer({
			consumerKey: "ck-expired-0123456789",
			applicationKey: MOCK_APPLICATION_KEY,
			status: "expired",
			rules: accessRulesForRequest(),
		});
		const expired = find(await doctor(ovhEnv(mock, { OVH_CONSUMER_KEY: "ck-expired-0123456789" })), "OVH credentials");
		expect(expired.status).toBe("fail");
		expect(expired.detail).toContain("has expired");
		expect(expired.fix).toContain("ikvm-mcp ovh-credentials");

		const unknown = find(await doctor(ovhEnv(mock, { OVH_CONSUMER_KEY: "ck-unknown-0123456789" })), "OVH credentials");
		expect(unknown.status).toBe("fail");
		expect(unknown.detail).toContain("NOT_CREDENTIAL");
	});

	test("a key that expires within a week warns (exit 0); one past its expiry fails", async () => {
		const mock = await startMock();
		const credential = (expiration: string) =>
			JSON.stringify({ credentialId: 7, status: "validated", rules: accessRulesForRequest(), expiration });
		const soon = new Date(Date.now() + 3 * 86_400_000).toISOString();
		mock.inject({ method: "GET", path: "/auth/currentCredential", status: 200, rawBody: credential(soon) });
		const warned = await doctor(ovhEnv(mock));
		expect(find(warned, "OVH credentials")).toMatchObject({ status: "warn" });
		expect(find(warned, "OVH credentials").detail).toContain(`expires at ${soon}`);
		expect(summarize(warned).exitCode).toBe(0);

		const past = new Date(Date.now() - 60_000).toISOString();
		mock.inject({ method: "GET", path: "/auth/currentCredential", status: 200, rawBody: credential(past) });
		const failed = await doctor(ovhEnv(mock));
		expect(find(failed, "OVH credentials").status).toBe("fail");
		expect(find(failed, "OVH credentials").detail).toContain("expired");
		expect(find(failed, "access rules").status).toBe("skip");
	});

	test("a key without the POST rule: that rule fails by name, the others pass", async () => {
		const mock = await startMock();
		const rules = accessRulesForRequest().filter((r) => r.method !== "POST");
		mock.addConsumer({
			consumerKey: "ck-nopost-0123456789",
			applicationKey: MOCK_APPLICATION_KEY,
			status: "validated",
			rules,
		});
		const results = await doctor(ovhEnv(mock, { OVH_CONSUMER_KEY: "ck-nopost-0123456789" }));
		const post = find(results, "rule POST /dedicated/server/*/features/ipmi/access");
		expect(post.status).toBe("fail");
		expect(post.detail).toContain("not in the consumer key's access rules");
		expect(post.fix).toContain("ikvm-mcp ovh-credentials");
		for (const name of RULE_NAMES.filter((n) => !n.includes("POST"))) expect(find(results, name).status).toBe("pass");
		// Not even the harmless probe is sent for a rule the key does not have.
		expect(mock.count("POST", /features\/ipmi\/access$/)).toBe(0);
		expect(summarize(results).exitCode).toBe(1);
	});

	test("a 403 NOT_GRANTED_CALL on a probe names the missing rule", async () => {
		const mock = await startMock();
		mock.inject({
			method: "GET",
			path: /\/task\/0$/,
			status: 403,
			errorCode: "NOT_GRANTED_CALL",
			message: "This call has not been granted",
		});
		const results = await doctor(ovhEnv(mock));
		const task = find(results, "rule GET /dedicated/server/*/task/*");
		expect(task.status).toBe("fail");
		expect(task.detail).toContain("NOT_GRANTED_CALL");
		expect(task.fix).toContain("ikvm-mcp ovh-credentials");
		expect(results.filter((r) => r.status === "fail")).toHaveLength(1);
	});

	test("a key whose rules are all missing: the list fails, per-server rules say why, servers are skipped", async () => {
		const mock = await startMock();
		mock.addConsumer({
			consumerKey: "ck-norules-0123456789",
			applicationKey: MOCK_APPLICATION_KEY,
			status: "validated",
			rules: [{ method: "GET", path: "/me" }],
		});
		const results = await doctor(ovhEnv(mock, { OVH_CONSUMER_KEY: "ck-norules-0123456789" }));
		for (const name of RULE_NAMES) expect(find(results, name).status).toBe("fail");
		expect(find(results, "OVH servers").status).toBe("skip");
		expect(mock.count("POST", /features\/ipmi\/access$/)).toBe(0);
	});

	test("an IAM policy denying the console request fails the POST rule with the missing IAM action", async () => {
		const mock = await startMock();
		mock.inject({
			method: "POST",
			path: /features\/ipmi\/access$/,
			status: 403,
			errorCode: "FORBIDDEN",
			message: "User not granted for this request",
		});
		const post = find(await doctor(ovhEnv(mock)), "rule POST /dedicated/server/*/features/ipmi/access");
		expect(post.status).toBe("fail");
		expect(post.detail).toContain("IAM");
	});

	test("clock drift: a warning OVH still accepts (exit 0), a failure when OVH refuses our clock", async () => {
		const slightly = await startMock({ clockOffsetSeconds: 60 });
		const warned = await doctor(ovhEnv(slightly));
		expect(find(warned, "clock").status).toBe("warn");
		expect(find(warned, "clock").detail).toContain("60 s behind OVH's");
		expect(find(warned, "OVH credentials").status).toBe("pass");
		expect(summarize(warned).exitCode).toBe(0);

		const far = await startMock({ clockOffsetSeconds: -400 });
		const failed = await doctor(ovhEnv(far));
		const clock = find(failed, "clock");
		expect(clock.status).toBe("fail");
		expect(clock.detail).toContain("400 s ahead of OVH's");
		expect(clock.detail).toContain("QUERY_TIME_OUT");
		expect(clock.fix).toContain("timedatectl set-ntp true");
		// ikvm-mcp itself still works: it stamps requests with OVH's clock.
		expect(find(failed, "OVH credentials").status).toBe("pass");
		expect(summarize(failed).exitCode).toBe(1);
	});

	test("an unreachable endpoint fails once and skips every OVH step after it", async () => {
		const port = await freePort();
		const results = await doctor({
			OVH_ENDPOINT: `http://127.0.0.1:${port}/1.0`,
			OVH_APPLICATION_KEY: MOCK_APPLICATION_KEY,
			OVH_APPLICATION_SECRET: MOCK_APPLICATION_SECRET,
			OVH_CONSUMER_KEY: MOCK_CONSUMER_KEY,
		});
		const api = find(results, "OVH API");
		expect(api.status).toBe("fail");
		expect(api.detail).toContain(`Could not reach the OVH API at http://127.0.0.1:${port}`);
		expect(api.fix).toContain("OVH_ENDPOINT");
		for (const name of ["clock", "OVH credentials", "access rules", "OVH servers"]) {
			expect(find(results, name).status).toBe("skip");
			expect(find(results, name).detail).toContain("unreachable");
		}
	});

	test("an endpoint that never answers fails within the request time limit", async () => {
		const mock = await startMock();
		mock.inject({ path: "/auth/time", delayMs: 5000, status: 200 });
		const started = Date.now();
		const results = await doctor(ovhEnv(mock), { timeouts: { ovhRequestMs: 300 } });
		expect(Date.now() - started).toBeLessThan(3000);
		expect(find(results, "OVH API").status).toBe("fail");
		expect(find(results, "OVH API").detail).toContain("did not answer");
	});

	test("servers without IPMI, or with only the Java viewer, fail with what to do", async () => {
		const mock = await startMock({
			servers: [
				{ name: "ns-ok.eu" },
				{ name: "ns-off.eu", ipmi: { activated: false } },
				{ name: "ns-java.eu", ipmi: { features: { kvmipHtml5URL: false, kvmipJnlp: true } } },
			],
		});
		const results = await doctor(ovhEnv(mock));
		expect(find(results, "server ns-ok.eu").status).toBe("pass");
		const off = find(results, "server ns-off.eu");
		expect(off.status).toBe("fail");
		expect(off.detail).toContain("IPMI is not activated");
		expect(off.fix).toContain("OVH support");
		const java = find(results, "server ns-java.eu");
		expect(java.status).toBe("fail");
		expect(java.detail).toContain("no HTML5 KVM");
		expect(java.fix).toContain("Java (JNLP)");
	});

	test("an account without servers warns (wrong region?) and the per-server rules are judged by the key's list", async () => {
		const mock = await startMock({ servers: [] });
		const results = await doctor(ovhEnv(mock));
		expect(find(results, "OVH servers").status).toBe("warn");
		expect(find(results, "OVH servers").fix).toContain("OVH_ENDPOINT");
		expect(find(results, "rule GET /dedicated/server/*/task/*").detail).toContain("not probed");
		expect(summarize(results).exitCode).toBe(0);
	});
});

describe("doctor: configuration", () => {
	test("nothing configured fails: there is no console to look at", async () => {
		const results = await doctor({});
		expect(find(results, "environment").status).toBe("pass");
		expect(find(results, "OVH API").detail).toContain("not configured");
		const servers = find(results, "servers");
		expect(servers.status).toBe("fail");
		expect(servers.fix).toContain("ikvm-mcp ovh-credentials");
		expect(summarize(results).exitCode).toBe(1);
	});

	test("a partial OVH configuration and a bad endpoint fail the environment with the fix", async () => {
		const partial = find(await doctor({ OVH_APPLICATION_KEY: "ak" }), "environment");
		expect(partial.status).toBe("fail");
		expect(partial.detail).toContain("OVH_APPLICATION_SECRET");
		const results = await doctor({
			OVH_ENDPOINT: "ftp://example.com",
			OVH_APPLICATION_KEY: "ak",
			OVH_APPLICATION_SECRET: "as-0123456789",
			OVH_CONSUMER_KEY: "ck-0123456789",
		});
		expect(find(results, "environment").status).toBe("fail");
		expect(find(results, "environment").detail).toContain("OVH_ENDPOINT");
		expect(find(results, "OVH API").status).toBe("skip");
	});

	test("a bad targets file fails naming file and field, a good one is counted", async () => {
		const dir = tempDir("ikvm-doctor-");
		const bad = writeTargets([{ id: "vm1", type: "vnc" }], dir, "bad.json");
		const failed = find(await doctor({}, { configPath: bad }), "targets file");
		expect(failed.status).toBe("fail");
		expect(failed.detail).toContain(`${bad}: servers[0].url`);

		const missingEnv = writeTargets(
			[{ id: "bmc", type: "ami", url: "https://10.0.0.2", usernameEnv: "U", passwordEnv: "P" }],
			dir,
			"env.json",
		);
		expect(find(await doctor({}, { configPath: missingEnv }), "targets file").detail).toContain(
			"environment variable U is not set",
		);

		const good = writeTargets([{ id: "vm1", type: "vnc", host: "127.0.0.1", port: 1 }], dir, "ikvm.config.json");
		// Found in the working directory without --config, as the server finds it.
		const results = await doctor({}, { cwd: dir, probes: { vnc: async () => ({ detail: "answered" }) } });
		expect(find(results, "targets file")).toMatchObject({ status: "pass", detail: `${good}: 1 target (1 VNC, 0 AMI)` });
		expect(find(results, "target vm1")).toMatchObject({ status: "pass", detail: "vnc 127.0.0.1:1: answered" });
		expect(summarize(results).exitCode).toBe(0);
	});
});
