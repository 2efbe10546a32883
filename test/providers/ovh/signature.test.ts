import { describe, expect, test } from "bun:test";
import { IkvmError } from "../../../src/errors.ts";
import { resolveEndpoint, signRequest } from "../../../src/providers/ovh/api.ts";
import { accessRuleFor, ovhErrorFromResponse } from "../../../src/providers/ovh/api-errors.ts";
import { README_ACCESS_RULES, ruleAllows } from "../../mocks/ovh-api.ts";
import { PROVIDER_CALLS } from "./support.ts";

const AS = "EXEgWIz07P0HYwtQDs7cNIqCiQaWSuHF";
const CK = "MtSwSrPpNjqfVSmJhLbPyr2i45lSwPU1";

describe("OVH request signature", () => {
	// Computed independently of this code:
	//   printf '%s' 'EXEg…uHF+MtSw…PU1+GET+https://eu.api.ovh.com/1.0/dedicated/server/ns1.ip-1-2-3.eu/features/ipmi/access?type=kvmipHtml5URL++1457018875' | sha1sum
	test("GET with a query string and no body matches the hand-computed value", () => {
		expect(
			signRequest({
				applicationSecret: AS,
				consumerKey: CK,
				method: "GET",
				url: "https://eu.api.ovh.com/1.0/dedicated/server/ns1.ip-1-2-3.eu/features/ipmi/access?type=kvmipHtml5URL",
				body: "",
				timestamp: 1457018875,
			}),
		).toBe("$1$455c9568b5aa20e66efe65a916d084c774e1178f");
	});

	//   printf '%s' '…+POST+https://eu.api.ovh.com/1.0/dedicated/server/ns1.ip-1-2-3.eu/features/ipmi/access+{"type":"kvmipHtml5URL","ttl":15,"ipToAllow":"203.0.113.7"}+1457018875' | sha1sum
	test("POST signs the exact body bytes", () => {
		expect(
			signRequest({
				applicationSecret: AS,
				consumerKey: CK,
				method: "post",
				url: "https://eu.api.ovh.com/1.0/dedicated/server/ns1.ip-1-2-3.eu/features/ipmi/access",
				body: JSON.stringify({ type: "kvmipHtml5URL", ttl: 15, ipToAllow: "203.0.113.7" }),
				timestamp: 1457018875,
			}),
		).toBe("$1$5c022c5b2e3f9d29cc7569c9b0f87982f40ac0fe");
	});

	test("every part of the preimage changes the signature", () => {
		const base = {
			applicationSecret: AS,
			consumerKey: CK,
			method: "GET",
			url: "https://eu.api.ovh.com/1.0/dedicated/server",
			body: "",
			timestamp: 1,
		};
		const reference = signRequest(base);
		for (const change of [
			{ applicationSecret: `${AS}x` },
			{ consumerKey: `${CK}x` },
			{ method: "POST" },
			{ url: `${base.url}?a=1` },
			{ body: "{}" },
			{ timestamp: 2 },
		]) {
			expect(signRequest({ ...base, ...change })).not.toBe(reference);
		}
	});
});

describe("OVH endpoints", () => {
	test("region names and the SDK aliases", () => {
		expect(resolveEndpoint("eu")).toBe("https://eu.api.ovh.com/1.0");
		expect(resolveEndpoint("ovh-eu")).toBe("https://eu.api.ovh.com/1.0");
		expect(resolveEndpoint("CA")).toBe("https://ca.api.ovh.com/1.0");
		expect(resolveEndpoint("ovh-ca")).toBe("https://ca.api.ovh.com/1.0");
		expect(resolveEndpoint("us")).toBe("https://api.us.ovhcloud.com/1.0");
		expect(resolveEndpoint("ovh-us")).toBe("https://api.us.ovhcloud.com/1.0");
	});

	test("a full URL is used as the base, trailing slash removed; a bare host means /1.0", () => {
		expect(resolveEndpoint("http://127.0.0.1:8080/1.0/")).toBe("http://127.0.0.1:8080/1.0");
		expect(resolveEndpoint("https://eu.api.ovh.com")).toBe("https://eu.api.ovh.com/1.0");
		expect(resolveEndpoint("https://proxy.example/ovh/1.0")).toBe("https://proxy.example/ovh/1.0");
	});

	test("anything else is a clear configuration error", () => {
		for (const bad of ["europe", "ftp://x/1.0", "https://u:p@eu.api.ovh.com/1.0", "https://x/1.0?a=b"]) {
			let error: unknown;
			try {
				resolveEndpoint(bad);
			} catch (e) {
				error = e;
			}
			expect(error).toBeInstanceOf(IkvmError);
			expect((error as IkvmError).code).toBe("CONFIG_INVALID");
		}
	});
});

