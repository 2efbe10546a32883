import { afterEach, describe, expect, test } from "bun:test";
import { closeRedfishClients } from "../../src/redfish/clients.ts";
import { redfishConfigSchema, redfishDriver } from "../../src/redfish/driver.ts";
import { ctx, fakeBmc, targetOf } from "../support/redfish.ts";

afterEach(closeRedfishClients);

describe("redfish driver", () => {
	test("one ComputerSystem: one server with the target's id and its facts", async () => {
		const bmc = await fakeBmc({ vendor: "dell" });
		const listed = await redfishDriver.listServers(targetOf(bmc), ctx());
		expect(listed).toHaveLength(1);
		expect(listed[0]?.idSuffix).toBeUndefined();
		expect(listed[0]?.name).toBe("web-483.example.net");
		expect(listed[0]?.facts).toEqual({
			manufacturer: "Dell Inc.",
			model: "PowerEdge R750",
			serial: "SN-System.Embedded.1-0042",
			powerState: "On",
			health: "OK",
			bootProgress: "OSRunning",
		});
		expect(listed[0]?.target.systemId).toBe("System.Embedded.1");
	});

	test("several systems: one server each, named <id>/<SystemId>, all on one BMC session", async () => {
		const bmc = await fakeBmc({ systems: ["node1", "node2", "node3"] });
		const listed = await redfishDriver.listServers(targetOf(bmc), ctx());
		expect(listed.map((l) => l.idSuffix)).toEqual(["node1", "node2", "node3"]);
		const status = await Promise.all(
			listed.map((l) => redfishDriver.power?.(l.target, "status", ctx(), async () => undefined as never)),
		);
		expect(status.map((s) => s?.state)).toEqual(["on", "on", "on"]);
		expect(bmc.stats.logins).toBe(1);
		await redfishDriver.close();
		expect(bmc.openSessions).toBe(0);
	});

	test("config: https only, secrets from the environment, TLS choices validated", () => {
		const ok = redfishConfigSchema.safeParse({
			id: "db-7",
			type: "redfish",
			url: "https://10.0.0.7",
			username: "root",
			passwordEnv: "DB7_PW",
			tls: { fingerprint256: "AB".repeat(32) },
		});
		expect(ok.success).toBe(true);
		const http = redfishConfigSchema.safeParse({
			id: "db-7",
			type: "redfish",
			url: "http://10.0.0.7",
			username: "root",
			passwordEnv: "X",
		});
		expect(http.success).toBe(false);
		const both = redfishConfigSchema.safeParse({
			id: "a",
			type: "redfish",
			url: "https://h",
			username: "u",
			passwordEnv: "X",
			tls: { insecure: true, fingerprint256: "AB".repeat(32) },
		});
		expect(both.success).toBe(false);
		const badPin = redfishConfigSchema.safeParse({
			id: "a",
			type: "redfish",
			url: "https://h",
			username: "u",
			passwordEnv: "X",
			tls: { fingerprint256: "nope" },
		});
		expect(badPin.success).toBe(false);
		const noPw = redfishConfigSchema.safeParse({ id: "a", type: "redfish", url: "https://h", username: "u" });
		expect(noPw.success).toBe(false);
		if (!ok.success) return;
		const built = redfishDriver.fromConfig(ok.data, (inline, env) => (env === "DB7_PW" ? "pw-from-env" : inline));
		expect(built.ip).toBe("10.0.0.7");
		expect(built.target.password).toBe("pw-from-env");
		expect(redfishDriver.describe(built.target)).toBe("Redfish https://10.0.0.7 (TLS pinned)");
	});
});
