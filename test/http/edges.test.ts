/**
 * The HTTP edges an attacker on the network (or any local process) meets first: malformed Host
 * headers, slow or abandoned sockets, session floods, and browsers' CORS preflight.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { type RunningHttpServer, startHttpServer } from "../../src/http/server.ts";
import { type Running, startServing } from "../../src/serve.ts";
import { FakeProvider } from "../support/fake-provider.ts";
import { httpClient, testConfig } from "../support/mcp.ts";

const TOKEN = "0123456789abcdef-edge-token";
const INIT = JSON.stringify({
	jsonrpc: "2.0",
	id: 1,
	method: "initialize",
	params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "0" } },
});

let secured: Running;
let port: number;

beforeAll(async () => {
	secured = await startServing(
		testConfig({ MCP_AUTH_TOKEN: TOKEN, MCP_ALLOWED_ORIGINS: "https://inspector.example" }),
		{
			providers: [new FakeProvider()],
		},
	);
	port = secured.http?.port as number;
});
afterAll(async () => {
	await secured.stop();
});

/** Bytes the server sends on a raw socket, and whether (and when) it closed it, within `waitMs`. */
function rawExchange(
	target: number,
	request: string,
	waitMs: number,
): Promise<{ text: string; closed: boolean; socket: Socket }> {
	return new Promise((resolve) => {
		const socket = connect(target, "127.0.0.1", () => socket.write(request));
		let text = "";
		let closed = false;
		socket.on("data", (d) => {
			text += d.toString("latin1");
		});
		socket.on("error", () => {});
		const timer = setTimeout(() => resolve({ text, closed, socket }), waitMs);
		socket.on("close", () => {
			closed = true;
			clearTimeout(timer);
			resolve({ text, closed, socket });
		});
	});
}

describe("malformed Host headers", () => {
	for (const [name, request] of [
		[
			"no Host header (HTTP/1.0)",
			"POST /mcp HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
		],
		["Host: a@b", "POST /mcp HTTP/1.1\r\nHost: a@b\r\nContent-Length: 2\r\n\r\n{}"],
		["Host with a space", "GET /health HTTP/1.1\r\nHost: a b\r\n\r\n"],
		["no Host on /health", "GET /health HTTP/1.0\r\n\r\n"],
	] as const) {
		test(`${name}: a bare 400, no error page, socket closed`, async () => {
			const { text, closed, socket } = await rawExchange(port, request, 3000);
			socket.destroy();
			expect(text.split("\r\n")[0]).toBe("HTTP/1.1 400 Bad Request");
			expect(text.length).toBeLessThan(300);
			expect(text).not.toContain("<html");
			expect(text).not.toContain(process.cwd());
			expect(text.endsWith("\r\n\r\nBad Request")).toBe(true);
			expect(closed).toBe(true);
		});
	}

	test("a well-formed request still works", async () => {
		const res = await fetch(`http://127.0.0.1:${port}/health`);
		expect(res.status).toBe(200);
	});
});

describe("slow and abandoned sockets", () => {
	test("an unauthenticated POST with a partial body gets 401 and its socket is closed", async () => {
		const head = `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"jsonrpc":`;
		const { text, closed, socket } = await rawExchange(port, head, 3000);
		socket.destroy();
		expect(text.split("\r\n")[0]).toBe("HTTP/1.1 401 Unauthorized");
		expect(closed).toBe(true);
	});

	test("a keep-alive socket is closed after a 401", async () => {
		const request = `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: keep-alive\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: ${INIT.length}\r\n\r\n${INIT}`;
		const { text, closed, socket } = await rawExchange(port, request, 3000);
		socket.destroy();
		expect(text.split("\r\n")[0]).toBe("HTTP/1.1 401 Unauthorized");
		expect(closed).toBe(true);
	});

	test("an authenticated body that trickles in is cut off after the body deadline", async () => {
		const http = startHttpServer({
			host: "127.0.0.1",
			port: 0,
			loopbackOnly: true,
			allowedOrigins: [],
			allowedHosts: [],
			authToken: TOKEN,
			maxBodyBytes: 1024 * 1024,
			maxSessions: 10,
			sessionIdleMs: 60_000,
			bodyReadMs: 500,
			createMcpServer: () => new McpServer({ name: "t", version: "0" }),
		});
		try {
			const head = `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${http.port}\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 100000\r\n\r\n{"jsonrpc":`;
			const { text, closed, socket } = await rawExchange(http.port, head, 3000);
			socket.destroy();
			expect(text.split("\r\n")[0]).toBe("HTTP/1.1 408 Request Timeout");
			expect(closed).toBe(true);
		} finally {
			await http.stop();
		}
	});
});

