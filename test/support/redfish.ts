/** Fake Redfish BMCs for tests: started per test file, stopped after it; clients that point at them. */
import { afterAll } from "bun:test";
import { standaloneContext } from "../../src/call-context.ts";
import { FakeRedfishBmc, type FakeRedfishOptions } from "../../src/demo/redfish-bmc.ts";
import { RedfishClient, type RedfishClientOptions } from "../../src/redfish/client.ts";
import type { RedfishTarget } from "../../src/redfish/target.ts";

const started: FakeRedfishBmc[] = [];
afterAll(async () => {
	await Promise.allSettled(started.map((b) => b.stop()));
});

export async function fakeBmc(options: FakeRedfishOptions = {}): Promise<FakeRedfishBmc> {
	const bmc = await FakeRedfishBmc.start(options);
	started.push(bmc);
	return bmc;
}

export function clientOf(
	bmc: FakeRedfishBmc,
	options: RedfishClientOptions = {},
	password = bmc.password,
): RedfishClient {
	return new RedfishClient(
		{ url: bmc.origin, username: bmc.username, password, tls: { insecure: true } },
		{ requestTimeoutMs: 3000, ...options },
	);
}

export function targetOf(bmc: FakeRedfishBmc, extra: Partial<RedfishTarget> = {}): RedfishTarget {
	return {
		kind: "redfish",
		url: bmc.origin,
		username: bmc.username,
		password: bmc.password,
		tls: { insecure: true },
		...extra,
	};
}

export const ctx = () => standaloneContext(AbortSignal.timeout(20_000));

export const LIMITS = { maxWidth: 4096, maxHeight: 4096 };
