/**
 * What the mock Supermicro BMC checks on the wire, proven to bite: an upgrade
 * with lower-cased header names, a subprotocol, the wrong path or no SID is
 * refused (so the client passing these checks means something); Hermon 0x59
 * video through the socket path; and no secret (password, SID, token) in logs
 * or errors of a whole session, failures included.
 */
import { afterEach, describe, expect, test } from "bun:test";
import tls from "node:tls";
import fc from "fast-check";
import { AtenLogins } from "../../src/aten/logins.ts";
import { createAtenOpener } from "../../src/aten/open.ts";
import type { SupermicroTarget } from "../../src/aten/types.ts";
import { standaloneContext } from "../../src/call-context.ts";
import { encodeAtenPayload } from "../../src/demo/aten-encoder.ts";
import { encodeHermon } from "../../src/demo/hermon-encoder.ts";
import { testPattern } from "../../src/demo/patterns.ts";
import { MockSupermicroBmc, type MockSupermicroOptions } from "../../src/demo/supermicro-bmc.ts";
import { IkvmError } from "../../src/errors.ts";
import { configureLogging } from "../../src/log.ts";

const LIMITS = { maxWidth: 4096, maxHeight: 4096 };
const picture = testPattern(64, 48);
const running: MockSupermicroBmc[] = [];

afterEach(async () => {
	configureLogging({ level: "silent" });
	for (const bmc of running.splice(0)) await bmc.stop();
});

async function startBmc(options: Partial<MockSupermicroOptions> = {}) {
	const bmc = await new MockSupermicroBmc({
		frames: () => ({ width: 64, height: 48, payload: encodeAtenPayload(picture) }),
		...options,
	}).start();
	running.push(bmc);
	return bmc;
}

const targetOf = (bmc: MockSupermicroBmc): SupermicroTarget => ({
	kind: "supermicro",
	url: bmc.origin,
	username: bmc.username,
	password: bmc.password,
	tls: { insecure: true },
});

/** A hand-written upgrade request; answers the status line. */
function rawUpgrade(port: number, lines: string[]): Promise<string> {
	return new Promise((resolve, reject) => {
		const socket = tls.connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
			socket.write(`GET ${lines[0]} HTTP/1.1\r\n${lines.slice(1).join("\r\n")}\r\n\r\n`);
		});
		socket.once("data", (d: Buffer) => {
			resolve(d.toString().split("\r\n")[0] ?? "");
			socket.destroy();
		});
		socket.once("error", reject);
	});
}

describe("the mock's upgrade checks", () => {
	test("canonical headers pass; lower-cased names, a subprotocol, another path or no SID are refused", async () => {
		const bmc = await startBmc();
		const sid = bmc.openViewerSession();
		const base = (path = "/", names = ["Upgrade", "Connection", "Sec-WebSocket-Key", "Sec-WebSocket-Version"]) => [
			path,
			`Host: 127.0.0.1:${bmc.port}`,
			`${names[0]}: websocket`,
			`${names[1]}: Upgrade`,
			`${names[2]}: dGhlIHNhbXBsZSBub25jZQ==`,
			`${names[3]}: 13`,
			`Origin: ${bmc.origin}`,
			`Cookie: SID=${sid}`,
		];
		expect(await rawUpgrade(bmc.port, base())).toContain("101");
		expect(
			await rawUpgrade(bmc.port, base("/", ["upgrade", "connection", "sec-websocket-key", "sec-websocket-version"])),
		).toContain("400");
		expect(
			await rawUpgrade(bmc.port, base("/", ["Upgrade", "Connection", "Sec-Websocket-Key", "Sec-WebSocket-Version"])),
		).toContain("400");
		expect(await rawUpgrade(bmc.port, [...base(), "Sec-WebSocket-Protocol: binary"])).toContain("400");
		expect(await rawUpgrade(bmc.port, base("/kvm"))).toContain("404");
		expect(
			await rawUpgrade(
				bmc.port,
				base().filter((l) => !l.startsWith("Cookie")),
			),
		).toContain("403");
		expect(bmc.refusals).toEqual([
			"header Upgrade missing or not in canonical case",
			"header Sec-WebSocket-Key missing or not in canonical case",
			"a subprotocol was offered",
			"path is not /",
			"no valid SID cookie",
		]);
	});
});

