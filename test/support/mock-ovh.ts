/** The mock OVH API as the tests point the real code at it: environment, settings, API client, lifetime. */
import { afterEach } from "bun:test";
import type { OvhSettings } from "../../src/config.ts";
import { OvhApiClient, type OvhApiClientOptions } from "../../src/providers/ovh/api.ts";
import {
	MOCK_APPLICATION_KEY,
	MOCK_APPLICATION_SECRET,
	MOCK_CONSUMER_KEY,
	MockOvhApi,
	type MockOvhApiOptions,
} from "../mocks/ovh-api.ts";

/** Environment that points the real configuration at the mock. */
export function ovhEnv(mock: MockOvhApi, extra: Record<string, string> = {}): Record<string, string> {
	return {
		OVH_ENDPOINT: mock.endpoint,
		OVH_APPLICATION_KEY: MOCK_APPLICATION_KEY,
		OVH_APPLICATION_SECRET: MOCK_APPLICATION_SECRET,
		OVH_CONSUMER_KEY: MOCK_CONSUMER_KEY,
		OVH_IP_DISCOVERY_URL: mock.ipDiscoveryUrl,
		...extra,
	};
}

export function ovhSettings(mock: MockOvhApi, extra: Partial<OvhSettings> = {}): OvhSettings {
	return {
		endpoint: mock.endpoint,
		applicationKey: MOCK_APPLICATION_KEY,
		applicationSecret: MOCK_APPLICATION_SECRET,
		consumerKey: MOCK_CONSUMER_KEY,
		ipDiscoveryUrl: mock.ipDiscoveryUrl,
		...extra,
	};
}

/** An API client with the mock's credentials (`options` may change them). */
export function ovhApiClient(mock: MockOvhApi, options: Partial<OvhApiClientOptions> = {}): OvhApiClient {
	return new OvhApiClient({
		endpoint: mock.endpoint,
		applicationKey: MOCK_APPLICATION_KEY,
		applicationSecret: MOCK_APPLICATION_SECRET,
		consumerKey: MOCK_CONSUMER_KEY,
		...options,
	});
}

/**
 * Call at the top of a test file: returns a function that starts a mock OVH API (with `defaults`
 * under each call's options), each stopped after the test that started it.
 */
export function mockOvhApis(defaults: MockOvhApiOptions = {}): (options?: MockOvhApiOptions) => Promise<MockOvhApi> {
	const started: MockOvhApi[] = [];
	afterEach(async () => {
		await Promise.all(started.splice(0).map((mock) => mock.stop()));
	});
	return async (options = {}) => {
		const mock = await MockOvhApi.start({ ...defaults, ...options });
		started.push(mock);
		return mock;
	};
}
