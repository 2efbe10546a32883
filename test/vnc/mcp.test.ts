/**
 * The whole path through MCP: SDK client → get_screenshot → a provider using
 * the app's ConsolePool with the real openConsole → VNC session → RFB test
 * server → PNG.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { testPattern } from "../../src/demo/patterns.ts";
import { type RfbTestServer, startRfbServer } from "../../src/demo/rfb-server.ts";
import { imagePixels, inMemoryClient, texts } from "../support/mcp.ts";
import { PoolProvider } from "../support/pool-provider.ts";
import { expectPixelExact } from "../support/vnc.ts";

describe("get_screenshot of a VNC console through MCP", () => {
	const IMAGE = testPattern(320, 200);
	const PASSWORD = "mcp-pass-42";
	let server: RfbTestServer;
	let mcp: Awaited<ReturnType<typeof inMemoryClient>>;

	beforeAll(async () => {
		server = await startRfbServer({ image: IMAGE, encoding: "zrle", security: "vnc", password: PASSWORD });
		mcp = await inMemoryClient({
			providers: () => [
				new PoolProvider({
					"vm-ws": { kind: "vnc", url: server.wsUrl, password: PASSWORD },
					"vm-tcp": { kind: "vnc", host: "127.0.0.1", port: server.tcpPort, password: PASSWORD },
					"vm-badpw": { kind: "vnc", host: "127.0.0.1", port: server.tcpPort, password: "not-the-password" },
				}),
			],
		});
	});

	afterAll(async () => {
		await mcp?.close();
		await server?.close();
	});

	for (const id of ["vm-ws", "vm-tcp"]) {
		test(`raw screenshot of ${id} is pixel-exact`, async () => {
			const result = (await mcp.client.callTool({
				name: "get_screenshot",
				arguments: { serverId: id, raw: true },
			})) as CallToolResult;
			expect(result.isError).toBeFalsy();
			const png = await imagePixels(result);
			expectPixelExact({ ...png, rgba: new Uint8Array(png.rgba), capturedAt: new Date() }, IMAGE);
			expect(texts(result).join("\n")).toContain("framebuffer 320x200");
			// The caption says which encoding delivered the frame.
			expect(texts(result).join("\n")).toContain("sent as ZRLE");
			expect(texts(result).join("\n")).not.toContain("approximate");
		});
	}

	test("a second call reuses the warm console", async () => {
		const before = server.connections;
		await mcp.client.callTool({ name: "get_screenshot", arguments: { serverId: "vm-ws", raw: true } });
		expect(server.connections).toBe(before);
	});

	test("a wrong password is a clear tool error without the password", async () => {
		const result = (await mcp.client.callTool({
			name: "get_screenshot",
			arguments: { serverId: "vm-badpw" },
		})) as CallToolResult;
		expect(result.isError).toBe(true);
		const text = texts(result).join("\n");
		expect(text).toContain("Error (AUTH_FAILED): VNC authentication failed: Authentication failed. [stage: handshake]");
		expect(text).not.toContain("not-the-password");
	});
});
