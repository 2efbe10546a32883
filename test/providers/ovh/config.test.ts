import { describe, expect, test } from "bun:test";
import { createApp } from "../../../src/app.ts";
import { loadConfig } from "../../../src/config.ts";
import type { IkvmError } from "../../../src/errors.ts";

const OVH = {
	OVH_APPLICATION_KEY: "ak",
	OVH_APPLICATION_SECRET: "as-secret",
	OVH_CONSUMER_KEY: "ck-secret",
};

function configError(env: Record<string, string>): IkvmError {
	try {
		loadConfig(env);
	} catch (error) {
		return error as IkvmError;
	}
	throw new Error("expected a configuration error");
}

describe("OVH configuration", () => {
	test("the OVH_* variables become the provider's settings", () => {
		const config = loadConfig({
			...OVH,
			OVH_ENDPOINT: "ovh-ca",
			OVH_IPMI_ALLOWED_IP: "198.51.100.4",
			OVH_IP_DISCOVERY_URL: "https://ip.example/",
		});
		expect(config.ovh).toEqual({
			endpoint: "ovh-ca",
			applicationKey: "ak",
			applicationSecret: "as-secret",
			consumerKey: "ck-secret",
			ipmiAllowedIp: "198.51.100.4",
			ipDiscoveryUrl: "https://ip.example/",
			bmcTlsVerify: false,
		});
		expect(loadConfig({ ...OVH }).ovh?.endpoint).toBe("eu");
		expect(loadConfig({ ...OVH, OVH_IP_DISCOVERY_URL: "off" }).ovh?.ipDiscoveryUrl).toBe("off");
	});

	test("bad values are clear start-up errors", () => {
		expect(configError({ ...OVH, OVH_IPMI_ALLOWED_IP: "2001:db8::1" }).message).toContain("OVH_IPMI_ALLOWED_IP");
		expect(configError({ ...OVH, OVH_IP_DISCOVERY_URL: "ftp://ip.example" }).message).toContain("OVH_IP_DISCOVERY_URL");
		expect(configError({ OVH_APPLICATION_KEY: "ak" }).code).toBe("CONFIG_INVALID");
	});

	test("an unknown OVH_ENDPOINT stops start-up with the valid names", async () => {
		const config = loadConfig({ ...OVH, OVH_ENDPOINT: "europe", LOG_LEVEL: "silent" });
		let error: unknown;
		try {
			await createApp(config);
		} catch (e) {
			error = e;
		}
		expect((error as IkvmError).code).toBe("CONFIG_INVALID");
		expect((error as IkvmError).hint).toContain("ovh-eu");
	});
});
