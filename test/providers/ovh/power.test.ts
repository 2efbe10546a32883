/**
 * OVH power: `reset` is OVH's signed reboot call and its task, `status` the
 * server's powerState, and any other action goes through the BMC when one is
 * reachable, else a NOT_SUPPORTED naming what OVH supports.
 */
import { describe, expect, test } from "bun:test";
import { standaloneContext } from "../../../src/call-context.ts";
import { OvhProvider } from "../../../src/providers/ovh/provider.ts";
import { README_ACCESS_RULES } from "../../mocks/ovh-api.ts";
import { failure } from "../../support/ikvm-error.ts";
import { mockOvhApis, ovhSettings } from "../../support/mock-ovh.ts";

const REBOOT_RULE = { method: "POST" as const, path: "/dedicated/server/*/reboot" };
const startMock = mockOvhApis({ taskStepMs: 60, rules: [...README_ACCESS_RULES, REBOOT_RULE] });
const SERVER = "ns3001234.ip-51-68-1.eu";

function provider(mock: Awaited<ReturnType<typeof startMock>>): OvhProvider {
	return new OvhProvider(ovhSettings(mock), { power: { pollIntervalMs: 30 } });
}

const ctx = () => standaloneContext(AbortSignal.timeout(10_000));

describe("OVH power", () => {
	test("reset: a signed POST …/reboot, its hardReboot task waited for, and said when it is done", async () => {
		let rebooted = 0;
		const mock = await startMock({ servers: [{ name: SERVER, onReboot: () => rebooted++ }] });
		const progress: string[] = [];
		const result = await provider(mock).power(SERVER, "reset", {
			signal: AbortSignal.timeout(10_000),
			progress: (_stage, message) => progress.push(message),
		});
		expect(mock.reboots).toEqual([SERVER]);
		const post = mock.requests.find((r) => r.method === "POST" && r.path.endsWith("/reboot"));
		expect(post?.status).toBe(200);
		expect(post?.headers["x-ovh-signature"]).toMatch(/^\$1\$[0-9a-f]{40}$/);
		expect(post?.body).toBe("");
		expect(result.state).toBe("on");
		expect(result.source).toMatch(/^OVH task \d+$/);
		expect(result.message).toContain("done after");
		expect(progress.some((m) => m.includes("hardReboot"))).toBe(true);
		expect(rebooted).toBe(1);
	});

	test("reset with a key lacking the reboot rule: ACCESS_DENIED naming the rule, nothing rebooted", async () => {
		const mock = await startMock({ rules: README_ACCESS_RULES });
		const error = await failure(provider(mock).power(SERVER, "reset", ctx()));
		expect(error.code).toBe("ACCESS_DENIED");
		expect(error.message).toContain("POST /dedicated/server/*/reboot");
		expect(error.message).toContain("Nothing was rebooted");
		expect(mock.reboots).toEqual([]);
	});

	test("status is the server's powerState", async () => {
		const mock = await startMock({ servers: [{ name: SERVER, powerState: "poweroff" }] });
		const result = await provider(mock).power(SERVER, "status", ctx());
		expect(result).toMatchObject({ state: "off", source: "OVH API (powerState)" });
	});

	test("off without a BMC session: NOT_SUPPORTED naming what OVH supports; with one, the BMC does it", async () => {
		const mock = await startMock();
		const error = await failure(provider(mock).power(SERVER, "off", ctx()));
		expect(error.code).toBe("NOT_SUPPORTED");
		expect(error.hint).toContain("status and reset");
		const viaBmc = await provider(mock).power(SERVER, "off", ctx(), async (action) => ({
			state: "off",
			source: "test BMC",
			message: `did ${action}`,
		}));
		expect(viaBmc.message).toBe("did off");
		expect(mock.reboots).toEqual([]);
	});
});
