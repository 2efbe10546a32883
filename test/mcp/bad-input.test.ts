/**
 * Bad consoles through MCP: MAX_FRAMEBUFFER (config → createApp → pool →
 * opener) is enforced on every console path, broken peers give clear tool
 * errors, nothing is left open on them, and healthy servers in the same MCP
 * server keep working.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { encodeAst2500Frame } from "../../src/demo/ast2500-encoder.ts";
import { sampleConsolePicture } from "../../src/demo/console-picture.ts";
import { type RfbTestServer, startRfbServer } from "../../src/demo/rfb-server.ts";
import type { StaticServer } from "../../src/providers/static/config.ts";
import { StaticProvider } from "../../src/providers/static/provider.ts";
import { MockBmc, mockBmcLogin } from "../mocks/bmc.ts";
import { imageSize, inMemoryClient, texts } from "../support/mcp.ts";

const big = sampleConsolePicture(640, 480);
const fits = sampleConsolePicture(320, 240);

let bigVnc: RfbTestServer;
let garbageVnc: RfbTestServer;
let okVnc: RfbTestServer;
let bigBmc: MockBmc;
let midFrameBmc: MockBmc;
let hugeFrameBmc: MockBmc;
let okBmc: MockBmc;
let mcp: Awaited<ReturnType<typeof inMemoryClient>>;

function vnc(id: string, target: StaticServer["target"]): StaticServer {
	return { id, name: id, type: "vnc", ip: "127.0.0.1", target };
}

function amiLogin(id: string, bmc: MockBmc): StaticServer {
	return { id, name: id, type: "ami", ip: "127.0.0.1", target: mockBmcLogin(bmc) };
}

beforeAll(async () => {
	const frame = encodeAst2500Frame(big);
	// A header announcing ~4 GB of compressed data.
	const huge = encodeAst2500Frame(fits);
	new DataView(huge.buffer, huge.byteOffset).setUint32(69, 0xfffffff0, true);
	[bigVnc, garbageVnc, okVnc] = await Promise.all([
		startRfbServer({ image: big }),
		startRfbServer({ image: fits, inject: Uint8Array.of(99, 1, 2, 3) }),
		startRfbServer({ image: fits, encoding: "zrle" }),
	]);
	[bigBmc, midFrameBmc, hugeFrameBmc, okBmc] = await Promise.all([
		new MockBmc({ frames: () => frame }).start(),
		new MockBmc({ frames: () => encodeAst2500Frame(fits), closeMidFrame: 1 }).start(),
		new MockBmc({ frames: () => huge }).start(),
		new MockBmc({ frames: () => encodeAst2500Frame(fits) }).start(),
	]);
	const servers: StaticServer[] = [
		vnc("big-vnc-tcp", { kind: "vnc", host: "127.0.0.1", port: bigVnc.tcpPort }),
		vnc("big-vnc-ws", { kind: "vnc", url: bigVnc.wsUrl }),
		amiLogin("big-ami-login", bigBmc),
		{
			id: "big-ami-viewer",
			name: "big-ami-viewer",
			type: "ami",
			ip: "127.0.0.1",
			target: { kind: "ami-viewer", viewerUrl: bigBmc.viewerUrl(), tls: { insecure: true } },
		},
		vnc("garbage-vnc", { kind: "vnc", url: garbageVnc.wsUrl }),
		amiLogin("mid-frame-bmc", midFrameBmc),
		amiLogin("huge-frame-bmc", hugeFrameBmc),
		vnc("ok-vnc", { kind: "vnc", url: okVnc.wsUrl }),
		amiLogin("ok-ami", okBmc),
	];
	mcp = await inMemoryClient({ providers: () => [new StaticProvider(servers)] }, { MAX_FRAMEBUFFER: "320x240" });
});

afterAll(async () => {
	await mcp?.close();
	await Promise.allSettled([
		bigVnc.close(),
		garbageVnc.close(),
		okVnc.close(),
		...[bigBmc, midFrameBmc, hugeFrameBmc, okBmc].map((b) => b.stop()),
	]);
});

async function shot(serverId: string): Promise<CallToolResult> {
	return (await mcp.client.callTool({ name: "get_screenshot", arguments: { serverId, raw: true } })) as CallToolResult;
}

/** The one text of an error result: "Error (CODE): message [stage: …] hint". */
function errorText(r: CallToolResult): string {
	expect(r.isError).toBe(true);
	const text = texts(r)[0] ?? "";
	expect(text).toMatch(/^Error \([A-Z_]+\): .{20,} \[stage: [a-z-]+\]/);
	return text;
}

describe("bad consoles through MCP", () => {
	test("MAX_FRAMEBUFFER reaches every console path: VNC over TCP and WebSocket, AMI by login and by viewer URL", async () => {
		for (const id of ["big-vnc-tcp", "big-vnc-ws"]) {
			expect(errorText(await shot(id))).toContain(
				"Error (TOO_LARGE): The VNC framebuffer is 640x480, larger than the allowed 320x240. [stage: handshake]",
			);
		}
		for (const id of ["big-ami-login", "big-ami-viewer"]) {
			expect(errorText(await shot(id))).toContain(
				"Error (TOO_LARGE): The console frame is 640x480, larger than the 320x240 limit.",
			);
		}
		// Nothing stays open on a refused console; the direct login was logged out.
		await Bun.sleep(50);
		expect(bigVnc.openConnections).toBe(0);
		expect(bigBmc.stats).toMatchObject({ kvmOpen: 0, kvmSessions: 0, webSessions: 0, logins: 1, logouts: 1 });
	});

	test("broken peers give clear tool errors: garbage, a connection dropped mid-frame, a 4 GB frame header", async () => {
		expect(errorText(await shot("garbage-vnc"))).toContain(
			"Error (PROTOCOL): The VNC server sent an unknown message type 99.",
		);
		expect(errorText(await shot("mid-frame-bmc"))).toMatch(
			/Error \(CONNECTION\): The BMC at 127\.0\.0\.1:\d+ closed the KVM connection in the middle of a video frame/,
		);
		expect(errorText(await shot("huge-frame-bmc"))).toMatch(
			/Error \(PROTOCOL\): The BMC announced 4294967280 bytes of video data for a 320x240 frame, more than the \d+ possible/,
		);
		await Bun.sleep(50);
		expect(garbageVnc.openConnections).toBe(0);
		for (const bmc of [midFrameBmc, hugeFrameBmc]) {
			expect(bmc.stats).toMatchObject({ kvmOpen: 0, kvmSessions: 0, webSessions: 0 });
		}
	});

	test("after all that, healthy servers in the same MCP server answer", async () => {
		for (const id of ["ok-vnc", "ok-ami"]) {
			const r = await shot(id);
			expect(`${id}: ${r.isError ? texts(r)[0] : "ok"}`).toBe(`${id}: ok`);
			expect(await imageSize(r)).toMatchObject({ width: 320, height: 240 });
		}
		const list = (await mcp.client.callTool({ name: "list_servers", arguments: {} })) as CallToolResult;
		expect(list.isError).toBeFalsy();
	});
});
