/**
 * Streamable-HTTP MCP endpoint at /mcp and a /health probe, on Bun.serve.
 * One McpServer + transport per MCP session.
 */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { Server } from "bun";
import { log } from "../log.ts";
import { VERSION } from "../version.ts";
import { checkBearer, checkRebinding, type GuardOptions, judgeOrigin, wellFormedHost } from "./guards.ts";

export interface HttpServerOptions extends GuardOptions {
	host: string;
	port: number;
	/** Largest accepted POST body. */
	maxBodyBytes: number;
	/** Open MCP sessions at most; past it an idle one is closed, or the new one refused. */
	maxSessions: number;
	/** Sessions with no request for this long are closed. */
	sessionIdleMs: number;
	/** New sessions one peer address may open per minute (default NEW_SESSIONS_PER_PEER_PER_MINUTE). */
	newSessionsPerPeerPerMinute?: number;
	/** How long a whole request body may take to arrive (default BODY_READ_MS). */
	bodyReadMs?: number;
	createMcpServer: () => McpServer;
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
	/** Requests (and response streams) of this session still open. */
	inFlight: number;
	/** Requests after the initialize: a session that made none is the first to go. */
	requests: number;
}

/** How long stop() lets open responses finish before closing their connections. */
const STOP_FLUSH_MS = 500;
/**
 * Socket idle limit (seconds) for everything that is not an authenticated stream in progress:
 * keep-alive sockets, requests still sending headers or body. Authenticated tool-call streams
 * lift it for their own request once their body is in.
 */
export const HTTP_IDLE_SECONDS = 30;
/** A whole request body must arrive within this, however slowly it trickles. */
export const BODY_READ_MS = 30_000;
/** A session used this recently is never closed to make room for a new one. */
const RECENTLY_USED_MS = 60_000;
export const NEW_SESSIONS_PER_PEER_PER_MINUTE = 30;

const CORS_ALLOW_HEADERS = "Content-Type, Accept, Authorization, Mcp-Session-Id, Mcp-Protocol-Version, Last-Event-ID";
const CORS_EXPOSE_HEADERS = "Mcp-Session-Id, Mcp-Protocol-Version, WWW-Authenticate";

function jsonRpcError(status: number, message: string, headers: Record<string, string> = {}): Response {
	return new Response(JSON.stringify({ jsonrpc: "2.0", error: { code: -32000, message }, id: null }), {
		status,
		headers: { "Content-Type": "application/json", ...headers },
	});
}

/** For requests refused before they are trusted: no detail, and the socket is not kept for another one. */
function badRequest(): Response {
	return new Response("Bad Request", { status: 400, headers: { "Content-Type": "text/plain", Connection: "close" } });
}

/** The CORS headers a browser page from an allowed origin needs to read the answer (none for other callers). */
function corsHeaders(req: Request, options: GuardOptions): Record<string, string> {
	const origin = req.headers.get("origin");
	if (!origin || judgeOrigin(origin, options) !== true) return {};
	return {
		"Access-Control-Allow-Origin": origin,
		"Access-Control-Expose-Headers": CORS_EXPOSE_HEADERS,
		Vary: "Origin",
	};
}

function withHeaders(response: Response, headers: Record<string, string>): Response {
	if (Object.keys(headers).length === 0) return response;
	try {
		for (const [k, v] of Object.entries(headers)) response.headers.set(k, v);
		return response;
	} catch {
		// Immutable headers (a response we did not build): copy it.
		const copy = new Response(response.body, response);
		for (const [k, v] of Object.entries(headers)) copy.headers.set(k, v);
		return copy;
	}
}

