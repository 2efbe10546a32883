/**
 * A mock OpenBMC bmcweb on loopback (HTTPS with the committed self-signed certificate),
 * checking what the real one checks (see src/openbmc/login.ts): `POST /login` with the
 * phosphor-rest `{"data": [user, password]}` body sets `XSRF-TOKEN` and `BMCWEB-SESSION`;
 * `/kvm/0` upgrades only with a valid session cookie, the CSRF token as the
 * `Sec-WebSocket-Protocol` (echoed back) and the operator privilege, at most 4 at a time,
 * and relays bytes to an RFB server over TCP, as bmcweb does to obmc-ikvm on port 5900;
 * `POST /logout` needs the cookie and `X-XSRF-TOKEN`.
 */
import net from "node:net";
import type { ServerWebSocket } from "bun";
import { MOCK_BMC_CERT, MOCK_BMC_KEY } from "../../src/demo/mock-bmc-cert.ts";

export interface MockOpenBmc {
	readonly origin: string;
	readonly username: string;
	readonly password: string;
	readonly stats: { logins: number; logouts: number; kvmOpened: number; kvmRefused: string[]; openSessions: number };
	stop(): Promise<void>;
}

interface Session {
	token: string;
	csrf: string;
	user: string;
}

interface KvmData {
	upstream?: net.Socket;
	pending: Uint8Array[];
}

const token = () => Buffer.from(crypto.getRandomValues(new Uint8Array(15))).toString("hex");

export async function startMockOpenBmc(options: {
	rfbPort: number;
	username?: string;
	password?: string;
	/** A user that logs in but lacks the KVM privilege (ReadOnly role). */
	readOnlyUser?: string;
}): Promise<MockOpenBmc> {
	const username = options.username ?? "root";
	const password = options.password ?? "0penBmc-pw";
	const sessions = new Map<string, Session>();
	const stats = { logins: 0, logouts: 0, kvmOpened: 0, kvmRefused: [] as string[], openSessions: 0 };
	let kvm = 0;

	const sessionOf = (req: Request): Session | undefined => {
		const cookie = req.headers.get("cookie") ?? "";
		const m = /(?:^|;\s*)BMCWEB-SESSION=([^;]+)/.exec(cookie);
		return m?.[1] ? sessions.get(m[1]) : undefined;
	};

	const server = Bun.serve<KvmData>({
		hostname: "127.0.0.1",
		port: 0,
		tls: { cert: MOCK_BMC_CERT, key: MOCK_BMC_KEY },
		async fetch(req, srv) {
			const url = new URL(req.url);
			if (url.pathname === "/login" && req.method === "POST") {
				let body: { data?: unknown } = {};
				try {
					body = (await req.json()) as typeof body;
				} catch {
					return new Response(null, { status: 400 });
				}
				const [user, pass] = Array.isArray(body.data) ? body.data : [];
				const known = (user === username || user === options.readOnlyUser) && pass === password;
				if (!known) return new Response(null, { status: 401 });
				const s: Session = { token: token(), csrf: token(), user: user as string };
				sessions.set(s.token, s);
				stats.logins++;
				stats.openSessions = sessions.size;
				const headers = new Headers({ "Content-Type": "application/json" });
				headers.append("Set-Cookie", `XSRF-TOKEN=${s.csrf}; Path=/; SameSite=Strict; Secure`);
				headers.append("Set-Cookie", `BMCWEB-SESSION=${s.token}; Path=/; SameSite=Strict; Secure; HttpOnly`);
				return new Response(JSON.stringify({ data: `User '${user}' logged in`, message: "200 OK", status: "ok" }), {
					headers,
				});
			}
			if (url.pathname === "/logout" && req.method === "POST") {
				const s = sessionOf(req);
				if (!s || req.headers.get("x-xsrf-token") !== s.csrf) return new Response(null, { status: 401 });
				sessions.delete(s.token);
				stats.logouts++;
				stats.openSessions = sessions.size;
				return Response.json({ message: "200 OK", status: "ok" });
			}
			if (url.pathname === "/kvm/0") {
				const s = sessionOf(req);
				const refuse = (why: string, status = 401) => {
					stats.kvmRefused.push(why);
					return new Response(null, { status });
				};
				if (!s) return refuse("no session");
				const protocol = req.headers.get("sec-websocket-protocol") ?? "";
				if (protocol !== s.csrf) return refuse("csrf");
				if (s.user === options.readOnlyUser) return refuse("privilege", 403);
				if (kvm >= 4) return refuse("max sessions");
				const ok = srv.upgrade(req, {
					data: { pending: [] },
					headers: { "Sec-WebSocket-Protocol": protocol },
				});
				return ok ? undefined : refuse("not an upgrade", 400);
			}
			return new Response("Not Found", { status: 404 });
		},
		websocket: {
			open(ws: ServerWebSocket<KvmData>) {
				kvm++;
				stats.kvmOpened++;
				const upstream = net.connect({ host: "127.0.0.1", port: options.rfbPort });
				ws.data.upstream = upstream;
				upstream.on("data", (d: Buffer) => ws.sendBinary(d));
				upstream.on("close", () => ws.close(1000, "KVM socket port closed"));
				upstream.on("error", () => ws.close(1011, "Error in connecting to KVM port"));
				upstream.on("connect", () => {
					for (const p of ws.data.pending.splice(0)) upstream.write(p);
				});
			},
			message(ws: ServerWebSocket<KvmData>, message) {
				const bytes = typeof message === "string" ? new TextEncoder().encode(message) : new Uint8Array(message);
				const up = ws.data.upstream;
				if (up && !up.connecting) up.write(bytes);
				else ws.data.pending.push(bytes);
			},
			close(ws: ServerWebSocket<KvmData>) {
				kvm--;
				ws.data.upstream?.destroy();
			},
		},
	});

	return {
		origin: `https://127.0.0.1:${server.port}`,
		username,
		password,
		stats,
		async stop() {
			server.stop(true);
		},
	};
}
