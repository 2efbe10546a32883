import { afterEach, describe, expect, test } from "bun:test";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { FakeProvider, testFrame } from "../support/fake-provider.ts";
import { imagePixels, inMemoryClient, texts } from "../support/mcp.ts";

let closeAll: Array<() => Promise<void>> = [];
afterEach(async () => {
	await Promise.all(closeAll.map((c) => c()));
	closeAll = [];
});

async function connect(options: Parameters<typeof inMemoryClient>[0]) {
	const c = await inMemoryClient(options);
	closeAll.push(c.close);
	return c.client;
}

describe("tools over the in-memory transport", () => {
	test("lists both tools with schemas", async () => {
		const client = await connect({ providers: [new FakeProvider()] });
		const { tools } = await client.listTools();
		const names = tools.map((t) => t.name).sort();
		expect(names).toContain("list_servers");
		expect(names).toContain("get_screenshot");
		const shot = tools.find((t) => t.name === "get_screenshot");
		expect(shot?.inputSchema.required).toEqual(["serverId"]);
		expect(shot?.annotations?.readOnlyHint).toBe(true);
	});

	test("list_servers returns every server of every provider as JSON", async () => {
		const a = new FakeProvider();
		const b = new FakeProvider(
			[{ id: "vm-2", name: "VM 2", provider: "other", datacenter: null, ip: null }],
			testFrame(),
			"other",
		);
		const client = await connect({ providers: [a, b] });
		const result = (await client.callTool({ name: "list_servers", arguments: {} })) as CallToolResult;
		expect(result.isError).toBeFalsy();
		const servers = JSON.parse(texts(result)[0] ?? "");
		expect(servers).toEqual([
			{ id: "srv-1", name: "Test server 1", provider: "fake", datacenter: "lab1", ip: "192.0.2.1" },
			{ id: "vm-2", name: "VM 2", provider: "other", datacenter: null, ip: null },
		]);
		expect(result.structuredContent).toEqual({ servers });
	});

	test("get_screenshot raw returns the provider's exact pixels", async () => {
		const provider = new FakeProvider();
		const client = await connect({ providers: [provider] });
		const result = (await client.callTool({
			name: "get_screenshot",
			arguments: { serverId: "srv-1", raw: true },
		})) as CallToolResult;
		expect(result.isError).toBeFalsy();
		const image = await imagePixels(result);
		const frame = testFrame();
		expect([image.width, image.height]).toEqual([frame.width, frame.height]);
		expect(Buffer.compare(image.rgba, Buffer.from(frame.rgba))).toBe(0);
		expect(texts(result).join("\n")).toContain("64x48");
	});

	test("the same call is routed to the provider that owns the server", async () => {
		const a = new FakeProvider();
		const b = new FakeProvider(
			[{ id: "vm-2", name: "VM 2", provider: "other", datacenter: null, ip: null }],
			testFrame(32, 16),
			"other",
		);
		const client = await connect({ providers: [a, b] });
		const result = (await client.callTool({
			name: "get_screenshot",
			arguments: { serverId: "vm-2", raw: true },
		})) as CallToolResult;
		expect(result.isError).toBeFalsy();
		expect((await imagePixels(result)).width).toBe(32);
		expect(a.calls).toBe(0);
		expect(b.calls).toBe(1);
	});

	test("unknown serverId is a tool error naming the known servers", async () => {
		const client = await connect({ providers: [new FakeProvider()] });
		const result = (await client.callTool({
			name: "get_screenshot",
			arguments: { serverId: "nope" },
		})) as CallToolResult;
		expect(result.isError).toBe(true);
		const text = texts(result).join("\n");
		expect(text).toContain('Unknown server "nope"');
		expect(text).toContain("srv-1");
	});

	test("missing serverId is a tool error naming the parameter", async () => {
		const client = await connect({ providers: [new FakeProvider()] });
		const result = (await client.callTool({ name: "get_screenshot", arguments: {} })) as CallToolResult;
		expect(result.isError).toBe(true);
		expect(texts(result).join("\n")).toContain("serverId");
	});

	test("wrong types are tool errors naming the parameter", async () => {
		const client = await connect({ providers: [new FakeProvider()] });
		const result = (await client.callTool({
			name: "get_screenshot",
			arguments: { serverId: 42, raw: "yes" },
		})) as CallToolResult;
		expect(result.isError).toBe(true);
		const text = texts(result).join("\n");
		expect(text).toContain("serverId");
		expect(text).toContain("raw");
	});

	test("with nothing configured list_servers names the variables to set", async () => {
		const client = await connect({ providers: [] });
		const result = (await client.callTool({ name: "list_servers", arguments: {} })) as CallToolResult;
		expect(result.isError).toBeFalsy();
		const text = texts(result).join("\n");
		expect(JSON.parse(texts(result)[0] ?? "")).toEqual([]);
		for (const v of ["OVH_APPLICATION_KEY", "OVH_APPLICATION_SECRET", "OVH_CONSUMER_KEY", "IKVM_CONFIG"]) {
			expect(text).toContain(v);
		}
	});

	test("with nothing configured get_screenshot says what to configure", async () => {
		const client = await connect({ providers: [] });
		const result = (await client.callTool({
			name: "get_screenshot",
			arguments: { serverId: "x" },
		})) as CallToolResult;
		expect(result.isError).toBe(true);
		expect(texts(result).join("\n")).toContain("OVH_APPLICATION_KEY");
	});

	test("a provider failure is a tool error, and the next call still works", async () => {
		const provider = new FakeProvider();
		let fail = true;
		provider.getScreenshot = async (id, ctx) => {
			if (fail) throw new Error("socket exploded");
			return FakeProvider.prototype.getScreenshot.call(provider, id, ctx);
		};
		const client = await connect({ providers: [provider] });
		const bad = (await client.callTool({ name: "get_screenshot", arguments: { serverId: "srv-1" } })) as CallToolResult;
		expect(bad.isError).toBe(true);
		expect(texts(bad).join("\n")).toContain("socket exploded");
		fail = false;
		const good = (await client.callTool({
			name: "get_screenshot",
			arguments: { serverId: "srv-1" },
		})) as CallToolResult;
		expect(good.isError).toBeFalsy();
	});
});