describe("video", () => {
	test("Hermon 0x59 (WPCM450 boards) through the socket path, exact to RGB555", async () => {
		const bmc = await startBmc({
			frames: () => ({ width: 64, height: 48, encoding: 0x59, payload: encodeHermon(picture) }),
		});
		const session = await createAtenOpener({ logins: new AtenLogins() })(targetOf(bmc), standaloneContext(), LIMITS);
		try {
			const shot = await session.capture(standaloneContext());
			expect([shot.width, shot.height]).toEqual([64, 48]);
			for (let i = 0; i < shot.rgba.length; i += 4) {
				for (let c = 0; c < 3; c++) {
					const v = (picture.rgba[i + c] as number) >> 3;
					expect(shot.rgba[i + c]).toBe((v << 3) | (v >> 2));
				}
			}
		} finally {
			await session.close();
		}
	});
});

describe("secrets", () => {
	test("no password, SID or token in logs or errors, failures included", async () => {
		const lines: string[] = [];
		configureLogging({ level: "debug", sink: (l) => lines.push(l) });
		const bmc = await startBmc({ password: "Sup3rmicro-Pass!" });
		const open = createAtenOpener({ logins: new AtenLogins(), timeouts: { frame: 300 } });
		const messages: string[] = [];
		const session = await open(targetOf(bmc), standaloneContext(), LIMITS);
		await session.capture(standaloneContext());
		bmc.options.stall = "frame";
		try {
			await session.capture(standaloneContext());
		} catch (error) {
			if (error instanceof IkvmError) messages.push(error.toUserMessage(), String(error.cause ?? ""));
		}
		await session.close();
		bmc.setPower(false);
		bmc.options.stall = undefined;
		const off = await open(targetOf(bmc), standaloneContext(), LIMITS);
		try {
			await off.capture(standaloneContext());
		} catch (error) {
			if (error instanceof IkvmError) messages.push(error.toUserMessage());
		}
		await off.close();
		const everything = [...lines, ...messages].join("\n");
		expect(messages.length).toBe(3);
		expect(everything).toContain("no signal");
		for (const secret of [bmc.password, ...bmc.issued]) expect(everything).not.toContain(secret);
	});
});

describe("fuzz through the socket", () => {
	test("random server bytes after the handshake: the capture answers a frame or a typed error in bounded time", async () => {
		const bmc = await startBmc({ chatter: false });
		const open = createAtenOpener({ logins: new AtenLogins(), timeouts: { frame: 400 } });
		await fc.assert(
			fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 300 }), async (garbage) => {
				const session = await open(targetOf(bmc), standaloneContext(), LIMITS);
				try {
					bmc.sendRawToKvm(garbage);
					const started = Date.now();
					try {
						const shot = await session.capture(standaloneContext());
						expect(shot.width * shot.height * 4).toBe(shot.rgba.length);
					} catch (error) {
						if (!(error instanceof IkvmError)) throw error;
					}
					expect(Date.now() - started).toBeLessThan(3000);
				} finally {
					await session.close();
				}
			}),
			{ numRuns: 25 },
		);
		expect(bmc.stats.webSessions).toBe(0);
	}, 60_000);
});

describe("logins", () => {
	test("closeAll logs out of every held web session", async () => {
		const bmc = await startBmc();
		const logins = new AtenLogins();
		const session = await createAtenOpener({ logins })(targetOf(bmc), standaloneContext(), LIMITS);
		expect(logins.size).toBe(1);
		await logins.closeAll(2000);
		expect(logins.size).toBe(0);
		expect(bmc.stats.webSessions).toBe(0);
		await session.close();
		expect(bmc.stats.logouts).toBe(1);
	});
});