function initialize(target: number, headers: Record<string, string> = {}): Promise<Response> {
	return fetch(`http://127.0.0.1:${target}/mcp`, {
		method: "POST",
		headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream", ...headers },
		body: INIT,
	});
}

function sessionServer(maxSessions: number, newSessionsPerPeerPerMinute?: number): RunningHttpServer {
	return startHttpServer({
		host: "127.0.0.1",
		port: 0,
		loopbackOnly: true,
		allowedOrigins: [],
		allowedHosts: [],
		maxBodyBytes: 1024 * 1024,
		maxSessions,
		sessionIdleMs: 60_000,
		newSessionsPerPeerPerMinute,
		createMcpServer: () => new McpServer({ name: "t", version: "0" }),
	});
}

describe("session flood", () => {
	test("200 new sessions from one peer do not log out a client that is working", async () => {
		const http = sessionServer(100);
		const client = await httpClient(http.url);
		try {
			await client.ping();
			const statuses: number[] = [];
			for (let i = 0; i < 200; i++) {
				const res = await initialize(http.port);
				statuses.push(res.status);
				await res.body?.cancel();
			}
			expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(100);
			// Still the same session: the SDK client fails with "Session not found" once evicted.
			await client.ping();
		} finally {
			await client.close();
			await http.stop();
		}
	});

	test("when full, a session that never made a request goes first, not the older one in use", async () => {
		const http = sessionServer(3, 100);
		const used = await httpClient(http.url);
		try {
			await used.ping();
			for (let i = 0; i < 2; i++) await (await initialize(http.port)).body?.cancel();
			expect(http.sessionCount).toBe(3);
			for (let i = 0; i < 2; i++) expect((await initialize(http.port)).status).toBe(200);
			expect(http.sessionCount).toBe(3);
			await used.ping();
		} finally {
			await used.close();
			await http.stop();
		}
	});

	test("when every session is in recent use, a new one is refused instead of evicting one", async () => {
		const http = sessionServer(2, 100);
		const a = await httpClient(http.url);
		const b = await httpClient(http.url);
		try {
			await a.ping();
			await b.ping();
			const res = await initialize(http.port);
			expect(res.status).toBe(503);
			expect(res.headers.get("retry-after")).toBeTruthy();
			await a.ping();
			await b.ping();
		} finally {
			await a.close();
			await b.close();
			await http.stop();
		}
	});
});

describe("CORS for browser clients", () => {
	test("a preflight from an allowed origin is answered, and Mcp-Session-Id is exposed", async () => {
		const pre = await fetch(`http://127.0.0.1:${port}/mcp`, {
			method: "OPTIONS",
			headers: {
				Origin: "https://inspector.example",
				"Access-Control-Request-Method": "POST",
				"Access-Control-Request-Headers": "authorization, content-type, mcp-protocol-version",
			},
		});
		expect(pre.status).toBe(204);
		expect(pre.headers.get("access-control-allow-origin")).toBe("https://inspector.example");
		expect(pre.headers.get("access-control-allow-methods")).toContain("POST");
		const allowed = (pre.headers.get("access-control-allow-headers") ?? "").toLowerCase();
		for (const h of ["authorization", "content-type", "mcp-protocol-version", "mcp-session-id"]) {
			expect(allowed).toContain(h);
		}
		const res = await initialize(port, { Origin: "https://inspector.example", Authorization: `Bearer ${TOKEN}` });
		expect(res.status).toBe(200);
		expect(res.headers.get("mcp-session-id")).toBeTruthy();
		expect(res.headers.get("access-control-allow-origin")).toBe("https://inspector.example");
		expect((res.headers.get("access-control-expose-headers") ?? "").toLowerCase()).toContain("mcp-session-id");
		await res.body?.cancel();
		// A 401 must be readable by the page too, so it can ask for the token.
		const denied = await initialize(port, { Origin: "https://inspector.example" });
		expect(denied.status).toBe(401);
		expect(denied.headers.get("access-control-allow-origin")).toBe("https://inspector.example");
	});

	test("a preflight from a foreign origin is refused without CORS headers", async () => {
		const pre = await fetch(`http://127.0.0.1:${port}/mcp`, {
			method: "OPTIONS",
			headers: { Origin: "https://evil.example", "Access-Control-Request-Method": "POST" },
		});
		expect(pre.status).toBe(403);
		expect(pre.headers.get("access-control-allow-origin")).toBeNull();
	});
});
