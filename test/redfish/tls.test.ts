import { describe, expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import { MOCK_BMC_CERT } from "../../src/demo/mock-bmc-cert.ts";
import type { TargetTls } from "../../src/net/tls.ts";
import { normalizeFingerprint } from "../../src/net/tls.ts";
import { RedfishClient } from "../../src/redfish/client.ts";
import { listSystems } from "../../src/redfish/discovery.ts";
import { failure } from "../support/ikvm-error.ts";
import { ctx, fakeBmc } from "../support/redfish.ts";

const PIN = new X509Certificate(MOCK_BMC_CERT).fingerprint256;

async function clientWith(tls: TargetTls | undefined, hostname?: string) {
	const bmc = await fakeBmc({ hostname });
	const url = bmc.origin;
	return {
		bmc,
		client: new RedfishClient({ url, username: bmc.username, password: bmc.password, tls }, { requestTimeoutMs: 3000 }),
	};
}

describe("Redfish TLS", () => {
	test("a self-signed BMC certificate is refused by default, with the three ways out in the hint", async () => {
		const { client } = await clientWith(undefined);
		const error = await failure(listSystems(client, ctx()));
		expect(error.code).toBe("CONNECTION");
		expect(error.message).toContain("not trusted");
		expect(error.hint).toContain("tls.fingerprint256");
		expect(error.hint).toContain("tls.insecure");
	});

	test("fingerprint256 pins the certificate: the right pin logs in (any case, with or without colons)", async () => {
		for (const pin of [PIN, PIN.replace(/:/g, "").toLowerCase()]) {
			const { bmc, client } = await clientWith({ fingerprint256: pin });
			expect(await listSystems(client, ctx())).toHaveLength(1);
			await client.close();
			expect(bmc.openSessions).toBe(0);
		}
	});

	test("a pin replaces the host-name check (BMC certificates rarely name the address used)", async () => {
		// The certificate names 127.0.0.1, ::1 and localhost, not 127.0.0.2.
		const { client } = await clientWith({ fingerprint256: PIN }, "127.0.0.2");
		expect(await listSystems(client, ctx())).toHaveLength(1);
		await client.close();
		const { client: byCa } = await clientWith({ ca: MOCK_BMC_CERT }, "127.0.0.2");
		const error = await failure(listSystems(byCa, ctx()));
		expect(error.message).toContain("ERR_TLS_CERT_ALTNAME_INVALID");
	});

	test("a wrong pin: refused before any request, the presented fingerprint named", async () => {
		const wrong = normalizeFingerprint("00".repeat(32)) as string;
		const { bmc, client } = await clientWith({ fingerprint256: wrong });
		const error = await failure(listSystems(client, ctx()));
		expect(error.code).toBe("CONNECTION");
		expect(error.message).toContain(PIN);
		expect(error.message).toContain("not the pinned");
		expect(bmc.stats.requests).toHaveLength(0);
	});

	test("a pin is checked on the real connection too, not only when it is learned", async () => {
		const { bmc, client } = await clientWith({ fingerprint256: PIN, ca: MOCK_BMC_CERT });
		expect(await listSystems(client, ctx())).toHaveLength(1);
		await client.close();
		const wrong = normalizeFingerprint("AB".repeat(32)) as string;
		const other = new RedfishClient({
			url: bmc.origin,
			username: bmc.username,
			password: bmc.password,
			tls: { fingerprint256: wrong, ca: MOCK_BMC_CERT },
		});
		const before = bmc.stats.requests.length;
		const error = await failure(listSystems(other, ctx()));
		expect(error.message).toContain("not the pinned");
		expect(bmc.stats.requests.length).toBe(before);
	});

	test("ca: the PEM given is trusted, the host name still checked", async () => {
		const { client } = await clientWith({ ca: MOCK_BMC_CERT });
		expect(await listSystems(client, ctx())).toHaveLength(1);
		await client.close();
	});

	test("insecure accepts the certificate", async () => {
		const { client } = await clientWith({ insecure: true });
		expect(await listSystems(client, ctx())).toHaveLength(1);
		await client.close();
	});
});
