import { describe, expect, test } from "bun:test";
import { z } from "zod";
import type { IkvmError } from "../../../src/errors.ts";
import { OvhApiClient, type OvhApiClientOptions } from "../../../src/providers/ovh/api.ts";
import type { OvhApiError } from "../../../src/providers/ovh/api-errors.ts";
import { CurrentCredentialSchema, ServiceNamesSchema } from "../../../src/providers/ovh/types.ts";
import {
	MOCK_APPLICATION_KEY,
	MOCK_APPLICATION_SECRET,
	MOCK_CONSUMER_KEY,
	type MockOvhApiOptions,
} from "../../mocks/ovh-api.ts";
import { failure } from "../../support/ikvm-error.ts";
import { mockOvhApis, ovhApiClient } from "../../support/mock-ovh.ts";

const startMock = mockOvhApis();

async function setup(options: MockOvhApiOptions = {}, client: Partial<OvhApiClientOptions> = {}) {
	const mock = await startMock(options);
	return { mock, api: ovhApiClient(mock, { retryBaseMs: 5, ...client }) };
}

const SECRETS = [MOCK_APPLICATION_SECRET, MOCK_CONSUMER_KEY, "wrong-secret-value-1234"];

function expectNoSecrets(error: IkvmError): void {
	for (const secret of SECRETS) {
		expect(error.toUserMessage()).not.toContain(secret);
	}
}

