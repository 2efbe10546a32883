/**
 * A mock Supermicro BMC (ATEN/Insyde HTML5 iKVM): HTTPS with the demo's
 * self-signed certificate on loopback, speaking the whole flow a real one does
 * and checking what a real one checks:
 *
 * - `POST /cgi/login.cgi` (a wrong password answers 200 with the login page and
 *   no SID; `cgiLogin: false` answers 400 as Redfish-only firmware does), the
 *   Redfish session and `Oem/Supermicro/IKVM` route, `/cgi/logout.cgi` (which
 *   kicks that session's consoles with 0x39 code 3, as the BMC does);
 * - the HTML5 console page with a one-time `entry_value` (single use: a second
 *   use is refused with SecurityResult 1);
 * - the WebSocket upgrade at `/` only, read from the raw request: header names
 *   in canonical case, both Upgrade and Connection, no subprotocol, the SID
 *   cookie and the BMC's Origin; WebSocket framing written here by hand;
 * - RFB `055.008` that must come back unchanged, security type 16, the 24-byte
 *   block, the 48 credential bytes (token, then 24 zeros), ServerInit with the
 *   12 ATEN bytes, the ATEN server messages (0x39 session notices, 0x16, 0x37,
 *   0x3C, cursor 0x04), video rectangles with the 20-byte header and the
 *   no-signal sentinel while the host is off, a KVM session limit;
 * - client messages decoded by length; key and pointer events kept as state so
 *   a test can check that every key was released; a power (0x1A), quality
 *   (0x32), mouse-mode (0x36) or Java/HTML5 mode switch (op.cgi) message is
 *   recorded as a side effect and, unless power was allowed, ends the
 *   connection loudly (`violations`).
 *
 * Its RFB code is deliberately separate from src/aten so each checks the other.
 */
