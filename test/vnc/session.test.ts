/**
 * The VNC console session against the test server over real sockets:
 * messages split anywhere, interleaved messages, resizes, warm sessions,
 * protocol versions, WebSocket details (subprotocol, headers, TLS).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openConsole } from "../../src/console/drivers.ts";
import { ConsolePool } from "../../src/console/pool.ts";
import { consolePattern, testPattern } from "../../src/demo/patterns.ts";
import { captureVncFrame, openVncSession } from "../../src/vnc/session.ts";
import {
	expectPixelExact,
	LIMITS,
	recordingContext,
	rfbServers,
	tcpTarget,
	testContext,
	wsTarget,
} from "../support/vnc.ts";

const IMAGE = testPattern(160, 100);
const serve = rfbServers(IMAGE);

describe("framing: messages split anywhere, several per chunk", () => {
	for (const encoding of ["raw", "copyrect", "hextile", "zrle"] as const) {
		for (const maxChunk of [1, 7, 1500]) {
			test(`${encoding}, random writes of 1..${maxChunk} bytes, with Bell/ServerCutText/SetColourMapEntries between updates`, async () => {
				const image = maxChunk === 1 ? testPattern(48, 40) : IMAGE; // byte-by-byte is slow on purpose: keep it small
				const server = await serve({
					image,
					encoding,
					security: "vnc",
					password: "pw123456",
					interleave: true,
					chunking: { maxChunk, seed: maxChunk * 31 + encoding.length },
				});
				for (const target of [wsTarget(server.wsUrl), tcpTarget(server.tcpPort)]) {
					const frame = await captureVncFrame({ ...target, password: "pw123456" }, testContext(), LIMITS);
					expectPixelExact(frame, image);
				}
			});
		}
	}

	test("a large, poorly compressible 1920x1080 frame in ZRLE and Hextile", async () => {
		const image = testPattern(1920, 1080, 3);
		for (const encoding of ["zrle", "hextile"] as const) {
			const server = await serve({ image, encoding });
			const frame = await captureVncFrame(wsTarget(server.wsUrl), testContext(20_000), LIMITS);
			expectPixelExact(frame, image);
		}
	}, 30_000);

	test("a frame sent as many FramebufferUpdate messages is assembled whole", async () => {
		const server = await serve({ encoding: "zrle", updateBands: 7 });
		const frame = await captureVncFrame(tcpTarget(server.tcpPort), testContext(), LIMITS);
		expectPixelExact(frame, IMAGE);
	});
});

describe("desktop size changes", () => {
	for (const resizeWith of ["desktop-size", "extended-desktop-size"] as const) {
		test(`the server resizes before the first frame (${resizeWith})`, async () => {
			const server = await serve({ encoding: "hextile", initialSize: { width: 640, height: 480 }, resizeWith });
			const frame = await captureVncFrame(wsTarget(server.wsUrl), testContext(), LIMITS);
			expect([frame.width, frame.height]).toEqual([160, 100]);
			expectPixelExact(frame, IMAGE);
		});
	}

	test("a warm session follows a picture change, including a new size, on one connection", async () => {
		const server = await serve({ encoding: "zrle" });
		const session = await openVncSession(tcpTarget(server.tcpPort), testContext(), LIMITS);
		try {
			const first = await session.capture(testContext());
			expectPixelExact(first, IMAGE);
			const next = consolePattern(200, 120);
			server.setImage(next);
			const second = await session.capture(testContext());
			expectPixelExact(second, next);
			// each capture is its own picture
			expectPixelExact(first, IMAGE);
			server.setImage(IMAGE);
			expectPixelExact(await session.capture(testContext()), IMAGE);
			expect(server.connections).toBe(1);
			expect(server.lastClient?.updateRequests).toBeGreaterThanOrEqual(3);
		} finally {
			await session.close();
		}
		expect(session.closed).toBe(true);
	});
});

describe("protocol versions", () => {
	for (const version of ["003.003", "003.007", "003.008", "003.889", "004.001"]) {
		for (const security of ["none", "vnc"] as const) {
			test(`server announcing ${version}, security ${security}`, async () => {
				const server = await serve({ version, security, password: "hunter22", encoding: "hextile" });
				const frame = await captureVncFrame(tcpTarget(server.tcpPort, { password: "hunter22" }), testContext(), LIMITS);
				expectPixelExact(frame, IMAGE);
				const expected = version === "003.003" ? "3.3" : version === "003.007" ? "3.7" : "3.8";
				expect(server.lastClient?.version).toBe(expected);
			});
		}
	}
});

describe("WebSocket details", () => {
	test('a server that insists on the "binary" subprotocol gets it on the second try', async () => {
		const server = await serve({ requireBinarySubprotocol: true });
		const frame = await captureVncFrame(wsTarget(server.wsUrl), testContext(), LIMITS);
		expectPixelExact(frame, IMAGE);
		expect(server.lastClient?.subprotocol).toBe("binary");
	});

	test("handshake headers (cookies of a web console) are sent", async () => {
		const server = await serve();
		await captureVncFrame(
			wsTarget(server.wsUrl, { headers: { Cookie: "SESSION=abc123def", "X-Console": "7" } }),
			testContext(),
			LIMITS,
		);
		expect(server.lastClient?.headers?.cookie).toBe("SESSION=abc123def");
		expect(server.lastClient?.headers?.["x-console"]).toBe("7");
	});

	describe("wss:// with a self-signed certificate", () => {
		let dir = "";
		let tls: { cert: string; key: string } | undefined;
		beforeAll(() => {
			dir = mkdtempSync(join(tmpdir(), "ikvm-vnc-tls-"));
			const r = Bun.spawnSync(
				[
					"openssl",
					"req",
					"-x509",
					"-newkey",
					"rsa:2048",
					"-nodes",
					"-days",
					"1",
					"-subj",
					"/CN=127.0.0.1",
					"-keyout",
					join(dir, "key.pem"),
					"-out",
					join(dir, "cert.pem"),
				],
				{ stderr: "pipe" },
			);
			if (r.exitCode === 0) {
				tls = { cert: readFileSync(join(dir, "cert.pem"), "utf8"), key: readFileSync(join(dir, "key.pem"), "utf8") };
			} else {
				console.warn(`skipping wss tests: openssl could not make a certificate (${r.stderr.toString().trim()})`);
			}
		});
		afterAll(() => rmSync(dir, { recursive: true, force: true }));

		test("is refused by default, with a hint naming tls.insecure", async () => {
			if (!tls) return;
			const server = await serve({ tls });
			const error = await captureVncFrame(wsTarget(server.wsUrl), testContext(), LIMITS).catch((e) => e);
			expect(error.code).toBe("CONNECTION");
			expect(error.stage).toBe("connect");
			expect(error.hint).toContain('"insecure": true');
		});

		test("is accepted for the one target that sets tls.insecure, and only for it", async () => {
			if (!tls) return;
			const server = await serve({ tls, encoding: "zrle" });
			const frame = await captureVncFrame(wsTarget(server.wsUrl, { tls: { insecure: true } }), testContext(), LIMITS);
			expectPixelExact(frame, IMAGE);
			// nothing process-wide changed: the next target without the flag is refused again
			const error = await captureVncFrame(wsTarget(server.wsUrl), testContext(), LIMITS).catch((e) => e);
			expect(error.code).toBe("CONNECTION");
			expect(process.env.NODE_TLS_REJECT_UNAUTHORIZED).toBeUndefined();
		});
	});
});

describe("through the console layer", () => {
	test("openConsole dispatches vnc targets; the pool keeps the session warm", async () => {
		const server = await serve({ encoding: "zrle" });
		const pool = new ConsolePool({
			opener: openConsole,
			limits: LIMITS,
			idleMs: 5000,
			maxConcurrent: 2,
			queueTimeoutMs: 1000,
		});
		const resolve = async () => wsTarget(server.wsUrl);
		try {
			const ctx = recordingContext();
			expectPixelExact(await pool.capture({ key: "srv", resolve: resolve }, ctx), IMAGE);
			expect(ctx.stages).toEqual(["connect", "handshake", "first-frame"]);
			const next = testPattern(160, 100, 99);
			server.setImage(next);
			expectPixelExact(await pool.capture({ key: "srv", resolve: resolve }, testContext()), next);
			expect(server.connections).toBe(1);
		} finally {
			await pool.closeAll();
		}
		await Bun.sleep(50);
		expect(server.openConnections).toBe(0);
	});
});
