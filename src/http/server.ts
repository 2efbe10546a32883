/**
 * Streamable-HTTP MCP endpoint at /mcp and a /health probe, on Bun.serve.
 * One McpServer + transport per MCP session.
 */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { log } from "../log.ts";
import type { SessionInfo } from "../mcp/session.ts";
import { VERSION } from "../version.ts";
import { bearerRole, checkRebinding, type GuardOptions } from "./guards.ts";

export interface HttpServerOptions extends GuardOptions {
	host: string;
	port: number;
	/** Largest accepted POST body. */
	maxBodyBytes: number;
	/** Open MCP sessions at most; the oldest idle one is closed past it. */
	maxSessions: number;
	/** Sessions with no request for this long are closed. */
	sessionIdleMs: number;
	/** Bearer token of sessions that may use the control tools (IKVM_CONTROL_TOKEN). */
	controlToken?: string;
	/** The MCP server of a new session: its role comes from the token it was opened with. */
	createMcpServer: (session: SessionInfo) => McpServer;
	/** Extra fields for /health. */
	health?: () => Record<string, unknown>;
}

export interface RunningHttpServer {
	readonly url: string;
	readonly port: number;
	readonly sessionCount: number;
	stop(): Promise<void>;
}

interface Session {
	transport: WebStandardStreamableHTTPServerTransport;
	server: McpServer;
	lastUsed: number;
	role: SessionInfo["role"];
}

/** How long stop() lets open responses finish before closing their connections. */
const STOP_FLUSH_MS = 500;

function jsonRpcError(status: number, message: string, headers: Record<string, string> = {}): Response {
	return new Response(JSON.stringify({ jsonrpc: "2.0", error: { code: -32000, message }, id: null }), {
		status,
		headers: { "Content-Type": "application/json", ...headers },
	});
}

export function startHttpServer(options: HttpServerOptions): RunningHttpServer {
	const sessions = new Map<string, Session>();
	let accepting = true;

	const closeSession = async (id: string) => {
		const session = sessions.get(id);
		if (!session) return;
		sessions.delete(id);
		await session.transport.close().catch(() => {});
		await session.server.close().catch(() => {});
	};

	const sweep = setInterval(() => {
		const now = Date.now();
		for (const [id, s] of sessions) if (now - s.lastUsed > options.sessionIdleMs) void closeSession(id);
	}, 30_000);
	sweep.unref?.();

	const evictIfFull = async () => {
		if (sessions.size < options.maxSessions) return;
		let oldest: [string, Session] | undefined;
		for (const entry of sessions) if (!oldest || entry[1].lastUsed < oldest[1].lastUsed) oldest = entry;
		if (oldest) await closeSession(oldest[0]);
	};

	const handleMcp = async (req: Request, remoteAddress: string | null): Promise<Response> => {
		const rebinding = checkRebinding(req, options);
		if (rebinding) return jsonRpcError(rebinding.status, rebinding.message);
		const auth = bearerRole(req, options.authToken, options.controlToken);
		if ("status" in auth) return jsonRpcError(auth.status, auth.message, { "WWW-Authenticate": "Bearer" });
		if (!["POST", "GET", "DELETE"].includes(req.method)) {
			return jsonRpcError(405, "Method not allowed.", { Allow: "GET, POST, DELETE" });
		}
		const length = Number(req.headers.get("content-length") ?? "0");
		if (length > options.maxBodyBytes) return jsonRpcError(413, "Request body too large.");

		const sessionId = req.headers.get("mcp-session-id");
		if (sessionId) {
			const session = sessions.get(sessionId);
			if (!session) return jsonRpcError(404, "Session not found; initialize a new one.");
			// A session opened with the control token is not usable with the view token.
			if (session.role === "control" && auth.role !== "control") {
				return jsonRpcError(403, "Forbidden: this session was opened with the control token.");
			}
			session.lastUsed = Date.now();
			return session.transport.handleRequest(req);
		}
		if (req.method !== "POST") return jsonRpcError(400, "Bad Request: Mcp-Session-Id header is required.");
		if (!accepting) return jsonRpcError(503, "Server is shutting down.");

		// A request without a session id must be an initialize; the transport enforces that.
		await evictIfFull();
		const role = auth.role;
		const server = options.createMcpServer({ role, remoteAddress });
		const transport = new WebStandardStreamableHTTPServerTransport({
			sessionIdGenerator: () => crypto.randomUUID(),
			maxRequestBodySize: options.maxBodyBytes,
			onsessioninitialized: (id) => {
				sessions.set(id, { transport, server, lastUsed: Date.now(), role });
			},
			onsessionclosed: (id) => {
				void closeSession(id);
			},
		});
		await server.connect(transport);
		return transport.handleRequest(req);
	};

	const bun = Bun.serve({
		hostname: options.host,
		port: options.port,
		// Tool calls can take a minute; SSE keep-alives hold the stream, this is the socket ceiling.
		idleTimeout: 255,
		maxRequestBodySize: options.maxBodyBytes,
		fetch: async (req, server) => {
			const { pathname } = new URL(req.url);
			try {
				if (pathname === "/mcp") {
					// A tool call's stream may stay silent longer than idleTimeout (wait_for_screen runs up to
					// 600 s); its own deadline bounds it, so the socket's idle limit must not cut it.
					server.timeout(req, 0);
					return await handleMcp(req, server.requestIP(req)?.address ?? null);
				}
				if (pathname === "/health") {
					if (req.method !== "GET" && req.method !== "HEAD") {
						return new Response("Method not allowed", { status: 405, headers: { Allow: "GET, HEAD" } });
					}
					return Response.json({ status: "ok", version: VERSION, ...options.health?.() });
				}
				return new Response("Not found", { status: 404 });
			} catch (error) {
				log.error("HTTP request failed", { path: pathname, error: String(error) });
				return jsonRpcError(500, "Internal server error.");
			}
		},
	});

	const port = bun.port ?? options.port;
	const shownHost = options.host.includes(":") ? `[${options.host}]` : options.host;
	return {
		url: `http://${shownHost}:${port}/mcp`,
		port,
		get sessionCount() {
			return sessions.size;
		},
		async stop() {
			accepting = false;
			clearInterval(sweep);
			await Promise.allSettled([...sessions.keys()].map(closeSession));
			// Let responses already written reach their clients, then cut whatever is left.
			await Promise.race([bun.stop(false), Bun.sleep(STOP_FLUSH_MS)]);
			await bun.stop(true);
		},
	};
}
