/**
 * A Redfish target through the real server process: list_servers with the BMC's
 * facts (one server per ComputerSystem), get_screenshot of a Dell system pixel for
 * pixel, and SIGTERM leaves no Redfish session on the BMC.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { PNG } from "pngjs";
import { DEMO_SCREENS } from "../../src/demo/screens.ts";
import { httpClient, imagePixels, texts } from "../support/mcp.ts";
import { fakeBmc } from "../support/redfish.ts";
import { spawnServer } from "../support/server-process.ts";
import { writeTargets } from "../support/targets-file.ts";

const png = new Uint8Array(readFileSync(new URL(`../../src/demo/screens/${DEMO_SCREENS.grubRescue}`, import.meta.url)));
const cleanup: Array<() => Promise<unknown>> = [];
afterAll(async () => {
	for (const c of cleanup.reverse()) await c().catch(() => {});
});

describe("Redfish end to end", () => {
	test("list_servers facts, exact screenshot, no session left after SIGTERM", async () => {
		const dell = await fakeBmc({ vendor: "dell", screen: { png } });
		const blade = await fakeBmc({ systems: ["node1", "node2"] });
		const file = writeTargets([
			{
				id: "db-7",
				type: "redfish",
				url: dell.origin,
				username: dell.username,
				passwordEnv: "E2E_DELL_PW",
				tls: { insecure: true },
			},
			{
				id: "blade",
				type: "redfish",
				url: blade.origin,
				username: blade.username,
				passwordEnv: "E2E_BLADE_PW",
				tls: { insecure: true },
			},
		]);
		const server = await spawnServer({
			IKVM_CONFIG: file,
			E2E_DELL_PW: dell.password,
			E2E_BLADE_PW: blade.password,
			LOG_LEVEL: "debug",
		});
		cleanup.push(() => server.stop("SIGKILL"));
		const client = await httpClient(server.url);
		cleanup.push(() => client.close());

		const list = (await client.callTool({ name: "list_servers", arguments: {} })) as CallToolResult;
		const servers = (list.structuredContent as { servers: Array<Record<string, unknown>> }).servers;
		expect(servers.map((s) => s.id)).toEqual(["db-7", "blade/node1", "blade/node2"]);
		expect(servers[0]).toMatchObject({
			provider: "redfish",
			manufacturer: "Dell Inc.",
			model: "PowerEdge R750",
			powerState: "On",
			health: "OK",
			bootProgress: "OSRunning",
		});

		const shot = (await client.callTool({
			name: "get_screenshot",
			arguments: { serverId: "db-7", raw: true },
		})) as CallToolResult;
		expect(shot.isError ? texts(shot)[0] : "ok").toBe("ok");
		const pixels = await imagePixels(shot);
		const source = PNG.sync.read(Buffer.from(png));
		expect([pixels.width, pixels.height]).toEqual([source.width, source.height]);
		expect(pixels.rgba.equals(source.data)).toBe(true);
		expect(dell.openSessions).toBe(1);
		expect(blade.openSessions).toBe(1);
		const held = [...dell.sessions.values(), ...blade.sessions.values()];

		const { code } = await server.stop("SIGTERM");
		expect(code).toBe(0);
		expect(dell.openSessions).toBe(0);
		expect(blade.openSessions).toBe(0);
		expect(dell.stats.logins).toBe(1);
		// Debug logs of the whole run, list and capture and shutdown: no password, token or session id.
		const output = server.stderr() + server.stdout();
		expect(output).toContain("redfish session deleted");
		for (const secret of [dell.password, blade.password, ...held.flatMap((h) => [h.token, h.id])]) {
			expect(output).not.toContain(secret);
		}
	});

	test("power through the MCP power tool: confirmation first, then ResetType on the BMC and the state observed", async () => {
		const bmc = await fakeBmc({ vendor: "dell", powerDelayMs: 50 });
		const file = writeTargets([
			{
				id: "db-8",
				type: "redfish",
				url: bmc.origin,
				username: bmc.username,
				passwordEnv: "E2E_POWER_PW",
				tls: { insecure: true },
				control: ["power"],
			},
		]);
		const server = await spawnServer({ IKVM_CONFIG: file, E2E_POWER_PW: bmc.password, IKVM_CONTROL: "power" });
		cleanup.push(() => server.stop("SIGKILL"));
		const client = await httpClient(server.url);
		cleanup.push(() => client.close());
		const call = async (args: Record<string, unknown>) =>
			(await client.callTool({ name: "power", arguments: { serverId: "db-8", ...args } })) as CallToolResult;

		const status = await call({ action: "status" });
		expect(status.isError).toBeFalsy();
		expect(status.structuredContent).toMatchObject({ state: "on" });
		const unconfirmed = await call({ action: "off" });
		expect(unconfirmed.isError).toBe(true);
		expect(texts(unconfirmed)[0]).toContain("confirm");
		expect(bmc.stats.resets).toEqual([]);
		const off = await call({ action: "off", confirm: "db-8" });
		expect(off.isError ? texts(off)[0] : "ok").toBe("ok");
		expect(bmc.stats.resets).toEqual(["ForceOff"]);
		expect(off.structuredContent).toMatchObject({ state: "off" });
		const on = await call({ action: "on", confirm: "db-8" });
		expect(on.structuredContent).toMatchObject({ state: "on" });
		expect(bmc.stats.resets).toEqual(["ForceOff", "On"]);
	}, 30_000);
});
