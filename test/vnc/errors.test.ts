/**
 * Every way a VNC capture can fail: the error's code, stage and message, no
 * hang, no leaked connection, and no secret in what the user sees.
 */
import { afterEach, describe, expect, test } from "bun:test";
import net from "node:net";
import { standaloneContext } from "../../src/call-context.ts";
import { testPattern } from "../../src/demo/patterns.ts";
import { IkvmError } from "../../src/errors.ts";
import { redact } from "../../src/redact.ts";
import { captureVncFrame, createVncOpener, type VncSessionOptions } from "../../src/vnc/session.ts";
import type { VncTarget } from "../../src/vnc/target.ts";
import { freePort } from "../support/ports.ts";
import { LIMITS, rfbServers, tcpTarget, testContext, wsTarget } from "../support/vnc.ts";

const IMAGE = testPattern(64, 48);
const FAST: VncSessionOptions = { timeouts: { connectMs: 400, handshakeMs: 400, frameMs: 400 } };
const serve = rfbServers(IMAGE);
const closers: Array<() => void> = [];

afterEach(() => {
	for (const close of closers.splice(0)) close();
});

/** The error a capture ends with, and how long it took. */
async function failure(target: VncTarget, options: VncSessionOptions = FAST, ctx = testContext()) {
	const t0 = performance.now();
	try {
		await captureVncFrame(target, ctx, LIMITS, options);
	} catch (error) {
		if (!(error instanceof IkvmError)) throw error;
		return { error, ms: performance.now() - t0 };
	}
	throw new Error("the capture succeeded");
}

describe("connect", () => {
	test("nothing listening (TCP)", async () => {
		const { error } = await failure(tcpTarget(await freePort()));
		expect(error).toMatchObject({ code: "CONNECTION", stage: "connect" });
		expect(error.message).toContain("Could not connect to VNC server 127.0.0.1:");
		expect(error.hint).toContain("5900+N");
	});

	test("nothing listening (WebSocket)", async () => {
		const { error } = await failure(wsTarget(`ws://127.0.0.1:${await freePort()}/`));
		expect(error).toMatchObject({ code: "CONNECTION", stage: "connect" });
		expect(error.message).toContain("Could not open the VNC WebSocket ws://127.0.0.1:");
	});

	test("an HTTP server that never answers the upgrade times out at connect", async () => {
		const server = await serve({ stall: "connect" });
		const { error, ms } = await failure(wsTarget(server.wsUrl));
		expect(error).toMatchObject({ code: "TIMEOUT", stage: "connect" });
		expect(error.message).toContain("within 0.4 s");
		expect(ms).toBeLessThan(2000);
	});

	test("a WebSocket path that is not a VNC listener", async () => {
		const http = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("not here", { status: 404 }) });
		closers.push(() => http.stop(true));
		const { error } = await failure(wsTarget(`ws://127.0.0.1:${http.port}/websockify?token=Tk-7f3a9c2e11`));
		expect(error).toMatchObject({ code: "CONNECTION", stage: "connect" });
		expect(error.message).toBe(
			`Could not open the VNC WebSocket ws://127.0.0.1:${http.port}/websockify: the server answered HTTP 404 instead of switching to WebSocket.`,
		);
		expect(error.hint).toContain("path");
		expect(redact("Tk-7f3a9c2e11")).toBe("[REDACTED]");
	});

	test("targets without an address, or with a URL that is not ws(s)", async () => {
		expect((await failure({ kind: "vnc" })).error).toMatchObject({ code: "BAD_INPUT" });
		const http = await failure({ kind: "vnc", url: "http://127.0.0.1:5900/" });
		expect(http.error.message).toContain("must start with ws:// or wss://");
		expect((await failure({ kind: "vnc", host: "127.0.0.1", port: 70000 })).error.message).toContain(
			"Invalid VNC port",
		);
	});
});

