/**
 * DMTF's own client (Debian package `redfishtool`) against the fake BMC: an independent
 * check that the fake answers as a Redfish service does (service root, session login
 * and logout, collections, Reset with an allowed value).
 */
import { describe, expect, test } from "bun:test";
import { fakeBmc } from "../support/redfish.ts";

const tool = Bun.which("redfishtool");

async function redfishtool(host: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
	const proc = Bun.spawn([tool as string, "-r", host, "-S", "Always", "-T", "10", ...args], {
		stdout: "pipe",
		stderr: "pipe",
	});
	const [out, err, code] = await Promise.all([
		new Response(proc.stdout).text(),
		new Response(proc.stderr).text(),
		proc.exited,
	]);
	return { code, out, err };
}

describe.skipIf(!tool)(
	`redfishtool against the fake BMC${tool ? "" : " (skipped: redfishtool is not installed; apt-get install redfishtool)"}`,
	() => {
		test("session login, Systems, Reset, and the session is gone afterwards", async () => {
			const bmc = await fakeBmc({ vendor: "dell", initialPower: "On" });
			const host = bmc.origin.replace("https://", "");
			const creds = ["-A", "Session", "-u", bmc.username, "-p", bmc.password];
			const root = await redfishtool(host, ["root"]);
			expect(root.code).toBe(0);
			expect(JSON.parse(root.out).RedfishVersion).toBe("1.17.0");

			const systems = await redfishtool(host, [...creds, "Systems"]);
			expect(systems.code).toBe(0);
			expect(JSON.parse(systems.out).Members).toEqual([{ "@odata.id": "/redfish/v1/Systems/System.Embedded.1" }]);

			const reset = await redfishtool(host, [...creds, "Systems", "-I", "System.Embedded.1", "reset", "ForceOff"]);
			expect(reset.code).toBe(0);
			expect(bmc.stats.resets).toEqual(["ForceOff"]);
			await Bun.sleep(300);
			const system = await redfishtool(host, [...creds, "Systems", "-I", "System.Embedded.1", "get"]);
			expect(JSON.parse(system.out).PowerState).toBe("Off");
			expect(bmc.stats.logins).toBeGreaterThanOrEqual(3);
			expect(bmc.openSessions).toBe(0);
		});

		test("wrong password is refused with 401", async () => {
			const bmc = await fakeBmc();
			const r = await redfishtool(bmc.origin.replace("https://", ""), ["-u", bmc.username, "-p", "wrong", "Systems"]);
			expect(r.code).not.toBe(0);
			expect(r.err).toContain("401");
		});
	},
);
