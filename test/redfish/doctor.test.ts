import { describe, expect, test } from "bun:test";
import { redfishDoctor } from "../../src/redfish/doctor.ts";
import { ctx, fakeBmc, targetOf } from "../support/redfish.ts";

describe("redfishDoctor", () => {
	test("a Dell BMC: every line, and the session is gone afterwards", async () => {
		const bmc = await fakeBmc({ vendor: "dell", screen: { png: new Uint8Array(300) } });
		const lines = await redfishDoctor(targetOf(bmc), ctx(), { timeoutMs: 3000 });
		expect(lines.map((l) => [l.name, l.status])).toEqual([
			["reachable", "pass"],
			["TLS", "warn"],
			["login", "pass"],
			["systems", "pass"],
			["screenshot", "pass"],
			["power", "pass"],
		]);
		expect(lines.find((l) => l.name === "screenshot")?.detail).toBe("Dell iDRAC DellLCService.ExportServerScreenShot");
		expect(lines.find((l) => l.name === "power")?.detail).toContain("not allowed");
		expect(bmc.openSessions).toBe(0);
		expect(bmc.stats.sessionDeletes).toBe(1);
	});

	test("no screenshot method is a warning naming what is missing; wrong password fails the login line", async () => {
		const bmc = await fakeBmc();
		const lines = await redfishDoctor(targetOf(bmc), ctx(), { timeoutMs: 3000, powerAllowed: true });
		expect(lines.find((l) => l.name === "screenshot")).toMatchObject({ status: "warn" });
		expect(lines.find((l) => l.name === "power")?.detail).toContain("allowed by this target's control field");
		const bad = await redfishDoctor(targetOf(bmc, { password: "rf-bad-pw-7" }), ctx(), { timeoutMs: 3000 });
		expect(bad.find((l) => l.name === "login")).toMatchObject({ status: "fail" });
	});

	test("an unreachable BMC: reachable fails, the rest is skipped", async () => {
		const lines = await redfishDoctor(
			{ kind: "redfish", url: "https://127.0.0.1:1", username: "u", password: "p", tls: { insecure: true } },
			ctx(),
			{ timeoutMs: 1000 },
		);
		expect(lines[0]).toMatchObject({ name: "reachable", status: "fail" });
		expect(lines.slice(1).every((l) => l.status === "skip")).toBe(true);
	});
});