describe("handshake", () => {
	for (const transport of ["ws", "tcp"] as const) {
		test(`a server that never sends its version times out at handshake (${transport})`, async () => {
			const server = await serve({ stall: "handshake" });
			const target = transport === "ws" ? wsTarget(server.wsUrl) : tcpTarget(server.tcpPort);
			const { error, ms } = await failure(target);
			expect(error).toMatchObject({ code: "TIMEOUT", stage: "handshake" });
			expect(error.message).toContain(
				"did not finish the handshake within 0.4 s: no answer while waiting for the server's RFB version.",
			);
			expect(ms).toBeLessThan(2000);
			await Bun.sleep(50);
			expect(server.openConnections).toBe(0);
		});
	}

	test("something that is not a VNC server", async () => {
		const http = net.createServer((s) => s.end("HTTP/1.1 400 Bad Request\r\n\r\n"));
		await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
		closers.push(() => http.close());
		const { error } = await failure(tcpTarget((http.address() as net.AddressInfo).port));
		expect(error).toMatchObject({ code: "PROTOCOL", stage: "handshake" });
		expect(error.message).toContain("This is not a VNC server");
	});

	test("a server that closes during the handshake", async () => {
		const closing = net.createServer((s) => s.end("RFB 003.008\n"));
		await new Promise<void>((r) => closing.listen(0, "127.0.0.1", r));
		closers.push(() => closing.close());
		const { error } = await failure(tcpTarget((closing.address() as net.AddressInfo).port));
		expect(error).toMatchObject({ code: "CONNECTION", stage: "handshake" });
		expect(error.message).toContain(
			"closed the connection during the handshake, while waiting for the security types.",
		);
	});

	test("a wrong password: the server's reason, and the password nowhere in the error", async () => {
		const server = await serve({ security: "vnc", password: "right-one" });
		const password = "Wr0ng-Secret-9";
		const { error } = await failure(tcpTarget(server.tcpPort, { password }));
		expect(error).toMatchObject({ code: "AUTH_FAILED", stage: "handshake" });
		expect(error.message).toBe("VNC authentication failed: Authentication failed.");
		expect(error.toUserMessage()).not.toContain(password);
		// the opener registered the password with the redaction layer
		expect(redact(`pw=${password}`)).toBe("pw=[REDACTED]");
	});

	test("a password the server needs but the target lacks", async () => {
		const server = await serve({ security: "vnc", password: "x" });
		const { error } = await failure(wsTarget(server.wsUrl));
		expect(error).toMatchObject({ code: "AUTH_FAILED", stage: "handshake" });
		expect(error.hint).toContain("passwordEnv");
	});

	test("only unsupported security types: named in the error", async () => {
		const server = await serve({ security: "unsupported", unsupportedTypes: [19, 18] });
		const { error } = await failure(wsTarget(server.wsUrl));
		expect(error).toMatchObject({ code: "NOT_SUPPORTED", stage: "handshake" });
		expect(error.message).toContain("VeNCrypt (19), TLS (18)");
	});

	test("a refused connection carries the server's reason", async () => {
		const server = await serve({ refuse: "Too many authentication failures" });
		const { error } = await failure(tcpTarget(server.tcpPort));
		expect(error).toMatchObject({ code: "ACCESS_DENIED", stage: "handshake" });
		expect(error.message).toContain("Too many authentication failures");
	});

	test("a framebuffer beyond the limits is refused", async () => {
		const server = await serve({ initialSize: { width: 9000, height: 9000 } });
		const { error } = await failure(tcpTarget(server.tcpPort));
		expect(error).toMatchObject({ code: "TOO_LARGE", stage: "handshake" });
		expect(error.message).toContain("9000x9000, larger than the allowed 8192x8192");
	});
});

describe("first frame", () => {
	test("a server that never sends a frame times out at first-frame", async () => {
		const server = await serve({ stall: "frame" });
		const { error, ms } = await failure(wsTarget(server.wsUrl));
		expect(error).toMatchObject({ code: "TIMEOUT", stage: "first-frame" });
		expect(error.message).toContain("did not send a complete 64x48 frame within 0.4 s");
		expect(ms).toBeLessThan(2000);
		await Bun.sleep(50);
		expect(server.openConnections).toBe(0);
	});

	for (const transport of ["ws", "tcp"] as const) {
		test(`a server that closes in the middle of a frame (${transport})`, async () => {
			const server = await serve({ closeMidFrame: true, encoding: "hextile", chunking: { maxChunk: 100 } });
			const target = transport === "ws" ? wsTarget(server.wsUrl) : tcpTarget(server.tcpPort);
			const { error } = await failure(target);
			expect(error).toMatchObject({ code: "CONNECTION", stage: "first-frame" });
			expect(error.message).toContain(
				"closed the connection in the middle of a framebuffer update (rectangle 1 of 1, Hextile)",
			);
		});
	}

	test("garbage after ServerInit is a protocol error, not a hang", async () => {
		const server = await serve({ inject: Uint8Array.of(99, 1, 2, 3) });
		const { error } = await failure(tcpTarget(server.tcpPort));
		expect(error).toMatchObject({ code: "PROTOCOL", stage: "decode" });
		expect(error.message).toContain("unknown message type 99");
	});

	test("an absurd rectangle is refused", async () => {
		// FramebufferUpdate, 1 rect, 60000x60000 at 0,0, Raw
		const inject = Uint8Array.of(0, 0, 0, 1, 0, 0, 0, 0, 0xea, 0x60, 0xea, 0x60, 0, 0, 0, 0);
		const server = await serve({ inject });
		const { error } = await failure(wsTarget(server.wsUrl));
		expect(error.message).toContain("60000x60000+0+0 rectangle outside the 64x48 framebuffer");
	});
});

describe("cancellation", () => {
	test("aborting while waiting for the frame rejects at once and closes the socket", async () => {
		const server = await serve({ stall: "frame" });
		const controller = new AbortController();
		const session = await createVncOpener()(tcpTarget(server.tcpPort), standaloneContext(controller.signal), LIMITS);
		const capture = session.capture(standaloneContext(controller.signal));
		await Bun.sleep(30);
		const t0 = performance.now();
		controller.abort();
		const error = await capture.catch((e) => e);
		expect(error).toMatchObject({ code: "CANCELLED", stage: "first-frame" });
		expect(performance.now() - t0).toBeLessThan(200);
		expect(session.closed).toBe(true);
		await Bun.sleep(50);
		expect(server.openConnections).toBe(0);
		// a dead session refuses further captures instead of hanging
		expect(await session.capture(testContext()).catch((e) => e.code)).toBe("CANCELLED");
	});

	test("a deadline during the handshake names the stage", async () => {
		const server = await serve({ stall: "handshake" });
		const { error } = await failure(wsTarget(server.wsUrl), {}, standaloneContext(AbortSignal.timeout(150)));
		expect(error).toMatchObject({ code: "TIMEOUT", stage: "handshake" });
	});

	test("an already-aborted call does not connect", async () => {
		const server = await serve();
		const controller = new AbortController();
		controller.abort();
		const { error } = await failure(tcpTarget(server.tcpPort), {}, standaloneContext(controller.signal));
		expect(error).toMatchObject({ code: "CANCELLED", stage: "connect" });
		expect(server.connections).toBe(0);
	});
});