/** Calls `done` once the response body has been sent whole or the client went away. */
function onBodyEnd(response: Response, signal: AbortSignal, done: () => void): Response {
	let finished = false;
	const finish = () => {
		if (finished) return;
		finished = true;
		signal.removeEventListener("abort", finish);
		done();
	};
	signal.addEventListener("abort", finish, { once: true });
	if (!response.body) {
		finish();
		return response;
	}
	const reader = response.body.getReader();
	const body = new ReadableStream<Uint8Array>({
		async pull(controller) {
			try {
				const { done: end, value } = await reader.read();
				if (end) {
					finish();
					controller.close();
				} else controller.enqueue(value);
			} catch (error) {
				finish();
				controller.error(error);
			}
		},
		cancel(reason) {
			finish();
			return reader.cancel(reason);
		},
	});
	return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}

/** Reads the whole body, or undefined when it has not arrived within `ms`. */
async function readBodyWithin(req: Request, ms: number): Promise<string | undefined> {
	let timer: ReturnType<typeof setTimeout> | undefined;
	const late = new Promise<undefined>((resolve) => {
		timer = setTimeout(() => resolve(undefined), ms);
	});
	try {
		return await Promise.race([req.text(), late]);
	} finally {
		clearTimeout(timer);
	}
}

export function startHttpServer(options: HttpServerOptions): RunningHttpServer {
	const sessions = new Map<string, Session>();
	/** Times of recent new sessions per peer address. */
	const newSessions = new Map<string, number[]>();
	const perPeer = options.newSessionsPerPeerPerMinute ?? NEW_SESSIONS_PER_PEER_PER_MINUTE;
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
		for (const [peer, times] of newSessions) if (times.every((t) => now - t > 60_000)) newSessions.delete(peer);
	}, 30_000);
	sweep.unref?.();

	/**
	 * Makes room for one more session. Only an idle session is closed: first one that never made a
	 * request after its initialize, then the least recently used one not used in the last minute.
	 * False when every session is busy or in recent use: the new one is refused instead, so opening
	 * sessions can never log out clients that are working.
	 */
	const makeRoom = async (): Promise<boolean> => {
		if (sessions.size < options.maxSessions) return true;
		const now = Date.now();
		let victim: [string, Session] | undefined;
		const rank = (s: Session) => (s.requests === 0 ? 0 : 1);
		for (const entry of sessions) {
			const s = entry[1];
			if (s.inFlight > 0 || (s.requests > 0 && now - s.lastUsed < RECENTLY_USED_MS)) continue;
			if (!victim || rank(s) < rank(victim[1]) || (rank(s) === rank(victim[1]) && s.lastUsed < victim[1].lastUsed)) {
				victim = entry;
			}
		}
		if (!victim) return false;
		log.info("closing an idle MCP session to make room for a new one", { sessions: sessions.size });
		await closeSession(victim[0]);
		return true;
	};

	/** Counts a new session for `peer`; false when it opened too many in the last minute. */
	const admitPeer = (peer: string): boolean => {
		const now = Date.now();
		const recent = (newSessions.get(peer) ?? []).filter((t) => now - t < 60_000);
		if (recent.length >= perPeer) {
			newSessions.set(peer, recent);
			return false;
		}
		recent.push(now);
		newSessions.set(peer, recent);
		return true;
	};

	const handleMcp = async (req: Request, bun: Server<undefined>): Promise<Response> => {
		const cors = corsHeaders(req, options);
		const rebinding = checkRebinding(req, options);
		if (rebinding) return jsonRpcError(rebinding.status, rebinding.message, { Connection: "close" });
		if (req.method === "OPTIONS") {
			// A browser's preflight carries no credentials; an allowed Origin is all it needs.
			return new Response(null, {
				status: 204,
				headers: {
					...cors,
					"Access-Control-Allow-Methods": "GET, POST, DELETE",
					"Access-Control-Allow-Headers": CORS_ALLOW_HEADERS,
					"Access-Control-Max-Age": "600",
				},
			});
		}
		const auth = checkBearer(req, options.authToken);
		if (auth) {
			return jsonRpcError(auth.status, auth.message, { ...cors, "WWW-Authenticate": "Bearer", Connection: "close" });
		}
		if (!["POST", "GET", "DELETE"].includes(req.method)) {
			return jsonRpcError(405, "Method not allowed.", { ...cors, Allow: "GET, POST, DELETE, OPTIONS" });
		}
		const length = Number(req.headers.get("content-length") ?? "0");
		if (length > options.maxBodyBytes)
			return jsonRpcError(413, "Request body too large.", { ...cors, Connection: "close" });

		// The body is read while the socket's idle limit still holds, and within BODY_READ_MS in all.
		let forward = req;
		if (req.method === "POST") {
			const body = await readBodyWithin(req, options.bodyReadMs ?? BODY_READ_MS);
			if (body === undefined) return jsonRpcError(408, "Request body too slow.", { ...cors, Connection: "close" });
			forward = new Request(req.url, { method: "POST", headers: req.headers, body });
		}
		// A tool call's stream may stay silent longer than the idle limit (wait_for_screen runs up to
		// 600 s); its own deadline bounds it, so the socket's idle limit must not cut it.
		bun.timeout(req, 0);

		const sessionId = req.headers.get("mcp-session-id");
		if (sessionId) {
			const session = sessions.get(sessionId);
			if (!session) return jsonRpcError(404, "Session not found; initialize a new one.", cors);
			session.lastUsed = Date.now();
			session.requests++;
			session.inFlight++;
			let response: Response;
			try {
				response = await session.transport.handleRequest(forward);
			} catch (error) {
				session.inFlight--;
				throw error;
			}
			return withHeaders(
				onBodyEnd(response, req.signal, () => {
					session.inFlight--;
					session.lastUsed = Date.now();
				}),
				cors,
			);
		}
		if (req.method !== "POST") return jsonRpcError(400, "Bad Request: Mcp-Session-Id header is required.", cors);
		if (!accepting) return jsonRpcError(503, "Server is shutting down.", cors);

		// A request without a session id must be an initialize; the transport enforces that.
		const peer = bun.requestIP(req)?.address ?? "unknown";
		if (!admitPeer(peer)) {
			log.warn("refused a new MCP session: too many from one peer", { peer, perMinute: perPeer });
			return jsonRpcError(429, `Too many new sessions from ${peer}; reuse your session or wait a minute.`, {
				...cors,
				"Retry-After": "60",
			});
		}
		if (!(await makeRoom())) {
			return jsonRpcError(503, "Too many MCP sessions in use; try again later.", { ...cors, "Retry-After": "30" });
		}
		const server = options.createMcpServer();
		const transport = new WebStandardStreamableHTTPServerTransport({
			sessionIdGenerator: () => crypto.randomUUID(),
			maxRequestBodySize: options.maxBodyBytes,
			onsessioninitialized: (id) => {
				sessions.set(id, { transport, server, lastUsed: Date.now(), inFlight: 0, requests: 0 });
			},
			onsessionclosed: (id) => {
				void closeSession(id);
			},
		});
		await server.connect(transport);
		return withHeaders(await transport.handleRequest(forward), cors);
	};

	const bun = Bun.serve({
		hostname: options.host,
		port: options.port,
		idleTimeout: HTTP_IDLE_SECONDS,
		maxRequestBodySize: options.maxBodyBytes,
		// Never Bun's development error page: it shows source lines and the checkout's path.
		development: false,
		error: () => new Response("Internal Server Error", { status: 500, headers: { "Content-Type": "text/plain" } }),
		fetch: async (req, server) => {
			// Without a Host (HTTP/1.0) or with a malformed one, req.url is not a URL at all.
			let pathname: string;
			try {
				if (!wellFormedHost(req.headers.get("host"))) return badRequest();
				pathname = new URL(req.url).pathname;
			} catch {
				return badRequest();
			}
			try {
				if (pathname === "/mcp") return await handleMcp(req, server);
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
