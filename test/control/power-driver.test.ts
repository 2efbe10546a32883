/**
 * Power through the driver of a console kind (ConsoleDriver.power), for providers
 * without power of their own: confirmed first, run on the console as a
 * non-idempotent operation; a kind without power says so and sends nothing.
 */
import { expect, test } from "bun:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { createApp } from "../../src/app.ts";
import { type CallContext, standaloneContext } from "../../src/call-context.ts";
import type { ConsoleDriver } from "../../src/console/driver.ts";
import type { ConsoleHandle, ConsoleTarget } from "../../src/console/types.ts";
import type { PowerAction, PowerResult } from "../../src/input/types.ts";
import { createMcpServer } from "../../src/mcp/server.ts";
import type { BmcPower, Provider, ServerInfo, TargetControl } from "../../src/providers/types.ts";
import { testFrame } from "../support/fake-provider.ts";
import { testConfig, texts } from "../support/mcp.ts";

const done: Array<{ id: string; action: PowerAction; sessionOpen: boolean }> = [];

const powerDriver: ConsoleDriver<ConsoleTarget & { id: string }> = {
	type: "test-power",
	kinds: ["test-power"],
	title: "test BMC with power",
	label: "test",
	configSchema: z.object({ id: z.string(), type: z.literal("test-power") }),
	fromConfig() {
		throw new Error("not from a file");
	},
	async open() {
		let closed = false;
		return {
			description: "test power console",
			get closed() {
				return closed;
			},
			capture: async () => testFrame(),
			async close() {
				closed = true;
			},
		};
	},
	describe: (t) => `test ${t.id}`,
	stages: ["connect"],
	async power(target, action, _ctx, session) {
		const sessionOpen = await session(async (s) => !s.closed);
		done.push({ id: target.id, action, sessionOpen });
		return { state: "on", source: "test BMC power API", message: `${action} sent.` };
	},
};

/** A console kind without power (VNC gains XVP power elsewhere, so the test does not lean on it). */
const plainDriver: ConsoleDriver<ConsoleTarget & { id: string }> = {
	...powerDriver,
	type: "test-plain",
	kinds: ["test-plain"],
	configSchema: z.object({ id: z.string(), type: z.literal("test-plain") }),
	power: undefined,
};

const INFO = (id: string): ServerInfo => ({ id, name: id, provider: "test", datacenter: null, ip: null });

class DriverOnlyProvider implements Provider {
	readonly name = "test";
	async listServers() {
		return [INFO("bmc-1"), INFO("vm-1")];
	}
	console(serverId: string): ConsoleHandle {
		const target = serverId === "bmc-1" ? { kind: "test-power", id: serverId } : { kind: "test-plain", id: serverId };
		return { key: serverId, resolve: async () => target };
	}
	control(): TargetControl {
		return { allowed: new Set(["power"]), keyboardLayout: "us", switchName: "test" };
	}
}

/** Like OVH: reset by its own API, the rest through the BMC callback the registry hands it. */
class OwnPowerProvider extends DriverOnlyProvider {
	readonly own: PowerAction[] = [];
	async power(_serverId: string, action: PowerAction, ctx: CallContext, bmc?: BmcPower): Promise<PowerResult> {
		if (action === "reset") {
			this.own.push(action);
			return { state: "on", source: "provider API", message: "reset done." };
		}
		if (!bmc) throw new Error("no bmc callback");
		return bmc(action, ctx);
	}
}

test("a provider with its own power gets the driver path as its BMC callback", async () => {
	done.length = 0;
	const provider = new OwnPowerProvider();
	const app = await createApp(testConfig({ IKVM_CONTROL: "power" }), { providers: [provider], drivers: [powerDriver] });
	try {
		const ctx = standaloneContext();
		await app.registry.listServers(ctx);
		expect((await app.registry.power("bmc-1", "reset", ctx)).source).toBe("provider API");
		expect((await app.registry.power("bmc-1", "off", ctx)).source).toBe("test BMC power API");
		expect(provider.own).toEqual(["reset"]);
		expect(done).toEqual([{ id: "bmc-1", action: "off", sessionOpen: true }]);
	} finally {
		await app.close();
	}
});

test("power goes to the console kind's driver after confirmation; an action the kind cannot do is NOT_SUPPORTED", async () => {
	done.length = 0;
	const app = await createApp(testConfig({ IKVM_CONTROL: "power" }), {
		providers: [new DriverOnlyProvider()],
		drivers: [powerDriver, plainDriver],
	});
	const server = createMcpServer(app.toolDeps);
	const [a, b] = InMemoryTransport.createLinkedPair();
	await server.connect(b);
	const client = new Client({ name: "t", version: "0" });
	await client.connect(a);
	const call = async (args: Record<string, unknown>) =>
		(await client.callTool({ name: "power", arguments: args })) as CallToolResult;
	try {
		expect(texts(await call({ serverId: "bmc-1", action: "cycle" }))[0]).toContain("needs confirmation");
		expect(done).toEqual([]);
		const ok = await call({ serverId: "bmc-1", action: "cycle", confirm: "bmc-1" });
		expect(texts(ok)[0]).toBe("Power cycle on bmc-1: cycle sent. State: on (source: test BMC power API).");
		expect(done).toEqual([{ id: "bmc-1", action: "cycle", sessionOpen: true }]);
		const vnc = await call({ serverId: "vm-1", action: "status" });
		expect(vnc.isError).toBe(true);
		expect(texts(vnc)[0]).toContain(
			'Error (NOT_SUPPORTED): Power control is not supported for test-plain consoles ("vm-1").',
		);
	} finally {
		await client.close();
		await server.close();
		await app.close();
	}
});