import { createHash, randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import https from "node:https";
import type { Duplex } from "node:stream";
import type { RgbaPicture } from "./ast2500-encoder.ts";
import { type AtenEncodeOptions, encodeAtenPayload } from "./aten-encoder.ts";
import { MOCK_BMC_CERT, MOCK_BMC_KEY } from "./mock-bmc-cert.ts";
import { prng } from "./prng.ts";

/** One video rectangle as the BMC would send it. */
export interface SupermicroFrame {
	width: number;
	height: number;
	/** Encoding 0x57 (default) or 0x59. */
	encoding?: number;
	payload: Uint8Array;
}

export type SupermicroFrameSource = (request: {
	connection: number;
	request: number;
	incremental: boolean;
}) => SupermicroFrame | Promise<SupermicroFrame>;

export interface MockSupermicroOptions {
	frames: SupermicroFrameSource;
	username?: string;
	password?: string;
	/** false: login.cgi answers 400 (Redfish-only firmware); the Redfish session sets the SID. */
	cgiLogin?: boolean;
	/** false: the CGI console page has no entry_value (the token comes from Redfish). */
	cgiToken?: boolean;
	banner?: string;
	maxKvmSessions?: number;
	/** ServerInit IKVMVideoEnable: false = a session without video. */
	video?: boolean;
	/** ServerInit IKVMKMEnable: false = a video-only session. */
	keyboardMouse?: boolean;
	/** false: announce (0x39, a=1 b=4) that another viewer holds control, and keep streaming. */
	inputControl?: boolean;
	poweredOn?: boolean;
	/** How "off" looks: the −640×−480 sentinel (default) or a normal-size empty rectangle. */
	noSignalStyle?: "sentinel" | "empty";
	/** Status chatter before the first video (0x39 joined, 0x16, 0x37, 0x3C, 0x33, 0x35, cursor). */
	chatter?: boolean;
	/** Body length of 0x37 on this firmware. */
	mouseInfoLength?: 2 | 3;
	/** How RFB bytes map to WebSocket frames. */
	wsChunking?: "message" | "random" | "coalesce";
	seed?: number;
	/** 0x1A is accepted (tests of the power action); otherwise it is a violation. */
	allowPower?: boolean;
	/** Where the mock stops answering, to test time limits. */
	stall?: "login" | "token" | "banner" | "security-result" | "frame";
	/** Answer every FramebufferUpdateRequest after this many ms. */
	frameDelayMs?: number;
	/** Close the WebSocket half-way through the n-th frame (1-based). */
	closeMidFrame?: number;
	/** Every decoded key or pointer event, for a host that reacts (the demo's shell). */
	onInput?: (event: ({ kind: "key" } & ClientKeyEvent) | ({ kind: "pointer" } & ClientPointerEvent)) => void;
	/** A 0x1A power action was applied (0 off, 1 on, 2 reset, 3 soft off). */
	onPower?: (action: number) => void;
	/** Preview snapshot: image bytes (BMP/JPEG/PNG) or a 404 when absent. */
	preview?: () => Uint8Array | Promise<Uint8Array>;
}

export interface ClientKeyEvent {
	usage: number;
	down: boolean;
}

export interface ClientPointerEvent {
	buttons: number;
	x: number;
	y: number;
}

export interface MockSupermicroStats {
	logins: number;
	failedLogins: number;
	redfishLogins: number;
	logouts: number;
	/** Web sessions open now. */
	webSessions: number;
	tokensIssued: number;
	tokensUsed: number;
	tokenRejections: number;
	upgradesRefused: number;
	kvmConnections: number;
	/** KVM WebSockets open now. */
	kvmOpen: number;
	/** KVM sessions past ServerInit open now. */
	kvmSessions: number;
	updateRequests: number;
	framesSent: number;
	noSignalSent: number;
	keepAlives: number;
	previews: number;
	powerStatusReads: number;
	/** Logouts that came while a KVM socket of that session was still open (and so kicked it). */
	logoutsWithOpenConsole: number;
}

interface WebSession {
	sid: string;
	via: "cgi" | "redfish";
	redfishToken?: string;
	redfishId?: string;
}

interface Connection {
	id: number;
	socket: Duplex;
	session: WebSession;
	/** Raw bytes from the client not yet parsed as WebSocket frames. */
	wsBuffer: Buffer;
	/** Payload of a fragmented message. */
	fragments: Buffer[];
	/** RFB bytes not yet parsed. */
	rfb: Buffer;
	state: "banner" | "security-type" | "credentials" | "client-init" | "streaming" | "closed";
	banner: Buffer;
	requests: number;
	framesSent: number;
	sending: Promise<void>;
	counted: boolean;
}

const ATEN_NAME = "ATEN iKVM Server";
const WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/** Header names a real BMC insists on seeing spelled this way. */
const CANONICAL = ["Upgrade", "Connection", "Sec-WebSocket-Key", "Sec-WebSocket-Version"];

/** Body length after the type byte of each client message this BMC knows. */
const CLIENT_LENGTH: Record<number, number> = {
	3: 9,
	4: 17,
	5: 17,
	7: 2,
	21: 8,
	22: 1,
	25: 0,
	26: 1,
	50: 4,
	54: 2,
	55: 0,
	58: 0,
	60: 0,
};

function u16(v: number): number[] {
	return [(v >> 8) & 255, v & 255];
}
function u32(v: number): number[] {
	return [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
}

/** A 0x39 session message: a, b, and the 256-byte text. */
export function sessionMessage(a: number, b: number, text: string): Uint8Array {
	const m = new Uint8Array(1 + 264);
	m[0] = 0x39;
	m.set(u32(a), 1);
	m.set(u32(b), 5);
	m.set(new TextEncoder().encode(text).subarray(0, 255), 9);
	return m;
}

/** A FramebufferUpdate with one rectangle (20-byte ATEN header + payload). */
export function framebufferUpdate(width: number, height: number, encoding: number, payload: Uint8Array): Uint8Array {
	const head = [
		0,
		0,
		...u16(1),
		...u16(0),
		...u16(0),
		...u16(width),
		...u16(height),
		...u32(encoding),
		...u32(0),
		...u32(payload.length),
	];
	const m = new Uint8Array(head.length + payload.length);
	m.set(head);
	m.set(payload, head.length);
	return m;
}

export class MockSupermicroBmc {
	readonly stats: MockSupermicroStats = {
		logins: 0,
		failedLogins: 0,
		redfishLogins: 0,
		logouts: 0,
		webSessions: 0,
		tokensIssued: 0,
		tokensUsed: 0,
		tokenRejections: 0,
		upgradesRefused: 0,
		kvmConnections: 0,
		kvmOpen: 0,
		kvmSessions: 0,
		updateRequests: 0,
		framesSent: 0,
		noSignalSent: 0,
		keepAlives: 0,
		previews: 0,
		powerStatusReads: 0,
		logoutsWithOpenConsole: 0,
	};
	/** Every secret handed out (SIDs, tokens, Redfish tokens), for leak scans. */
	readonly issued: string[] = [];
	/** Side-effect messages seen: 0x1A power, 0x32 quality, 0x36 mouse mode, "mode-switch" (op.cgi). */
	readonly sideEffects: string[] = [];
	/** What broke the rules (side effects not allowed, bad handshake bytes, unknown messages): must stay empty. */
	readonly violations: string[] = [];
	/** Why upgrades were refused, for tests. */
	readonly refusals: string[] = [];
	readonly keyEvents: ClientKeyEvent[] = [];
	readonly pointerEvents: ClientPointerEvent[] = [];
	/** HID usages held down now. */
	readonly keysDown = new Set<number>();
	buttons = 0;
	readonly powerActions: number[] = [];
	options: MockSupermicroOptions;
	private poweredOn: boolean;
	private server: https.Server | undefined;
	private readonly sessions = new Map<string, WebSession>();
	/** One-time tokens → the web session that fetched them. */
	private readonly tokens = new Map<string, WebSession>();
	private readonly connections = new Set<Connection>();
	private nextConnection = 1;
	private readonly random: () => number;

	constructor(options: MockSupermicroOptions) {
		this.options = options;
		this.poweredOn = options.poweredOn ?? true;
		this.random = prng(options.seed ?? 7);
	}

	get username(): string {
		return this.options.username ?? "ADMIN";
	}

	get password(): string {
		return this.options.password ?? "mock-smc-password";
	}

	get power(): "on" | "off" {
		return this.poweredOn ? "on" : "off";
	}

	setPower(on: boolean): void {
		this.poweredOn = on;
	}

	async start(port = 0): Promise<this> {
		const server = https.createServer({ cert: MOCK_BMC_CERT, key: MOCK_BMC_KEY }, (req, res) => {
			void this.handle(req).then(
				(answer) => {
					if (!answer) return; // stalled on purpose
					res.writeHead(answer.status, answer.headers);
					res.end(answer.body);
				},
				(error) => {
					res.writeHead(500);
					res.end(String(error));
				},
			);
		});
		server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
		await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
		this.server = server;
		return this;
	}

	get port(): number {
		const address = this.server?.address();
		if (!address || typeof address === "string") throw new Error("mock Supermicro BMC not started");
		return address.port;
	}

	get origin(): string {
		return `https://127.0.0.1:${this.port}`;
	}

	/** A web session as a provider's viewer link would hold it (SID only). */
	openViewerSession(): string {
		return this.newSession("cgi").sid;
	}

	/** Drops every KVM connection at once (a BMC reboot). */
	dropKvmConnections(): void {
		for (const c of this.connections) c.socket.destroy();
	}

	/** Sends raw RFB bytes on every streaming KVM connection (tests: garbage, bogus messages). */
	sendRawToKvm(bytes: Uint8Array): void {
		for (const c of this.connections) if (c.state === "streaming") this.sendRfb(c, bytes);
	}

	async stop(): Promise<void> {
		for (const c of this.connections) c.socket.destroy();
		const server = this.server;
		this.server = undefined;
		if (!server) return;
		server.closeAllConnections?.();
		await new Promise<void>((resolve) => server.close(() => resolve()));
	}

	// ------------------------------------------------------------------ HTTP

	private newSession(via: WebSession["via"]): WebSession {
		const session: WebSession = { sid: randomBytes(16).toString("hex"), via };
		this.issued.push(session.sid);
		this.sessions.set(session.sid, session);
		this.stats.webSessions++;
		return session;
	}

	private sessionOf(req: IncomingMessage): WebSession | undefined {
		const match = /(?:^|;\s*)SID=([^;\s]+)/.exec(req.headers.cookie ?? "");
		return match?.[1] ? this.sessions.get(match[1]) : undefined;
	}

	private redfishAuth(req: IncomingMessage): boolean {
		const token = req.headers["x-auth-token"];
		if (typeof token === "string") return [...this.sessions.values()].some((s) => s.redfishToken === token);
		const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? "")?.[1];
		if (!basic) return false;
		return Buffer.from(basic, "base64").toString() === `${this.username}:${this.password}`;
	}

	private async handle(req: IncomingMessage): Promise<Answer | undefined> {
		const url = new URL(req.url ?? "/", this.origin);
		const body = await readAll(req);
		const path = url.pathname;
		if (path === "/cgi/login.cgi" && req.method === "POST") return this.login(body);
		if (path === "/cgi/logout.cgi") return this.logout(req);
		if (path === "/cgi/url_redirect.cgi") {
			const name = url.searchParams.get("url_name");
			if (name === "man_ikvm_html5_bootstrap") return this.consolePage(req);
			if (name === "Snapshot" && url.searchParams.get("url_type") === "img") return this.snapshot(req);
			return page("<html><body>File Not Found</body></html>", 404);
		}
		if (path === "/cgi/CapturePreview.cgi" && req.method === "POST") {
			if (!this.sessionOf(req)) return page(loginPage());
			if (!this.options.preview) return page("<html><body>404</body></html>", 404);
			this.stats.previews++;
			return {
				status: 200,
				headers: { "Content-Type": "text/xml" },
				body: '<?xml version="1.0"?><IPMI><PREVIEW/></IPMI>',
			};
		}
		if (path === "/cgi/op.cgi" && req.method === "POST") {
			const form = new URLSearchParams(body);
			if (form.get("op") === "sys_preview" && !this.options.preview) return page("<html><body>404</body></html>", 404);
			if (form.get("op") === "remote_console" || form.has("ikvm_setting")) {
				this.sideEffects.push("mode-switch");
				this.violations.push("op.cgi remote_console: Java/HTML5 mode switch");
			}
			return page("<html><body>ok</body></html>");
		}
		if (path === "/cgi/ipmi.cgi" && req.method === "POST") {
			if (!this.sessionOf(req)) return page(loginPage());
			if (new URLSearchParams(body).has("POWER_INFO.XML")) {
				this.stats.powerStatusReads++;
				return {
					status: 200,
					headers: { "Content-Type": "application/xml" },
					body: `<?xml version="1.0"?><IPMI><POWER_INFO><POWER STATUS="${this.poweredOn ? "ON" : "OFF"}"/></POWER_INFO></IPMI>`,
				};
			}
			return page("<html><body>ok</body></html>");
		}
		if (path === "/redfish/v1/SessionService/Sessions" && req.method === "POST") return this.redfishLogin(body);
		if (path.startsWith("/redfish/v1/SessionService/Sessions/") && req.method === "DELETE") {
			const id = path.split("/").pop();
			const session = [...this.sessions.values()].find((s) => s.redfishId === id);
			if (!session || req.headers["x-auth-token"] !== session.redfishToken) return json({ error: "unauthorized" }, 401);
			this.endSession(session);
			return { status: 204, headers: {}, body: "" };
		}
		if (path === "/redfish/v1/Managers/1/Oem/Supermicro/IKVM") {
			if (!this.redfishAuth(req)) return json({ error: "unauthorized" }, 401);
			const uri = `/redfish/${randomBytes(12).toString("hex")}.IKVM`;
			this.issued.push(uri.slice(9, -5));
			this.ikvmPages.add(uri);
			return json({ URI: uri });
		}
		if (this.ikvmPages.has(path)) {
			this.ikvmPages.delete(path);
			if (!this.redfishAuth(req)) return json({ error: "unauthorized" }, 401);
			// Redfish-only firmware: the console page is where the WebSocket's SID comes from.
			const session = this.sessionOf(req) ?? this.newSession("redfish");
			const headers: Record<string, string> = { "Set-Cookie": `SID=${session.sid}; path=/; secure; HttpOnly` };
			return { status: 200, headers: { ...headers, "Content-Type": "text/html" }, body: this.consoleHtml(session) };
		}
		return page("<html><body><h1>404 Not Found</h1></body></html>", 404);
	}

	private readonly ikvmPages = new Set<string>();

	private async login(body: string): Promise<Answer | undefined> {
		if (this.options.stall === "login") return undefined;
		if (this.options.cgiLogin === false) return page("<html><body>Bad Request</body></html>", 400);
		const form = new URLSearchParams(body);
		if (form.get("name") !== this.username || form.get("pwd") !== this.password) {
			this.stats.failedLogins++;
			// What the firmware does: 200, a page, no session (after clearing the cookie).
			return { status: 200, headers: { "Content-Type": "text/html", "Set-Cookie": "SID=; path=/" }, body: loginPage() };
		}
		const session = this.newSession("cgi");
		this.stats.logins++;
		return {
			status: 200,
			headers: {
				"Content-Type": "text/html",
				"Set-Cookie": [`SID=; path=/`, `SID=${session.sid}; path=/; secure; HttpOnly`],
			},
			body: "<html><head><script>window.location='../cgi/url_redirect.cgi?url_name=mainmenu';</script></head></html>",
		};
	}

	private redfishLogin(body: string): Answer {
		let parsed: { UserName?: string; Password?: string } = {};
		try {
			parsed = JSON.parse(body);
		} catch {
			return json({ error: "bad json" }, 400);
		}
		if (parsed.UserName !== this.username || parsed.Password !== this.password) {
			this.stats.failedLogins++;
			return json({ error: "unauthorized" }, 401);
		}
		const session = this.newSession("redfish");
		session.redfishToken = randomBytes(16).toString("hex");
		session.redfishId = String(this.stats.redfishLogins + 1);
		this.issued.push(session.redfishToken);
		this.stats.redfishLogins++;
		this.stats.logins++;
		// Redfish-only firmware gives the SID with the session.
		return {
			status: 201,
			headers: {
				"Content-Type": "application/json",
				"X-Auth-Token": session.redfishToken,
				Location: `/redfish/v1/SessionService/Sessions/${session.redfishId}`,
				"Set-Cookie": `SID=${session.sid}; path=/; secure; HttpOnly`,
			},
			body: JSON.stringify({ Id: session.redfishId }),
		};
	}

	private endSession(session: WebSession): void {
		if (!this.sessions.delete(session.sid)) return;
		this.stats.webSessions--;
		this.stats.logouts++;
		if ([...this.connections].some((c) => c.session === session && c.state !== "closed")) {
			this.stats.logoutsWithOpenConsole++;
		}
		// A web logout kicks that session's consoles, as the firmware does (0x39 code 3).
		for (const c of this.connections) {
			if (c.session !== session) continue;
			if (c.state === "streaming") this.sendRfb(c, sessionMessage(1, 3, "1 ADMIN 127.0.0.1"));
			this.closeConnection(c);
		}
	}

	private logout(req: IncomingMessage): Answer {
		const session = this.sessionOf(req);
		if (session) this.endSession(session);
		return page(loginPage());
	}

	private consoleHtml(session: WebSession): string {
		const token = randomBytes(12).toString("base64url").slice(0, 16);
		this.tokens.set(token, session);
		this.issued.push(token);
		this.stats.tokensIssued++;
		return `<!DOCTYPE html><html><head><title>iKVM</title></head><body>
<input type='hidden' name="entry" value='x'>
<input type="hidden" value='${token}' name="entry_value" id='entry_value' />
<canvas id="canvas"></canvas><script src="../js/novnc/rfb.js"></script></body></html>`;
	}

	private consolePage(req: IncomingMessage): Answer | undefined {
		if (this.options.stall === "token") return undefined;
		const session = this.sessionOf(req);
		if (!session) return page(loginPage());
		if (this.options.cgiToken === false) return page("<html><body>File Not Found</body></html>");
		return page(this.consoleHtml(session));
	}

	private async snapshot(req: IncomingMessage): Promise<Answer> {
		if (!this.sessionOf(req)) return page(loginPage());
		if (!this.options.preview) return page("<html><body>404</body></html>", 404);
		const image = await this.options.preview();
		return { status: 200, headers: { "Content-Type": "application/octet-stream" }, body: Buffer.from(image) };
	}

	// ------------------------------------------------------------------ WebSocket

	private refuse(socket: Duplex, status: number, why: string): void {
		this.stats.upgradesRefused++;
		this.refusals.push(why);
		socket.end(`HTTP/1.1 ${status} Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
	}

	private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
		const names = new Set<string>();
		for (let i = 0; i < req.rawHeaders.length; i += 2) names.add(req.rawHeaders[i] as string);
		if (new URL(req.url ?? "/", this.origin).pathname !== "/") {
			this.refuse(socket, 404, "path is not /");
			return;
		}
		for (const name of CANONICAL) {
			if (!names.has(name)) {
				this.refuse(socket, 400, `header ${name} missing or not in canonical case`);
				return;
			}
		}
		if (req.headers["sec-websocket-protocol"] !== undefined) {
			this.refuse(socket, 400, "a subprotocol was offered");
			return;
		}
		if (req.headers.origin !== this.origin) {
			this.refuse(socket, 403, "wrong Origin");
			return;
		}
		const session = this.sessionOf(req);
		if (!session) {
			this.refuse(socket, 403, "no valid SID cookie");
			return;
		}
		const key = req.headers["sec-websocket-key"] ?? "";
		const accept = createHash("sha1")
			.update(key + WS_GUID)
			.digest("base64");
		// No Sec-WebSocket-Extensions in the answer: permessage-deflate offered by the client is declined.
		socket.write(
			`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
		);
		const c: Connection = {
			id: this.nextConnection++,
			socket,
			session,
			wsBuffer: Buffer.from(head),
			fragments: [],
			rfb: Buffer.alloc(0),
			state: "banner",
			banner: Buffer.from(this.options.banner ?? "RFB 055.008\n"),
			requests: 0,
			framesSent: 0,
			sending: Promise.resolve(),
			counted: false,
		};
		this.connections.add(c);
		this.stats.kvmConnections++;
		this.stats.kvmOpen++;
		socket.on("data", (data: Buffer) => this.onWsData(c, data));
		socket.on("close", () => this.onSocketClose(c));
		socket.on("error", () => socket.destroy());
		if (this.options.stall !== "banner") this.sendRfb(c, c.banner);
		if (c.wsBuffer.length > 0) this.onWsData(c, Buffer.alloc(0));
	}

	private onSocketClose(c: Connection): void {
		if (!this.connections.delete(c)) return;
		c.state = "closed";
		this.stats.kvmOpen--;
		if (c.counted) this.stats.kvmSessions--;
	}

	private closeConnection(c: Connection): void {
		if (c.state === "closed") return;
		c.state = "closed";
		this.writeFrame(c, 0x8, Buffer.from([0x03, 0xe8]));
		c.socket.end();
		setTimeout(() => c.socket.destroy(), 200).unref?.();
	}

	private violation(c: Connection, what: string): void {
		this.violations.push(what);
		this.closeConnection(c);
	}

	private onWsData(c: Connection, data: Buffer): void {
		c.wsBuffer = Buffer.concat([c.wsBuffer, data]);
		for (;;) {
			const b = c.wsBuffer;
			if (b.length < 2) return;
			const fin = (b[0] as number) & 0x80;
			const opcode = (b[0] as number) & 0x0f;
			const masked = (b[1] as number) & 0x80;
			let length = (b[1] as number) & 0x7f;
			let at = 2;
			if (length === 126) {
				if (b.length < 4) return;
				length = b.readUInt16BE(2);
				at = 4;
			} else if (length === 127) {
				if (b.length < 10) return;
				length = Number(b.readBigUInt64BE(2));
				at = 10;
			}
			if (!masked) {
				this.violation(c, "client WebSocket frame not masked");
				return;
			}
			if (b.length < at + 4 + length) return;
			const mask = b.subarray(at, at + 4);
			const payload = Buffer.from(b.subarray(at + 4, at + 4 + length));
			for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] as number) ^ (mask[i & 3] as number);
			c.wsBuffer = b.subarray(at + 4 + length);
			if (opcode === 0x8) {
				if (c.state !== "closed") {
					c.state = "closed";
					this.writeFrame(c, 0x8, payload.subarray(0, 2), true);
				}
				c.socket.end();
				return;
			}
			if (opcode === 0x9) {
				this.writeFrame(c, 0xa, payload);
				continue;
			}
			if (opcode === 0xa) continue;
			if (opcode === 0x1) {
				this.violation(c, "client sent a text WebSocket frame");
				return;
			}
			c.fragments.push(payload);
			if (!fin) continue;
			const message = Buffer.concat(c.fragments);
			c.fragments = [];
			this.onRfb(c, message);
			if (c.state === "closed") return;
		}
	}

	private writeFrame(c: Connection, opcode: number, payload: Uint8Array, force = false): void {
		if (c.socket.destroyed || (!force && c.state === "closed" && opcode !== 0x8)) return;
		const n = payload.length;
		const head =
			n < 126
				? Buffer.from([0x80 | opcode, n])
				: n < 65536
					? Buffer.from([0x80 | opcode, 126, n >> 8, n & 255])
					: Buffer.alloc(10);
		if (n >= 65536) {
			head[0] = 0x80 | opcode;
			head[1] = 127;
			head.writeBigUInt64BE(BigInt(n), 2);
		}
		c.socket.write(Buffer.concat([head, payload]));
	}

	/** RFB bytes to the client, cut into WebSocket frames as the options say. */
	private sendRfb(c: Connection, bytes: Uint8Array): void {
		if (c.state === "closed") return;
		const chunking = this.options.wsChunking ?? "message";
		if (chunking !== "random") {
			this.writeFrame(c, 0x2, bytes);
			return;
		}
		let at = 0;
		while (at < bytes.length) {
			const r = this.random();
			const cut = r < 0.3 ? 1 + Math.floor(this.random() * 9) : 1 + Math.floor(this.random() * 8192);
			this.writeFrame(c, 0x2, bytes.subarray(at, at + cut));
			at += cut;
		}
	}

	private onRfb(c: Connection, bytes: Buffer): void {
		c.rfb = Buffer.concat([c.rfb, bytes]);
		for (;;) {
			if (c.state === "closed") return;
			const q = c.rfb;
			switch (c.state) {
				case "banner": {
					if (q.length < 12) return;
					if (!q.subarray(0, 12).equals(c.banner)) {
						this.violation(c, `banner not echoed unchanged: ${JSON.stringify(q.subarray(0, 12).toString("latin1"))}`);
						return;
					}
					c.rfb = q.subarray(12);
					c.state = "security-type";
					this.sendRfb(c, Uint8Array.of(1, 16));
					continue;
				}
				case "security-type": {
					if (q.length < 1) return;
					if (q[0] !== 16) {
						this.violation(c, `security type ${q[0]} chosen instead of 16`);
						return;
					}
					c.rfb = q.subarray(1);
					c.state = "credentials";
					// Looks like leaked memory on a real BMC; the client must read and ignore all 24 bytes.
					this.sendRfb(c, Uint8Array.from([0x70, 0x04, 0x40, 0x75, ...randomBytes(20)]));
					continue;
				}
				case "credentials": {
					if (q.length < 48) return;
					const user = q.subarray(0, 24);
					const password = q.subarray(24, 48);
					c.rfb = q.subarray(48);
					if (password.some((b) => b !== 0)) {
						this.violation(c, "password field is not 24 zero bytes");
						return;
					}
					const end = user.indexOf(0);
					if (end < 0) {
						this.violation(c, "token field not NUL-terminated");
						return;
					}
					if (user.subarray(end).some((b) => b !== 0)) {
						this.violation(c, "token field not NUL-padded");
						return;
					}
					const token = user.subarray(0, end).toString("latin1");
					const owner = this.tokens.get(token);
					// Single use: the token is gone whatever happens next.
					this.tokens.delete(token);
					if (this.options.stall === "security-result") return;
					if (!owner || owner !== c.session) {
						this.stats.tokenRejections++;
						this.sendRfb(c, Uint8Array.from(u32(1)));
						this.closeConnection(c);
						return;
					}
					this.stats.tokensUsed++;
					this.sendRfb(c, Uint8Array.from(u32(0)));
					c.state = "client-init";
					continue;
				}
				case "client-init": {
					if (q.length < 1) return;
					c.rfb = q.subarray(1);
					this.serverInit(c);
					continue;
				}
				case "streaming": {
					if (q.length < 1) return;
					const type = q[0] as number;
					if (type === 0x02) {
						if (q.length < 4) return;
						const n = q.readUInt16BE(2);
						if (q.length < 4 + 4 * n) return;
						c.rfb = q.subarray(4 + 4 * n);
						continue;
					}
					const length = CLIENT_LENGTH[type];
					if (length === undefined) {
						this.violation(c, `unknown client message type 0x${type.toString(16)}`);
						return;
					}
					if (q.length < 1 + length) return;
					const body = Buffer.from(q.subarray(1, 1 + length));
					c.rfb = q.subarray(1 + length);
					this.onClientMessage(c, type, body);
					continue;
				}
				default:
					return;
			}
		}
	}

	private serverInit(c: Connection): void {
		const limited = this.stats.kvmSessions >= (this.options.maxKvmSessions ?? 4);
		const name = new TextEncoder().encode(ATEN_NAME);
		const pf = [32, 24, 0, 1, ...u16(255), ...u16(255), ...u16(255), 16, 8, 0, 0, 0, 0];
		const km = this.options.keyboardMouse === false ? 0 : 1;
		const init = [
			...u16(480),
			...u16(640),
			...pf,
			...u32(name.length),
			...name,
			0,
			0,
			0,
			0,
			0x5d,
			0xfd,
			0x43,
			0xd0,
			this.options.video === false ? 0 : 1,
			km,
			1,
			1,
		];
		this.sendRfb(c, Uint8Array.from(init));
		c.state = "streaming";
		if (limited) {
			// "Too many users": the notice, then the BMC hangs up.
			this.sendRfb(c, sessionMessage(1, 4, "0 ADMIN 127.0.0.1"));
			this.closeConnection(c);
			return;
		}
		c.counted = true;
		this.stats.kvmSessions++;
		if (this.options.chatter ?? true) {
			const mouseInfo = this.options.mouseInfoLength === 3 ? [0x37, 1, 0, 0] : [0x37, 1, 0];
			const cursor = [
				0x04,
				...u32(0),
				...u32(0),
				...u32(2),
				...u32(2),
				...u32(1),
				...u32(0),
				...new Array(8).fill(0xaa),
			];
			this.sendRfb(
				c,
				Uint8Array.from([
					...sessionMessage(1, 1, `${c.id} ADMIN 127.0.0.1`),
					0x16,
					1,
					...mouseInfo,
					0x3c,
					...new Array(8).fill(0),
					0x33,
					0,
					0,
					0,
					0,
					0x35,
					1,
					1,
					0,
					0,
					0,
					...cursor,
				]),
			);
		}
		if (this.options.inputControl === false) this.sendRfb(c, sessionMessage(1, 4, "2 ADMIN 10.0.0.50"));
	}

	private onClientMessage(c: Connection, type: number, body: Buffer): void {
		switch (type) {
			case 0x03:
				this.stats.updateRequests++;
				c.requests++;
				this.queueFrame(c, body[0] === 1);
				return;
			case 0x04: {
				const down = body[1] === 1;
				const usage = body.readUInt32BE(4);
				if (
					body[0] !== 0 ||
					body[2] !== 0 ||
					body[3] !== 0 ||
					body.subarray(8).some((b) => b !== 0) ||
					(body[1] as number) > 1
				) {
					this.violation(c, "malformed key event");
					return;
				}
				this.keyEvents.push({ usage, down });
				if (down) this.keysDown.add(usage);
				else this.keysDown.delete(usage);
				this.options.onInput?.({ kind: "key", usage, down });
				return;
			}
			case 0x05: {
				if (body[0] !== 0 || body.subarray(6).some((b) => b !== 0)) {
					this.violation(c, "malformed pointer event");
					return;
				}
				const event = { buttons: body[1] as number, x: body.readUInt16BE(2), y: body.readUInt16BE(4) };
				this.pointerEvents.push(event);
				this.buttons = event.buttons;
				this.options.onInput?.({ kind: "pointer", ...event });
				return;
			}
			case 0x15:
				this.stats.keepAlives++;
				return;
			case 0x1a: {
				const action = body[0] as number;
				this.sideEffects.push(`power ${action}`);
				if (!this.options.allowPower) {
					this.violation(c, `power message 0x1A (action ${action}) without a power action`);
					return;
				}
				this.powerActions.push(action);
				if (action === 0 || action === 3) this.poweredOn = false;
				else if (action === 1 || action === 2) this.poweredOn = true;
				this.options.onPower?.(action);
				return;
			}
			case 0x32:
				this.sideEffects.push("quality 0x32");
				{
					this.violation(c, "video quality message 0x32");
					return;
				}
			case 0x36:
				this.sideEffects.push("mouse mode 0x36");
				{
					this.violation(c, "mouse mode message 0x36");
					return;
				}
			default:
				return;
		}
	}

	private queueFrame(c: Connection, incremental: boolean): void {
		c.sending = c.sending.then(() => this.sendFrame(c, incremental)).catch(() => {});
	}

	private async sendFrame(c: Connection, incremental: boolean): Promise<void> {
		if (c.state !== "streaming") return;
		if (this.options.stall === "frame") return;
		if (this.options.frameDelayMs) await Bun.sleep(this.options.frameDelayMs);
		if (!this.poweredOn) {
			this.stats.noSignalSent++;
			const sentinel = (this.options.noSignalStyle ?? "sentinel") === "sentinel";
			this.sendRfb(c, framebufferUpdate(sentinel ? 0xfd80 : 1024, sentinel ? 0xfe20 : 768, 0x57, new Uint8Array(0)));
			return;
		}
		const frame = await this.options.frames({ connection: c.id, request: c.requests, incremental });
		if (c.state !== "streaming") return;
		const message = framebufferUpdate(frame.width, frame.height, frame.encoding ?? 0x57, frame.payload);
		c.framesSent++;
		if (this.options.closeMidFrame === c.framesSent) {
			this.sendRfb(c, message.subarray(0, Math.floor(message.length / 2)));
			c.socket.destroy();
			return;
		}
		this.stats.framesSent++;
		this.sendRfb(c, message);
	}
}

