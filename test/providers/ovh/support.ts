import type { OvhSettings } from "../../../src/config.ts";
import type { ConsoleOpener, ConsoleSession, ConsoleTarget } from "../../../src/console/types.ts";
import { IkvmError } from "../../../src/errors.ts";
import {
	MOCK_APPLICATION_KEY,
	MOCK_APPLICATION_SECRET,
	MOCK_CONSUMER_KEY,
	type MockOvhApi,
} from "../../mocks/ovh-api.ts";
import { testFrame } from "../../support/fake-provider.ts";

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

/**
 * A console opener that records the targets it is given and returns a known frame.
 * `refuse(target)` makes opening fail like a BMC refusing the session; `failCapture`
 * makes the next capture of an open session fail (the pool then asks for a fresh target).
 */
export function recordingOpener(options: { refuse?: (target: ConsoleTarget) => boolean } = {}) {
	const state = { targets: [] as ConsoleTarget[], opened: 0, captures: 0, failCapture: false };
	const opener: ConsoleOpener = async (target, ctx) => {
		state.targets.push(target);
		ctx.progress("bmc-login", "fake console login");
		if (options.refuse?.(target)) {
			throw new IkvmError("AUTH_FAILED", "The BMC refused the viewer session.", { stage: "bmc-login" });
		}
		state.opened++;
		let closed = false;
		const session: ConsoleSession = {
			description: `fake ${target.kind}`,
			get closed() {
				return closed;
			},
			async capture() {
				state.captures++;
				if (state.failCapture) {
					state.failCapture = false;
					closed = true;
					throw new IkvmError("CONNECTION", "The console connection dropped.", { stage: "first-frame" });
				}
				return testFrame();
			},
			async close() {
				closed = true;
			},
		};
		return session;
	};
	return { opener, state };
}