describe("OvhApiClient against the mock OVH API", () => {
	test("signed calls pass the mock's signature check, and the OVH clock is read once", async () => {
		const { mock, api } = await setup({ clockOffsetSeconds: 4000 });
		const [a, b] = await Promise.all([
			api.get("/dedicated/server", ServiceNamesSchema),
			api.get("/dedicated/server", ServiceNamesSchema),
		]);
		expect(a).toHaveLength(3);
		expect(b).toEqual(a);
		expect(mock.count("GET", "/auth/time")).toBe(1);
		const sent = mock.requests.find((r) => r.path === "/dedicated/server");
		expect(sent?.headers["x-ovh-application"]).toBe(MOCK_APPLICATION_KEY);
		expect(sent?.headers["x-ovh-signature"]).toMatch(/^\$1\$[0-9a-f]{40}$/);
		// The secret itself never travels.
		expect(JSON.stringify(mock.requests)).not.toContain(MOCK_APPLICATION_SECRET);
	});

	test("when OVH's clock moves after the first read, QUERY_TIME_OUT re-reads it once and the call succeeds", async () => {
		const { mock, api } = await setup();
		await api.get("/dedicated/server", ServiceNamesSchema);
		mock.clockOffsetSeconds = 1000;
		expect(await api.get("/dedicated/server", ServiceNamesSchema)).toHaveLength(3);
		expect(mock.count("GET", "/auth/time")).toBe(2);
		expect(mock.requests.filter((r) => r.path === "/dedicated/server").map((r) => r.status)).toEqual([200, 400, 200]);
	});

	test("a wrong application secret is a 400 INVALID_SIGNATURE that names OVH_APPLICATION_SECRET", async () => {
		const { api } = await setup({}, { applicationSecret: "wrong-secret-value-1234" });
		const error = await failure<OvhApiError>(api.get("/dedicated/server", ServiceNamesSchema));
		expect(error.code).toBe("AUTH_FAILED");
		expect(error.httpStatus).toBe(400);
		expect(error.ovhErrorCode).toBe("INVALID_SIGNATURE");
		expect(error.hint).toContain("OVH_APPLICATION_SECRET");
		expect(error.hint).toMatch(/OVH query id EU\.ext-/);
		expectNoSecrets(error);
	});

	test("an unknown consumer key is a 403 NOT_CREDENTIAL that says to create a new one", async () => {
		const { api } = await setup({}, { consumerKey: "unknownConsumerKey0000000000000" });
		const error = await failure<OvhApiError>(api.get("/dedicated/server", ServiceNamesSchema));
		expect(error.ovhErrorCode).toBe("NOT_CREDENTIAL");
		expect(error.message).toContain("does not know this consumer key");
		expect(error.hint).toContain("OVH_CONSUMER_KEY");
		expect(error.toUserMessage()).not.toContain("unknownConsumerKey0000000000000");
	});

	test("an unvalidated consumer key is a 403 INVALID_CREDENTIAL that says where to validate it", async () => {
		const { mock } = await setup();
		mock.addConsumer({
			consumerKey: "pendingConsumerKey000000000000",
			applicationKey: MOCK_APPLICATION_KEY,
			status: "pendingValidation",
			rules: [{ method: "GET", path: "/*" }],
		});
		const pending = ovhApiClient(mock, { consumerKey: "pendingConsumerKey000000000000" });
		const error = await failure<OvhApiError>(pending.get("/dedicated/server", ServiceNamesSchema));
		expect(error.ovhErrorCode).toBe("INVALID_CREDENTIAL");
		expect(error.hint).toContain(`Validate the consumer key at the validationUrl`);
		expect(error.hint).toContain(`${mock.origin}/auth/?credentialToken=`);
	});

	test("a call outside the key's access rules is NOT_GRANTED_CALL naming the rule to add, and is not retried", async () => {
		const { mock, api } = await setup({ rules: [{ method: "GET", path: "/dedicated/server" }] });
		const error = await failure<OvhApiError>(
			api.get("/dedicated/server/ns3001234.ip-51-68-1.eu", z.object({ name: z.string() }).loose()),
		);
		expect(error.code).toBe("ACCESS_DENIED");
		expect(error.ovhErrorCode).toBe("NOT_GRANTED_CALL");
		expect(error.hint).toContain("GET /dedicated/server/*");
		expect(mock.count("GET", "/dedicated/server/ns3001234.ip-51-68-1.eu")).toBe(1);
	});

	test("an unknown application key is INVALID_KEY", async () => {
		const { api } = await setup({}, { applicationKey: "unknownApp" });
		const error = await failure<OvhApiError>(api.get("/dedicated/server", ServiceNamesSchema));
		expect(error.ovhErrorCode).toBe("INVALID_KEY");
		expect(error.hint).toContain("OVH_APPLICATION_KEY");
	});

	test("429 is retried with backoff and then succeeds", async () => {
		const { mock, api } = await setup();
		mock.inject({ path: "/dedicated/server", status: 429, times: 2, retryAfterSeconds: 0 });
		expect(await api.get("/dedicated/server", ServiceNamesSchema)).toHaveLength(3);
		expect(mock.requests.filter((r) => r.path === "/dedicated/server").map((r) => r.status)).toEqual([429, 429, 200]);
	});

	test("500 and a proxy's HTML 502 are retried", async () => {
		const { mock, api } = await setup();
		mock.inject({ path: "/dedicated/server", status: 500 });
		mock.inject({ path: "/dedicated/server", status: 502, rawBody: "<html><h1>502 Bad Gateway</h1></html>" });
		expect(await api.get("/dedicated/server", ServiceNamesSchema)).toHaveLength(3);
		expect(mock.requests.filter((r) => r.path === "/dedicated/server").map((r) => r.status)).toEqual([500, 502, 200]);
	});

	test("a 5xx that persists gives up after the configured retries with a retryable UPSTREAM error", async () => {
		const { mock, api } = await setup({}, { retries: 2 });
		mock.inject({ path: "/dedicated/server", status: 503, times: Number.POSITIVE_INFINITY });
		const error = await failure<OvhApiError>(api.get("/dedicated/server", ServiceNamesSchema));
		expect(error.code).toBe("UPSTREAM");
		expect(error.retryable).toBe(true);
		expect(error.message).toContain("after 2 retries");
		expect(mock.count("GET", "/dedicated/server")).toBe(3);
	});

	test("403 is not retried", async () => {
		const { mock, api } = await setup();
		mock.inject({ path: "/dedicated/server", status: 403, errorCode: "NOT_GRANTED_CALL", message: "no" });
		const error = await failure<OvhApiError>(api.get("/dedicated/server", ServiceNamesSchema));
		expect(error.code).toBe("ACCESS_DENIED");
		expect(mock.count("GET", "/dedicated/server")).toBe(1);
	});

	test("a slow answer times out with the ovh-api stage, without retrying", async () => {
		const { mock, api } = await setup({}, { timeoutMs: 200 });
		await api.timeDeltaSeconds();
		mock.inject({ path: "/dedicated/server", delayMs: 1500 });
		const started = Date.now();
		const error = await failure<OvhApiError>(api.get("/dedicated/server", ServiceNamesSchema));
		expect(Date.now() - started).toBeLessThan(1200);
		expect(error.code).toBe("TIMEOUT");
		expect(error.stage).toBe("ovh-api");
		expect(error.message).toContain("GET /dedicated/server");
		expect(mock.count("GET", "/dedicated/server")).toBe(1);
	});

	test("the caller's cancellation stops a call at once", async () => {
		const { mock, api } = await setup();
		await api.timeDeltaSeconds();
		mock.inject({ path: "/dedicated/server", delayMs: 2000 });
		const controller = new AbortController();
		setTimeout(() => controller.abort(), 50);
		const error = await failure<OvhApiError>(
			api.get("/dedicated/server", ServiceNamesSchema, { signal: controller.signal }),
		);
		expect(error.code).toBe("CANCELLED");
	});

	test("an endpoint that is not the OVH API gives a clear error", async () => {
		const { mock, api } = await setup();
		mock.inject({ path: "/dedicated/server", status: 200, rawBody: "<html>login portal</html>" });
		const error = await failure<OvhApiError>(api.get("/dedicated/server", ServiceNamesSchema));
		expect(error.code).toBe("PROTOCOL");
		expect(error.hint).toContain("OVH_ENDPOINT");

		const unreachable = new OvhApiClient({
			endpoint: "http://127.0.0.1:1/1.0",
			applicationKey: "a",
			applicationSecret: "b-secret",
			consumerKey: "c-consumer",
		});
		const refused = await failure<OvhApiError>(unreachable.get("/dedicated/server", ServiceNamesSchema));
		expect(refused.code).toBe("CONNECTION");
		expect(refused.stage).toBe("ovh-api");
	});

	test("a new consumer key is requested unsigned, fails until validated, then works", async () => {
		const { mock } = await setup();
		const fresh = new OvhApiClient({
			endpoint: mock.endpoint,
			applicationKey: MOCK_APPLICATION_KEY,
			applicationSecret: MOCK_APPLICATION_SECRET,
		});
		const credential = await fresh.requestCredential([{ method: "GET", path: "/dedicated/server" }]);
		expect(credential.state).toBe("pendingValidation");
		const request = mock.requests.find((r) => r.path === "/auth/credential");
		expect(request?.headers["x-ovh-signature"]).toBeUndefined();

		const api = ovhApiClient(mock, { consumerKey: credential.consumerKey });
		expect((await api.get("/auth/currentCredential", CurrentCredentialSchema)).status).toBe("pendingValidation");
		expect((await failure<OvhApiError>(api.get("/dedicated/server", ServiceNamesSchema))).ovhErrorCode).toBe(
			"INVALID_CREDENTIAL",
		);

		expect((await fetch(credential.validationUrl)).status).toBe(200);
		expect(await api.get("/dedicated/server", ServiceNamesSchema)).toHaveLength(3);
		const current = await api.get("/auth/currentCredential", CurrentCredentialSchema);
		expect(current.status).toBe("validated");
		expect(current.rules).toEqual([{ method: "GET", path: "/dedicated/server" }]);
	});
});
