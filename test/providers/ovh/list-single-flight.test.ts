/**
 * Concurrent list_servers share one OVH listing: OVH rate-limits a consumer
 * key (about 60 calls a minute), and 200 agents asking at once must not cost
 * 200 listings. A caller that gives up leaves the others their answer.
 */
import { expect, test } from "bun:test";
import { standaloneContext } from "../../../src/call-context.ts";
import { OvhProvider } from "../../../src/providers/ovh/provider.ts";
import { mockOvhApis, ovhSettings } from "../../support/mock-ovh.ts";

const startMock = mockOvhApis();

test("concurrent listings share one set of OVH requests; a cancelled caller does not cancel the others", async () => {
	const mock = await startMock();
	mock.inject({ method: "GET", path: "/dedicated/server", delayMs: 200 });
	const provider = new OvhProvider(ovhSettings(mock, { ipDiscoveryUrl: "off" }));
	const quitter = new AbortController();
	const gaveUp = provider.listServers(standaloneContext(quitter.signal)).catch((e) => e);
	const lists = Promise.all([...Array(20)].map(() => provider.listServers(standaloneContext())));
	await Bun.sleep(50);
	quitter.abort();
	expect(await gaveUp).toMatchObject({ code: "CANCELLED", stage: "list-servers" });
	const results = await lists;
	expect(results.every((r) => r.length === 3)).toBe(true);
	expect(mock.count("GET", "/dedicated/server")).toBe(1);
	expect(mock.count("GET", /^\/dedicated\/server\/[^/]+$/)).toBe(3);
});
