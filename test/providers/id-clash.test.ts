import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { startServing } from "../../src/serve.ts";
import { MockOvhApi } from "../mocks/ovh-api.ts";
import { inMemoryClient, testConfig, texts } from "../support/mcp.ts";
import { ovhEnv } from "../support/mock-ovh.ts";

let ovh: MockOvhApi;
let dir: string;
beforeAll(async () => {
	ovh = await MockOvhApi.start({ servers: [{ name: "ns1.ip-1-2-3.eu" }, { name: "ns2.ip-1-2-3.eu" }] });
	dir = mkdtempSync(join(tmpdir(), "ikvm-clash-"));
});
afterAll(async () => {
	await ovh.stop();
});

function targets(ids: string[]): string {
	const file = join(dir, `${ids.join("-")}.json`);
	writeFileSync(
		file,
		JSON.stringify({ servers: ids.map((id) => ({ id, type: "vnc", host: "127.0.0.1", port: 5999 })) }),
	);
	return file;
}

describe("server ids are unique across providers", () => {
	test("a configured target with an OVH server's id stops start-up, naming the id and both providers", async () => {
		const config = testConfig({ ...ovhEnv(ovh), IKVM_CONFIG: targets(["lab-vm", "ns2.ip-1-2-3.eu"]) });
		const error = await startServing(config).catch((e) => e);
		expect(error.code).toBe("CONFIG_INVALID");
		expect(error.message).toContain('"ns2.ip-1-2-3.eu"');
		expect(error.message).toContain("ovh");
		expect(error.message).toContain("config");
	});

	test("distinct ids start normally and are all listed", async () => {
		const running = await startServing(testConfig({ ...ovhEnv(ovh), IKVM_CONFIG: targets(["lab-vm"]) }));
		await running.stop();
	});

	test("a clash that appears after start-up is reported by list_servers, not hidden", async () => {
		const c = await inMemoryClient({}, { ...ovhEnv(ovh), IKVM_CONFIG: targets(["ns1.ip-1-2-3.eu", "vm-2"]) });
		try {
			const r = (await c.client.callTool({ name: "list_servers", arguments: {} })) as CallToolResult;
			const ids = (JSON.parse(texts(r)[0] ?? "") as Array<{ id: string }>).map((s) => s.id);
			expect(ids.filter((id) => id === "ns1.ip-1-2-3.eu").length).toBe(1);
			expect(ids).toContain("vm-2");
			expect(texts(r).join("\n")).toContain('server id "ns1.ip-1-2-3.eu" is used by both');
		} finally {
			await c.close();
		}
	});
});