interface Answer {
	status: number;
	headers: Record<string, string | string[]>;
	body: string | Buffer;
}

function page(body: string, status = 200): Answer {
	return { status, headers: { "Content-Type": "text/html" }, body };
}

function json(value: unknown, status = 200): Answer {
	return { status, headers: { "Content-Type": "application/json" }, body: JSON.stringify(value) };
}

function loginPage(): string {
	return `<html><body><form action="/cgi/login.cgi" method="post"><input name="name"><input name="pwd" type="password"></form></body></html>`;
}

function readAll(req: IncomingMessage): Promise<string> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		req.on("data", (c: Buffer) => chunks.push(c));
		req.on("end", () => resolve(Buffer.concat(chunks).toString()));
		req.on("error", reject);
	});
}

/**
 * Video of a console picture, as the BMC's engine sends it: 0x57 frames from the
 * ATEN encoder (a full frame for every request; the picture may change between
 * requests, e.g. a resolution change). Encoded once per picture.
 */
export function screenFrames(
	picture: () => RgbaPicture,
	options: Omit<AtenEncodeOptions, "previous"> = {},
): SupermicroFrameSource {
	let cached: { picture: RgbaPicture; frame: SupermicroFrame } | undefined;
	return () => {
		const now = picture();
		if (cached?.picture !== now) {
			cached = {
				picture: now,
				frame: { width: now.width, height: now.height, payload: encodeAtenPayload(now, options) },
			};
		}
		return cached.frame;
	};
}