describe("access rules", () => {
	test("a concrete call maps to the rule pattern a consumer key needs", () => {
		expect(accessRuleFor("GET", "/dedicated/server")).toBe("GET /dedicated/server");
		expect(accessRuleFor("GET", "/dedicated/server/ns1.ip-1-2-3.eu")).toBe("GET /dedicated/server/*");
		expect(accessRuleFor("GET", "/dedicated/server/ns1.ip-1-2-3.eu/features/ipmi")).toBe(
			"GET /dedicated/server/*/features/ipmi",
		);
		expect(accessRuleFor("POST", "/dedicated/server/ns1.ip-1-2-3.eu/features/ipmi/access")).toBe(
			"POST /dedicated/server/*/features/ipmi/access",
		);
		expect(accessRuleFor("GET", "/dedicated/server/ns1.ip-1-2-3.eu/task/4200001")).toBe(
			"GET /dedicated/server/*/task/*",
		);
	});

	test("the README's rules cover every call the provider makes, and the mock matches like OVH", () => {
		for (const [method, path] of PROVIDER_CALLS) {
			expect(README_ACCESS_RULES.some((r) => ruleAllows(r, method, path))).toBe(true);
		}
		expect(ruleAllows({ method: "GET", path: "/dedicated/server" }, "GET", "/dedicated/server/x")).toBe(false);
		expect(ruleAllows({ method: "GET", path: "/dedicated/server/*" }, "POST", "/dedicated/server/x")).toBe(false);
		expect(ruleAllows({ method: "GET", path: "/dedicated/server/*" }, "GET", "/dedicated/server/x/task/1")).toBe(true);
	});
});

describe("OVH error answers", () => {
	const failure = (status: number, errorCode?: string, extra: object = {}) =>
		ovhErrorFromResponse({
			method: "GET",
			path: "/dedicated/server/ns1.ip-1-2-3.eu/features/ipmi",
			status,
			body: { message: "m", errorCode, ...extra },
			queryId: "EU.ext-1.abc.1",
			apiOrigin: "https://eu.api.ovh.com",
		});

	test("each documented errorCode says what to fix", () => {
		const sig = failure(400, "INVALID_SIGNATURE");
		expect(sig.code).toBe("AUTH_FAILED");
		expect(sig.hint).toContain("OVH_APPLICATION_SECRET");
		expect(sig.hint).toContain("EU.ext-1.abc.1");

		const unknownKey = failure(403, "NOT_CREDENTIAL");
		expect(unknownKey.code).toBe("AUTH_FAILED");
		expect(unknownKey.hint).toContain("OVH_CONSUMER_KEY");

		const pending = failure(403, "INVALID_CREDENTIAL");
		expect(pending.hint).toContain("Validate the consumer key at");
		expect(pending.hint).toContain("https://eu.api.ovh.com/auth/?credentialToken=");

		const notGranted = failure(403, "NOT_GRANTED_CALL");
		expect(notGranted.code).toBe("ACCESS_DENIED");
		expect(notGranted.hint).toContain("GET /dedicated/server/*/features/ipmi");

		const app = failure(403, "INVALID_KEY");
		expect(app.hint).toContain("OVH_APPLICATION_KEY");

		const iam = failure(403, "FORBIDDEN", {
			details: { unauthorizedActionsByIAM: "dedicatedServer:apiovh:features/ipmi/get" },
		});
		expect(iam.code).toBe("ACCESS_DENIED");
		expect(iam.hint).toContain("dedicatedServer:apiovh:features/ipmi/get");

		const drift = failure(400, "QUERY_TIME_OUT");
		expect(drift.hint).toContain("NTP");
	});

	test("429 and 5xx are retryable, 4xx are not", () => {
		expect(failure(429).retryable).toBe(true);
		expect(failure(429).code).toBe("BUSY");
		expect(failure(503).retryable).toBe(true);
		expect(failure(403, "NOT_GRANTED_CALL").retryable).toBe(false);
		expect(failure(404).retryable).toBe(false);
	});
});
