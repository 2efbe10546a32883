/**
 * Interop with a VNC server we did not write: QEMU's, showing a real kernel
 * panic. Every capture must equal QEMU's own screendump pixel for pixel (the
 * text cursor is hidden with vt.global_cursor_default=0, so no tolerance).
 * One VM serves the whole file; it is stopped in afterAll.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { Frame } from "../../src/frame.ts";
import { captureVncFrame, openVncSession } from "../../src/vnc/session.ts";
import { Encoding } from "../../src/vnc/types.ts";
import { imagePixels, inMemoryClient, texts } from "../support/mcp.ts";
import { bootPanicVm, type PasswordQemuVm, qemuMissing } from "../support/qemu.ts";
import { writeTargets } from "../support/targets-file.ts";
import { LIMITS, pixelDiff, tcpTarget, testContext, wsTarget } from "../support/vnc.ts";

const unavailable = qemuMissing();
if (unavailable) console.warn(`skipping QEMU VNC interop tests: ${unavailable}`);

describe.skipIf(unavailable !== undefined)("QEMU's VNC server (real kernel panic console)", () => {
	let vm: PasswordQemuVm;
	const PASSWORD = "Qemu-pw1";

	beforeAll(async () => {
		// The text cursor hidden, so two pictures of the same screen are equal to the pixel.
		vm = await bootPanicVm({ append: "vt.global_cursor_default=0", passwordDisplay: true, untilPanic: true });
		await vm.setPassword(PASSWORD);
	}, 120_000);

	afterAll(async () => {
		await vm?.stop();
	});

	async function expectSameAsScreendump(frame: Frame): Promise<void> {
		const truth = await vm.screendump();
		expect([frame.width, frame.height]).toEqual([truth.width, truth.height]);
		const diff = pixelDiff(frame, truth);
		expect(diff.first ? `${diff.count} pixels differ, first at ${diff.first}` : "same").toBe("same");
	}

	function litPixels(frame: Frame): number {
		let n = 0;
		for (let i = 0; i < frame.rgba.length; i += 4) if (frame.rgba[i] || frame.rgba[i + 1] || frame.rgba[i + 2]) n++;
		return n;
	}

	test("over WebSocket: the VGA text screen, not blank, equal to screendump", async () => {
		const frame = await captureVncFrame(wsTarget(`ws://127.0.0.1:${vm.wsPort}`), testContext(), LIMITS);
		expect([frame.width, frame.height]).toEqual([720, 400]);
		expect(litPixels(frame)).toBeGreaterThan(5000);
		await expectSameAsScreendump(frame);
	});

	test("over TCP: equal to screendump", async () => {
		const frame = await captureVncFrame(tcpTarget(vm.vncPort), testContext(), LIMITS);
		await expectSameAsScreendump(frame);
	});

	for (const [name, encoding] of [
		["ZRLE", Encoding.ZRLE],
		["Hextile", Encoding.Hextile],
		["Raw", Encoding.Raw],
		["Tight", Encoding.Tight],
		["TightPNG", Encoding.TightPNG],
		["ZLIB", Encoding.ZLIB],
	] as const) {
		test(`QEMU's ${name} decodes to the screendump`, async () => {
			const used = new Set<number>();
			const frame = await captureVncFrame(tcpTarget(vm.vncPort), testContext(), LIMITS, {
				encodings: [encoding],
				onUpdate: (u) => {
					for (const e of u.encodings) used.add(e);
				},
			});
			expect([...used]).toEqual([encoding]);
			await expectSameAsScreendump(frame);
		});
	}

	test("a warm session captures twice on one connection", async () => {
		const session = await openVncSession(wsTarget(`ws://127.0.0.1:${vm.wsPort}`), testContext(), LIMITS);
		try {
			await expectSameAsScreendump(await session.capture(testContext()));
			await expectSameAsScreendump(await session.capture(testContext()));
		} finally {
			await session.close();
		}
	});

	test("configured targets (IKVM_CONFIG) over TCP and WebSocket, through the MCP tools", async () => {
		const file = writeTargets([
			{ id: "qemu-ws", type: "vnc", url: `ws://127.0.0.1:${vm.wsPort}` },
			{ id: "qemu-tcp", type: "vnc", host: "127.0.0.1", port: vm.vncPort },
			{ id: "qemu-auth", type: "vnc", host: "127.0.0.1", port: vm.auth.vncPort, passwordEnv: "QEMU_VNC_PW" },
		]);
		process.env.QEMU_VNC_PW = PASSWORD;
		const c = await inMemoryClient({}, { IKVM_CONFIG: file });
		try {
			const list = (await c.client.callTool({ name: "list_servers", arguments: {} })) as CallToolResult;
			expect(JSON.parse(texts(list)[0] ?? "").map((s: { provider: string }) => s.provider)).toEqual([
				"vnc",
				"vnc",
				"vnc",
			]);
			for (const serverId of ["qemu-ws", "qemu-tcp", "qemu-auth"]) {
				const r = (await c.client.callTool({
					name: "get_screenshot",
					arguments: { serverId, raw: true },
				})) as CallToolResult;
				expect(r.isError).toBeFalsy();
				const got = await imagePixels(r);
				await expectSameAsScreendump({
					width: got.width,
					height: got.height,
					rgba: new Uint8Array(got.rgba),
					capturedAt: new Date(),
				});
			}
		} finally {
			await c.close();
			delete process.env.QEMU_VNC_PW;
		}
	});

	describe("password=on (VNC Authentication)", () => {
		test("the right password, over WebSocket and TCP", async () => {
			for (const target of [wsTarget(`ws://127.0.0.1:${vm.auth.wsPort}`), tcpTarget(vm.auth.vncPort)]) {
				const frame = await captureVncFrame({ ...target, password: PASSWORD }, testContext(), LIMITS);
				await expectSameAsScreendump(frame);
			}
		});

		test("only the first 8 characters count", async () => {
			const frame = await captureVncFrame(
				tcpTarget(vm.auth.vncPort, { password: `${PASSWORD}-ignored` }),
				testContext(),
				LIMITS,
			);
			expect(frame.width).toBe(720);
		});

		test("a wrong password gets QEMU's reason", async () => {
			const error = await captureVncFrame(
				tcpTarget(vm.auth.vncPort, { password: "wrong-pw" }),
				testContext(),
				LIMITS,
			).catch((e) => e);
			expect(error).toMatchObject({ code: "AUTH_FAILED", stage: "handshake" });
			expect(error.message).toBe("VNC authentication failed: Authentication failed.");
		});

		test("no password configured", async () => {
			const error = await captureVncFrame(wsTarget(`ws://127.0.0.1:${vm.auth.wsPort}`), testContext(), LIMITS).catch(
				(e) => e,
			);
			expect(error).toMatchObject({ code: "AUTH_FAILED", stage: "handshake" });
			expect(error.message).toContain("none is configured");
		});
	});
});
