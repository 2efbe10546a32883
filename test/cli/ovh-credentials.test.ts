import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { accessRulesForRequest } from "../../src/providers/ovh/rules.ts";
import { MOCK_APPLICATION_KEY, MOCK_APPLICATION_SECRET, MockOvhApi } from "../mocks/ovh-api.ts";
import { runCli } from "../support/cli.ts";
import { freePort } from "../support/ports.ts";

let mock: MockOvhApi;

beforeAll(async () => {
	mock = await MockOvhApi.start();
});
afterAll(async () => {
	await mock.stop();
});

function lastCredentialRequest() {
	const requests = mock.requests.filter((r) => r.method === "POST" && r.path === "/auth/credential");
	return requests.at(-1);
}

describe("ikvm-mcp ovh-credentials", () => {
	test("asks OVH for a consumer key with exactly the rules ikvm-mcp needs, unsigned, and prints what to export", async () => {
		const r = await runCli(["ovh-credentials", "--endpoint", mock.endpoint, "--redirect", "https://example.com/done"], {
			OVH_APPLICATION_KEY: MOCK_APPLICATION_KEY,
			OVH_APPLICATION_SECRET: MOCK_APPLICATION_SECRET,
		});
		expect(r.code).toBe(0);

		const sent = lastCredentialRequest();
		expect(sent?.status).toBe(200);
		expect(sent?.headers["x-ovh-application"]).toBe(MOCK_APPLICATION_KEY);
		expect(sent?.headers["x-ovh-signature"]).toBeUndefined();
		expect(sent?.headers["x-ovh-consumer"]).toBeUndefined();
		expect(JSON.parse(sent?.body ?? "{}")).toEqual({
			accessRules: accessRulesForRequest(),
			redirection: "https://example.com/done",
		});

		const consumerKey = /^export OVH_CONSUMER_KEY=(\S+)$/m.exec(r.stdout)?.[1] as string;
		const consumer = mock.consumer(consumerKey);
		expect(consumer?.status).toBe("pendingValidation");
		expect(consumer?.rules).toEqual(accessRulesForRequest());

		const validationUrl = /^#\s+(http\S+credentialToken=\S+)$/m.exec(r.stdout)?.[1] as string;
		expect(validationUrl.startsWith(`${mock.origin}/auth/`)).toBe(true);
		expect(r.stdout).toContain(`export OVH_ENDPOINT=${mock.endpoint}\n`);
		expect(r.stdout).toContain(`export OVH_APPLICATION_KEY=${MOCK_APPLICATION_KEY}\n`);
		expect(r.stdout).toContain("# export OVH_APPLICATION_SECRET='<your application secret>'");
		// The secret is never printed, anywhere.
		expect(r.stdout + r.stderr).not.toContain(MOCK_APPLICATION_SECRET);
		// Guidance (the rules asked for, what to do next) goes to stderr.
		expect(r.stderr).toContain("POST /dedicated/server/*/features/ipmi/access");
		expect(r.stderr).toContain("ikvm-mcp doctor");

		// Opening the URL validates the key, as logging in at OVH would.
		expect((await fetch(validationUrl)).status).toBe(200);
		expect(mock.consumer(consumerKey)?.status).toBe("validated");
	});

	test("stdout is valid shell: eval sets the variables and leaves the secret to the user", async () => {
		const r = await runCli(["ovh-credentials", "--endpoint", mock.endpoint, "--application-key", MOCK_APPLICATION_KEY]);
		expect(r.code).toBe(0);
		const shell = Bun.spawn(
			[
				"sh",
				"-c",
				'eval "$LINES"; SECRET_STATE=$(printenv OVH_APPLICATION_SECRET || echo unset); printf "%s|%s|%s|%s" "$OVH_ENDPOINT" "$OVH_APPLICATION_KEY" "$OVH_CONSUMER_KEY" "$SECRET_STATE"',
			],
			{ env: { LINES: r.stdout, PATH: process.env.PATH ?? "" }, stdout: "pipe" },
		);
		const [endpoint, applicationKey, consumerKey, secret] = (await new Response(shell.stdout).text()).split("|");
		expect(endpoint).toBe(mock.endpoint);
		expect(applicationKey).toBe(MOCK_APPLICATION_KEY);
		expect(mock.consumer(consumerKey as string)).toBeDefined();
		expect(secret).toBe("unset");
	});

	test("an application key OVH does not know exits 1 and says which key to check", async () => {
		const r = await runCli(["ovh-credentials", "--endpoint", mock.endpoint, "--application-key", "notAKey123"]);
		expect(r.code).toBe(1);
		expect(r.stderr).toContain("INVALID_KEY");
		expect(r.stderr).toContain("OVH_APPLICATION_KEY");
		expect(r.stdout).toBe("");
	});

	test("an unreachable endpoint exits 1 naming it", async () => {
		const port = await freePort();
		const url = `http://127.0.0.1:${port}/1.0`;
		const r = await runCli(["ovh-credentials", "--endpoint", url, "--application-key", MOCK_APPLICATION_KEY]);
		expect(r.code).toBe(1);
		expect(r.stderr).toContain(`Could not reach the OVH API at http://127.0.0.1:${port}`);
	});

	test("usage errors exit 2 before asking OVH", async () => {
		const before = mock.count("POST", "/auth/credential");
		const cases: Array<[string[], string]> = [
			[["ovh-credentials", "--endpoint", mock.endpoint], "give --application-key (or set OVH_APPLICATION_KEY)"],
			[["ovh-credentials", "--endpoint", "ftp://x", "--application-key", "a"], "--endpoint"],
			[["ovh-credentials", "--application-key", "a", "--redirect", "javascript:alert(1)"], "--redirect must be"],
			[["ovh-credentials", "extra"], 'unexpected argument "extra"'],
		];
		for (const [args, message] of cases) {
			const r = await runCli(args);
			expect(r.code).toBe(2);
			expect(r.stderr).toContain(message);
			expect(r.stdout).toBe("");
		}
		expect(mock.count("POST", "/auth/credential")).toBe(before);
	});

	test("--help prints the usage on stdout", async () => {
		const r = await runCli(["ovh-credentials", "--help"]);
		expect(r.code).toBe(0);
		expect(r.stdout).toContain("Usage: ikvm-mcp ovh-credentials");
		const main = await runCli(["--help"]);
		expect(main.stdout).toContain("ikvm-mcp ovh-credentials");
		expect(main.stdout).toContain("ikvm-mcp doctor");
	});
});

describe("README's ovh-credentials sample", () => {
	test("is what the command prints (with … for the key and token)", async () => {
		const readme = await Bun.file(new URL("../../README.md", import.meta.url)).text();
		const block = /```sh\n((?:\s*# 1\. Open this URL[\s\S]*?))```/.exec(readme)?.[1];
		expect(block).toBeDefined();
		const sample = (block as string)
			.split("\n")
			.map((l) => l.trim())
			.filter(Boolean);
		const r = await runCli(["ovh-credentials", "--endpoint", mock.endpoint, "--application-key", MOCK_APPLICATION_KEY]);
		const printed = r.stdout
			.replaceAll(mock.endpoint, "eu")
			.replaceAll(mock.origin, "https://eu.api.ovh.com")
			.trim()
			.split("\n");
		expect(printed).toHaveLength(sample.length);
		sample.forEach((line, i) => {
			const pattern = new RegExp(`^${line.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replaceAll("…", "\\S+")}$`);
			expect(printed[i]).toMatch(pattern);
		});
	});
});
