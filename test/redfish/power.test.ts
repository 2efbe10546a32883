import { describe, expect, test } from "bun:test";
import type { FakeRedfishOptions } from "../../src/demo/redfish-bmc.ts";
import type { PowerAction } from "../../src/input/types.ts";
import { redfishPower } from "../../src/redfish/power.ts";
import { failure } from "../support/ikvm-error.ts";
import { clientOf, ctx, fakeBmc } from "../support/redfish.ts";

const FAST = { pollMs: 50, settleMs: 2000 };

async function run(options: FakeRedfishOptions, action: PowerAction) {
	const bmc = await fakeBmc(options);
	const client = clientOf(bmc);
	const system = `/redfish/v1/Systems/${bmc.systemIds[0]}`;
	try {
		const result = await redfishPower(client, system, action, ctx(), FAST);
		return { bmc, result };
	} finally {
		await client.close();
		expect(bmc.openSessions).toBe(0);
	}
}

describe("Redfish power", () => {
	test("status reads PowerState and sends nothing", async () => {
		const { bmc, result } = await run({ initialPower: "Off" }, "status");
		expect(result).toEqual({
			state: "off",
			source: "Redfish PowerState",
			message: "PowerState of 437XR1138R2 is Off.",
		});
		expect(bmc.stats.resets).toEqual([]);
	});

	test.each([
		["on", "Off", "On", "on"],
		["off", "On", "ForceOff", "off"],
		["shutdown", "On", "GracefulShutdown", "off"],
		["reset", "On", "ForceRestart", "on"],
		["cycle", "On", "PowerCycle", "on"],
	] as const)(
		"%s from %s sends ResetType %s and reports the state observed",
		async (action, initial, resetType, state) => {
			const { bmc, result } = await run({ initialPower: initial }, action);
			expect(bmc.stats.resets).toEqual([resetType]);
			expect(result.state).toBe(state);
			expect(result.message).toContain(`Sent ResetType ${resetType}; PowerState went`);
		},
	);

	test("already in the asked state: nothing is sent", async () => {
		const { bmc, result } = await run({ initialPower: "On" }, "on");
		expect(bmc.stats.resets).toEqual([]);
		expect(result.message).toContain("already On; nothing was sent");
	});

	test("a value the BMC does not allow falls back to the next one (On → ForceOn)", async () => {
		const { bmc } = await run({ initialPower: "Off", allowedResetTypes: ["ForceOn", "ForceOff"] }, "on");
		expect(bmc.stats.resets).toEqual(["ForceOn"]);
	});

	test("values from @Redfish.ActionInfo only (bmcweb): checked before sending", async () => {
		const { bmc } = await run({ vendor: "openbmc", allowedResetTypes: ["On", "ForceOff", "ForceRestart"] }, "cycle");
		expect(bmc.stats.requests.some((r) => r.path.endsWith("/ResetActionInfo"))).toBe(true);
		expect(bmc.stats.resets).toEqual(["ForceRestart"]);
		const bmc2 = await fakeBmc({ vendor: "openbmc", allowedResetTypes: ["On", "ForceOff"] });
		const error = await failure(redfishPower(clientOf(bmc2), "/redfish/v1/Systems/system", "shutdown", ctx(), FAST));
		expect(error.code).toBe("NOT_SUPPORTED");
		expect(error.message).toContain("it allows On, ForceOff");
		expect(bmc2.stats.resets).toEqual([]);
	});

	test("a 202 task monitor is followed to its end, then PowerState is watched", async () => {
		const { bmc, result } = await run({ initialPower: "On", resetTask: true, taskMs: 400 }, "off");
		const monitorGets = bmc.stats.requests.filter((r) => r.path.includes("/TaskMonitors/"));
		expect(monitorGets.length).toBeGreaterThan(1);
		expect(result.state).toBe("off");
	});

	test("a task that ends in Exception is an error carrying the task's message", async () => {
		const bmc = await fakeBmc({ initialPower: "On", resetTask: true, taskMs: 100, taskFails: true });
		const client = clientOf(bmc);
		const error = await failure(redfishPower(client, "/redfish/v1/Systems/437XR1138R2", "off", ctx(), FAST));
		expect(error.code).toBe("UPSTREAM");
		expect(error.message).toBe(
			"The BMC's power task ended Exception: InternalError: The power controller did not respond.",
		);
		await client.close();
	});

	test("a BMC that accepts and does nothing: the result says what was observed, not what was hoped", async () => {
		const { result } = await run({ initialPower: "On", stuckPower: true }, "off");
		expect(result.state).toBe("on");
		expect(result.message).toContain("PowerState is still On");
		expect(result.message).toContain("expected Off");
	});

	test("iDRAC's 409 'already powered' is a no-op success when the state matches", async () => {
		const bmc = await fakeBmc({ initialPower: "On", conflictWhenAlreadyInState: true });
		const client = clientOf(bmc);
		// PoweringOn when read; the iDRAC answers the Reset with 409 "already powered ON".
		bmc.setPower("437XR1138R2", "PoweringOn");
		const result = await redfishPower(client, "/redfish/v1/Systems/437XR1138R2", "on", ctx(), FAST);
		expect(bmc.stats.requests.filter((r) => r.path.endsWith("ComputerSystem.Reset"))).toHaveLength(1);
		expect(result.message).toContain("IDRAC.2.1.PSU501: Server is already powered ON.");
		expect(result.state).toBe("on");
		await client.close();
	});
});
