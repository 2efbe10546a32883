import type { ConsoleOpener, ConsoleSession, ConsoleTarget } from "../../../src/console/types.ts";
import { IkvmError } from "../../../src/errors.ts";
import { testFrame } from "../../support/fake-provider.ts";

/** Every call the OVH provider makes (method, a concrete path), for the access-rule tests. */
export const PROVIDER_CALLS: ReadonlyArray<[method: string, path: string]> = [
	["GET", "/dedicated/server"],
	["GET", "/dedicated/server/ns1.ip-1-2-3.eu"],
	["GET", "/dedicated/server/ns1.ip-1-2-3.eu/features/ipmi"],
	["POST", "/dedicated/server/ns1.ip-1-2-3.eu/features/ipmi/access"],
	["GET", "/dedicated/server/ns1.ip-1-2-3.eu/features/ipmi/access"],
	["GET", "/dedicated/server/ns1.ip-1-2-3.eu/task/4200001"],
];

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
