/**
 * A mock AMI/ASRockRack MegaRAC BMC: HTTPS (self-signed) + WSS on loopback.
 *
 * Models what the console path meets on a real BMC: the viewer-URL page with
 * its session cookie and `garc` CSRF token, `/viewer.html`, the one-time
 * `/api/kvm/token` (GET; POST answers 405, or the reverse), the direct login
 * `POST/DELETE /api/session` (with a wrong-password answer and a session
 * limit), and IVTP over `/kvm`: CONNECTION_ALLOWED, validation (or rejection),
 * power status, MAX_SESSION_CLOSE when too many KVM sessions are open, and
 * video fragmented like a real BMC (first fragment with the 86-byte header,
 * data-only fragments after it, messages split across and packed within
 * WebSocket frames). Frames come from a frame-source callback.
 *
 * It counts logins, logouts and open KVM sessions so tests can check that
 * nothing leaks. Used by the tests and by the embedded demo (`bun run demo`).
 * Its IVTP code is deliberately separate from src/ami so each checks the other.
 */
import type { Server, ServerWebSocket } from "bun";
import { ivtpPacket, videoFragment } from "./ivtp-packets.ts";
import { MOCK_BMC_CERT, MOCK_BMC_KEY } from "./mock-bmc-cert.ts";
import { prng } from "./prng.ts";

/** Gives the frame (86-byte header + compressed data) to send for a GET_FULL_SCREEN or a pushed update. */
export type BmcFrameSource = (request: { connection: number; request: number }) => Uint8Array | Promise<Uint8Array>;

/** Where the mock stops answering, to test time limits. */
export type BmcStallPoint =
	| "viewer"
	| "login"
	| "kvm-token"
	| "ws-upgrade"
	| "allowed"
	| "validation"
	| "power"
	| "frame";

export interface MockBmcOptions {
	frames: BmcFrameSource;
	username?: string;
	password?: string;
	/** How the viewer page hands out QSESSIONID. */
	cookieDelivery?: "set-cookie" | "token-param" | "inline-script";
	/** The method /api/kvm/token accepts; the other gets 405. */
	tokenMethod?: "GET" | "POST";
	/** The WebSocket subprotocol the BMC picks ("none" = picks none; the AMI viewer then speaks base64). */
	subprotocol?: "binary" | "base64" | "none";
	maxKvmSessions?: number;
	maxWebSessions?: number;
	/** VALIDATED_VIDEO_SESSION result byte to answer instead of checking the token (0 rejected, 2 KVM disabled). */
	validation?: number;
	poweredOn?: boolean;
	/** Answer GET_FULL_SCREEN with PAINT_BLANK_SCREEN (no video signal). */
	blankScreen?: boolean;
	/** Compressed bytes per video fragment: fixed, or a random range. */
	fragmentBytes?: number | [number, number];
	/** How IVTP messages map to WebSocket frames. */
	wsChunking?: "message" | "random" | "coalesce";
	seed?: number;
	/** Send the status packets real BMCs send (KVM sharing, active clients, licence, LEDs): unknown to our client. */
	chatter?: boolean;
	frameDelayMs?: number;
	stall?: BmcStallPoint;
	/** Close the KVM WebSocket half-way through the n-th frame (1-based). */
	closeMidFrame?: number;
	/** Serve a generic HTML page at this endpoint instead of the BMC's answer. */
	unexpectedHtml?: "viewer" | "kvm-token" | "login";
	/** Send unsolicited frames this often once streaming, as a live console does. */
	pushFramesEveryMs?: number;
	/** `mouse_mode` of /api/settings/media/adviser (default 2, absolute). */
	mouseMode?: number;
	/** Every KVM session is validated as a slave (index 1), as when another viewer holds control. */
	slave?: boolean;
	/** Called for each decoded input event of a master session (the demo's shell types with it). */
	onInput?: (event: BmcInputEvent) => void;
	/** Called after a power control request changed the power state. */
	onPower?: (action: BmcPowerAction, poweredOn: boolean) => void;
}

export type BmcPowerAction = "off" | "on" | "cycle" | "reset" | "shutdown";

/** A decoded HID report, as the host's USB stack would see it. */
export type BmcInputEvent =
	| { kind: "keyboard"; connection: number; modifiers: number; keys: number[] }
	| { kind: "mouse"; connection: number; buttons: number; x: number; y: number; wheel: number };

/** What the BMC's USB gadget would hold down right now (after the last report of any connection). */
export interface BmcHeldInput {
	modifiers: number;
	keys: number[];
	buttons: number;
}

export interface MockBmcStats {
	/** Successful POST /api/session. */
	logins: number;
	failedLogins: number;
	logouts: number;
	/** Web sessions from direct logins still open. */
	webSessions: number;
	viewerPages: number;
	viewerActivations: number;
	kvmTokensIssued: number;
	kvmTokenMethods: string[];
	/** WebSocket connections accepted in total. */
	kvmConnections: number;
	/** KVM WebSockets open now. */
	kvmOpen: number;
	/** Validated KVM sessions open now. */
	kvmSessions: number;
	fullScreenRequests: number;
	framesSent: number;
	keepAlives: number;
	/** Validation flag bytes received, in order. */
	validateFlags: number[];
	/** Packet types received that the mock does not handle. */
	unknownPackets: number;
	/** HID packets accepted (checksum, sequence and length right) from a master session. */
	hidPackets: number;
	/** HID packets from slave sessions, dropped as a real BMC drops them. */
	ignoredHidPackets: number;
	/** Every malformed HID packet, with what was wrong; the connection is closed on the first. */
	hidErrors: string[];
	/** Power control requests (IVTP 0x23 or the web API) by action code, in order. */
	powerCommands: number[];
	/** Of those, the ones that came through `POST /api/actions/power`. */
	webPowerCommands: number;
	powerStatusRequests: number;
	/** STOP_SESSION_IMMEDIATE (0x08) received from clients closing. */
	stopSessions: number;
}

interface WebSession {
	id: string;
	csrf: string;
	kind: "viewer" | "login";
	expired: boolean;
}

interface KvmConnection {
	id: number;
	session: WebSession;
	mode: "binary" | "base64";
	buffer: Uint8Array;
	validated: boolean;
	streaming: boolean;
	requests: number;
	framesSent: number;
	sending: Promise<void>;
	pushTimer?: ReturnType<typeof setInterval>;
	closed: boolean;
	ws?: ServerWebSocket<KvmConnection>;
	/** Session index sent in VALIDATED_VIDEO_SESSION: 0 master, else slave. */
	index: number;
	/** Sequence number of the last HID packet, if one came. */
	lastSequence?: number;
}

const T = {
	RESUME_REDIRECTION: 0x06,
	STOP_SESSION_IMMEDIATE: 0x08,
	PAINT_BLANK_SCREEN: 0x09,
	GET_FULL_SCREEN: 0x0b,
	VALIDATE_VIDEO_SESSION: 0x12,
	VALIDATED_VIDEO_SESSION: 0x13,
	KBD_LED_STATUS: 0x14,
	MAX_SESSION_CLOSE: 0x16,
	CONNECTION_ALLOWED: 0x17,
	VIDEO_PACKETS: 0x19,
	KVM_SHARING: 0x20,
	POWER_STATUS: 0x22,
	ACTIVE_CLIENTS: 0x27,
	MEDIA_LICENSE_STATUS: 0x35,
	KEEP_ALIVE: 0x39,
	CONNECTION_COMPLETE: 0x3a,
	HID_PACKET: 0x01,
	POWER_CONTROL_REQUEST: 0x23,
	POWER_CONTROL_RESPONSE: 0x24,
};

const POWER_ACTIONS: Record<number, BmcPowerAction> = { 0: "off", 1: "on", 2: "cycle", 3: "reset", 5: "shutdown" };

function cString(bytes: Uint8Array, offset: number, length: number): string {
	const field = bytes.subarray(offset, offset + length);
	const end = field.indexOf(0);
	return new TextDecoder().decode(field.subarray(0, end < 0 ? field.length : end));
}

function randomHex(bytes: number): string {
	return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString("hex");
}

export class MockBmc {
	readonly stats: MockBmcStats = {
		logins: 0,
		failedLogins: 0,
		logouts: 0,
		webSessions: 0,
		viewerPages: 0,
		viewerActivations: 0,
		kvmTokensIssued: 0,
		kvmTokenMethods: [],
		kvmConnections: 0,
		kvmOpen: 0,
		kvmSessions: 0,
		fullScreenRequests: 0,
		framesSent: 0,
		keepAlives: 0,
		validateFlags: [],
		unknownPackets: 0,
		hidPackets: 0,
		ignoredHidPackets: 0,
		hidErrors: [],
		powerCommands: [],
		webPowerCommands: 0,
		powerStatusRequests: 0,
		stopSessions: 0,
	};
	/** Every decoded input event of master sessions, in order. */
	readonly inputEvents: BmcInputEvent[] = [];
	/** The USB gadget's state: what the host sees held down now. */
	readonly held: BmcHeldInput = { modifiers: 0, keys: [], buttons: 0 };
	/** Every secret this BMC handed out (session cookies, CSRF tokens, viewer-URL access tokens, KVM tokens), for leak scans. */
	readonly issued = {
		sessionIds: [] as string[],
		csrfTokens: [] as string[],
		accessTokens: [] as string[],
		kvmTokens: [] as string[],
	};
	/** Changeable while running, e.g. to power the server off between captures. */
	options: MockBmcOptions;
	private server: Server<KvmConnection> | undefined;
	private readonly sessions = new Map<string, WebSession>();
	/** Viewer-URL access tokens → the session they open. */
	private readonly viewerTokens = new Map<string, WebSession>();
	/** One-time KVM tokens → the web session that asked. */
	private readonly kvmTokens = new Map<string, WebSession>();
	private readonly connections = new Set<KvmConnection>();
	private nextConnection = 1;
	private readonly random: () => number;

	constructor(options: MockBmcOptions) {
		this.options = options;
		this.random = prng(options.seed ?? 1);
	}

	get username(): string {
		return this.options.username ?? "admin";
	}

	get password(): string {
		return this.options.password ?? "mock-bmc-password";
	}

	/** All of `issued` in one list. */
	issuedSecrets(): string[] {
		return Object.values(this.issued).flat();
	}

	/** Starts on 127.0.0.1, on a free port unless one is given. */
	async start(port = 0): Promise<this> {
		this.server = Bun.serve<KvmConnection>({
			hostname: "127.0.0.1",
			port,
			tls: { cert: MOCK_BMC_CERT, key: MOCK_BMC_KEY },
			fetch: (req, server) => this.handle(req, server),
			websocket: {
				backpressureLimit: 256 * 1024 * 1024,
				open: (ws) => this.onOpen(ws),
				message: (ws, message) => this.onMessage(ws, message),
				close: (ws) => this.onClose(ws),
			},
		});
		return this;
	}

	get port(): number {
		if (!this.server?.port) throw new Error("mock BMC not started");
		return this.server.port;
	}

	get origin(): string {
		return `https://127.0.0.1:${this.port}`;
	}

	/** A fresh viewer URL, as OVH hands out for an IPMI console access. */
	viewerUrl(): string {
		const session = this.newSession("viewer");
		const delivery = this.options.cookieDelivery ?? "set-cookie";
		if (delivery === "token-param") return `${this.origin}/kvm/viewer?token=${session.id}&lang=en`;
		// Firmwares that mint the session from a separate access token (in the query or the path).
		const access = randomHex(16);
		this.issued.accessTokens.push(access);
		this.viewerTokens.set(access, session);
		if (delivery === "set-cookie") return `${this.origin}/kvm/viewer?token=${access}&lang=en`;
		return `${this.origin}/kvm/viewer/${access}`;
	}

	/** Makes every viewer URL and viewer session issued so far expire. */
	expireViewerUrls(): void {
		for (const s of this.sessions.values()) if (s.kind === "viewer") s.expired = true;
	}

	/** Drops every KVM WebSocket at once, as a BMC reboot would. */
	dropKvmConnections(): void {
		for (const c of this.connections) c.ws?.terminate();
	}

	/** Sends raw bytes on every open KVM WebSocket (tests: garbage, truncated packets). */
	sendRawToKvm(bytes: Uint8Array): void {
		for (const c of this.connections) this.sendRaw(c, bytes);
	}

	async stop(): Promise<void> {
		for (const c of this.connections) if (c.pushTimer) clearInterval(c.pushTimer);
		await this.server?.stop(true);
		this.server = undefined;
	}

	// -------------------------------------------------------------------------
	// HTTP

	private newSession(kind: WebSession["kind"]): WebSession {
		const session: WebSession = { id: randomHex(16), csrf: randomHex(8), kind, expired: false };
		this.issued.sessionIds.push(session.id);
		this.issued.csrfTokens.push(session.csrf);
		this.sessions.set(session.id, session);
		return session;
	}

	private sessionOf(req: Request): WebSession | undefined {
		const match = /(?:^|;\s*)QSESSIONID=([^;\s]+)/.exec(req.headers.get("cookie") ?? "");
		const session = match?.[1] ? this.sessions.get(match[1]) : undefined;
		return session && !session.expired ? session : undefined;
	}

	private async handle(req: Request, server: Server<KvmConnection>): Promise<Response | undefined> {
		const url = new URL(req.url);
		const path = url.pathname;
		if (path === "/kvm") return this.upgrade(req, server);
		if (path === "/kvm/viewer" || path.startsWith("/kvm/viewer/")) return this.viewerPage(url);
		if (path === "/viewer.html") {
			if (this.sessionOf(req)) this.stats.viewerActivations++;
			return html(
				"<!DOCTYPE html><html><head><title>KVM Viewer</title></head><body><canvas id=kvm></canvas></body></html>",
			);
		}
		if (path === "/api/kvm/token") return this.kvmToken(req);
		if (path === "/api/session" && req.method === "POST") return this.login(req);
		if (path === "/api/session" && req.method === "DELETE") return this.logout(req);
		if (path === "/api/chassis-status" && req.method === "GET") return this.chassisStatus(req);
		if (path === "/api/settings/media/adviser" && req.method === "GET") {
			const session = this.apiSession(req);
			if (session instanceof Response) return session;
			return Response.json({ mouse_mode: this.options.mouseMode ?? 2, keyboard_layout: "AD", retry_count: 3 });
		}
		if (path === "/api/actions/power" && req.method === "POST") return this.powerAction(req);
		return html("<html><body><h1>404 Not Found</h1></body></html>", 404);
	}

	private async viewerPage(url: URL): Promise<Response> {
		this.stats.viewerPages++;
		if (this.options.stall === "viewer") return never();
		if (this.options.unexpectedHtml === "viewer") return genericPage();
		const delivery = this.options.cookieDelivery ?? "set-cookie";
		const token = (delivery === "inline-script" ? url.pathname.split("/")[3] : url.searchParams.get("token")) ?? "";
		const session = delivery === "token-param" ? this.sessions.get(token) : this.viewerTokens.get(token);
		if (delivery !== "token-param" && (!session || session.expired)) {
			// What MegaRAC does with a stale link: back to the login page, no session.
			return new Response(null, { status: 302, headers: { Location: "/#login" } });
		}
		const csrf = session?.csrf ?? randomHex(8);
		const cookieScript =
			delivery === "token-param"
				? `var token = new URLSearchParams(location.search).get("token"); document.cookie = "QSESSIONID=" + token + "; path=/";`
				: delivery === "inline-script"
					? `document.cookie = "QSESSIONID=${session?.id}; path=/";`
					: "";
		const page = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Redirecting to the KVM viewer</title></head>
<body><script>
${cookieScript}
sessionStorage.setItem("garc", "${csrf}");
window.location.href = "/viewer.html";
</script></body></html>`;
		const headers: Record<string, string> = { "Content-Type": "text/html; charset=utf-8" };
		if (delivery === "set-cookie" && session)
			headers["Set-Cookie"] = `QSESSIONID=${session.id}; path=/; secure; HttpOnly`;
		return new Response(page, { headers });
	}

	private async kvmToken(req: Request): Promise<Response> {
		this.stats.kvmTokenMethods.push(req.method);
		if (this.options.stall === "kvm-token") return never();
		if (this.options.unexpectedHtml === "kvm-token") return genericPage();
		const allowed = this.options.tokenMethod ?? "GET";
		if (req.method !== allowed) return Response.json({ error: "Method Not Allowed" }, { status: 405 });
		const session = this.sessionOf(req);
		if (!session) return Response.json({ cc: 7, error: "Unauthorized" }, { status: 401 });
		if (req.headers.get("x-csrftoken") !== session.csrf) {
			return Response.json({ cc: 7, error: "Invalid CSRF token" }, { status: 403 });
		}
		const token = randomHex(20);
		this.issued.kvmTokens.push(token);
		this.kvmTokens.set(token, session);
		this.stats.kvmTokensIssued++;
		return Response.json({ client_ip: "127.0.0.1", token, session: session.id.slice(0, 8) });
	}

	private async login(req: Request): Promise<Response> {
		if (this.options.stall === "login") return never();
		if (this.options.unexpectedHtml === "login") return genericPage();
		const form = new URLSearchParams(await req.text());
		if (form.get("username") !== this.username || form.get("password") !== this.password) {
			this.stats.failedLogins++;
			return Response.json({ cc: 1, error: "Invalid Authentication" }, { status: 401 });
		}
		if (this.stats.webSessions >= (this.options.maxWebSessions ?? 10)) {
			return Response.json({ cc: 2, error: "Maximum number of sessions reached" }, { status: 503 });
		}
		const session = this.newSession("login");
		this.stats.logins++;
		this.stats.webSessions++;
		return Response.json(
			{
				ok: 0,
				privilege: 4,
				extendedpriv: 259,
				racsession_id: this.stats.logins,
				remote_addr: "127.0.0.1",
				server_name: "127.0.0.1",
				server_addr: "127.0.0.1",
				HTTPSEnabled: 1,
				CSRFToken: session.csrf,
			},
			{ headers: { "Set-Cookie": `QSESSIONID=${session.id}; path=/; secure; HttpOnly` } },
		);
	}

	/** The web session and CSRF token of an API call, or the error a MegaRAC BMC answers. */
	private apiSession(req: Request): WebSession | Response {
		const session = this.sessionOf(req);
		if (!session) return Response.json({ cc: 7, error: "Unauthorized" }, { status: 401 });
		if (req.headers.get("x-csrftoken") !== session.csrf) {
			return Response.json({ cc: 7, error: "Invalid CSRF token" }, { status: 403 });
		}
		return session;
	}

	private chassisStatus(req: Request): Response {
		const session = this.apiSession(req);
		if (session instanceof Response) return session;
		this.stats.powerStatusRequests++;
		return Response.json({ power_status: this.options.poweredOn === false ? 0 : 1, led_status: 0 });
	}

	private async powerAction(req: Request): Promise<Response> {
		const session = this.apiSession(req);
		if (session instanceof Response) return session;
		let command: unknown;
		try {
			command = (JSON.parse(await req.text()) as { power_command?: unknown }).power_command;
		} catch {
			return Response.json({ cc: 1, error: "Invalid JSON" }, { status: 400 });
		}
		const action = typeof command === "number" ? POWER_ACTIONS[command] : undefined;
		if (!action) return Response.json({ cc: 1, error: "Invalid power command" }, { status: 400 });
		this.stats.powerCommands.push(command as number);
		this.stats.webPowerCommands++;
		this.applyPower(action);
		return Response.json({ power_command: command });
	}

	private applyPower(action: BmcPowerAction): void {
		const on = action !== "off" && action !== "shutdown";
		this.options.poweredOn = on;
		this.options.onPower?.(action, on);
	}

	private logout(req: Request): Response {
		const session = this.sessionOf(req);
		if (!session) return Response.json({ cc: 7, error: "Unauthorized" }, { status: 401 });
		if (req.headers.get("x-csrftoken") !== session.csrf) {
			return Response.json({ cc: 7, error: "Invalid CSRF token" }, { status: 403 });
		}
		this.sessions.delete(session.id);
		if (session.kind === "login") this.stats.webSessions--;
		this.stats.logouts++;
		// A web logout ends that session's KVM, as MegaRAC does (STOP_SESSION_IMMEDIATE, reason 7).
		for (const c of this.connections) {
			if (c.session === session && !c.closed) {
				this.send(c, [ivtpPacket(T.STOP_SESSION_IMMEDIATE, 7)]);
				c.ws?.close(1000, "web logout");
			}
		}
		return Response.json({});
	}

	private async upgrade(req: Request, server: Server<KvmConnection>): Promise<Response | undefined> {
		if (this.options.stall === "ws-upgrade") return never();
		const session = this.sessionOf(req);
		const originOk = req.headers.get("origin") === this.origin;
		const offered = (req.headers.get("sec-websocket-protocol") ?? "").split(",").map((s) => s.trim());
		const pick = this.options.subprotocol ?? "binary";
		const headers: Record<string, string> = {};
		if (pick !== "none" && offered.includes(pick)) headers["Sec-WebSocket-Protocol"] = pick;
		const connection: KvmConnection = {
			id: this.nextConnection++,
			// A missing cookie or Origin is refused right after the upgrade, as the BMC does.
			session: session && originOk ? session : { id: "", csrf: "", kind: "viewer", expired: true },
			mode: pick === "binary" ? "binary" : "base64",
			buffer: new Uint8Array(0),
			validated: false,
			streaming: false,
			requests: 0,
			framesSent: 0,
			sending: Promise.resolve(),
			closed: false,
			index: 0,
		};
		if (server.upgrade(req, { headers, data: connection })) return undefined;
		return new Response("WebSocket upgrade expected", { status: 400 });
	}

	// -------------------------------------------------------------------------
	// IVTP

	private onOpen(ws: ServerWebSocket<KvmConnection>): void {
		const c = ws.data;
		c.ws = ws;
		this.connections.add(c);
		this.stats.kvmConnections++;
		this.stats.kvmOpen++;
		if (c.session.expired) {
			ws.close(1008, "session expired");
			return;
		}
		if (this.options.stall === "allowed") return;
		this.send(c, [ivtpPacket(T.CONNECTION_ALLOWED, 0)]);
	}

	private onClose(ws: ServerWebSocket<KvmConnection>): void {
		const c = ws.data;
		if (c.closed) return;
		c.closed = true;
		if (c.pushTimer) clearInterval(c.pushTimer);
		this.connections.delete(c);
		this.stats.kvmOpen--;
		if (c.validated) this.stats.kvmSessions--;
	}

	private onMessage(ws: ServerWebSocket<KvmConnection>, message: string | Buffer): void {
		const c = ws.data;
		const bytes = typeof message === "string" ? Buffer.from(message, "base64") : new Uint8Array(message);
		const joined = new Uint8Array(c.buffer.length + bytes.length);
		joined.set(c.buffer);
		joined.set(bytes, c.buffer.length);
		let at = 0;
		while (joined.length - at >= 8) {
			const view = new DataView(joined.buffer, joined.byteOffset + at, 8);
			const type = view.getUint16(0, true);
			const size = view.getUint32(2, true);
			if (size > 65_536) {
				ws.close(1002, "bad packet");
				return;
			}
			if (joined.length - at < 8 + size) break;
			this.onPacket(c, type, joined.subarray(at + 8, at + 8 + size), view.getUint16(6, true));
			at += 8 + size;
		}
		c.buffer = joined.slice(at);
	}

	private onPacket(c: KvmConnection, type: number, payload: Uint8Array, status: number): void {
		switch (type) {
			case T.CONNECTION_COMPLETE:
				return;
			case T.VALIDATE_VIDEO_SESSION:
				this.onValidate(c, payload);
				return;
			case T.RESUME_REDIRECTION:
				if (!c.validated) return;
				c.streaming = true;
				this.startPushing(c);
				return;
			case T.POWER_STATUS:
				if (!c.validated || this.options.stall === "power") return;
				this.stats.powerStatusRequests++;
				this.send(c, [ivtpPacket(T.POWER_STATUS, this.options.poweredOn === false ? 0 : 1)]);
				return;
			case T.POWER_CONTROL_REQUEST:
				this.onPowerControl(c, status);
				return;
			case T.HID_PACKET:
				this.onHid(c, status, payload);
				return;
			case T.GET_FULL_SCREEN:
				if (!c.validated) return;
				this.stats.fullScreenRequests++;
				c.requests++;
				if (this.options.stall === "frame") return;
				if (this.options.blankScreen) {
					this.send(c, [ivtpPacket(T.PAINT_BLANK_SCREEN, 0)]);
					return;
				}
				this.queueFrame(c, c.requests);
				return;
			case T.KEEP_ALIVE:
				this.stats.keepAlives++;
				return;
			case T.STOP_SESSION_IMMEDIATE:
				this.stats.stopSessions++;
				// The master slot is free at once: the connection no longer counts.
				if (c.validated) {
					c.validated = false;
					this.stats.kvmSessions--;
				}
				return;
			default:
				this.stats.unknownPackets++;
		}
	}

	private onValidate(c: KvmConnection, payload: Uint8Array): void {
		if (c.validated || payload.length !== 373) return;
		this.stats.validateFlags.push(payload[0] ?? -1);
		if (this.options.stall === "validation") return;
		const token = cString(payload, 1, 129);
		const owner = this.kvmTokens.get(token);
		this.kvmTokens.delete(token);
		let result = owner === c.session ? 1 : 0;
		if (this.options.validation !== undefined) result = this.options.validation;
		if (result !== 1) {
			this.send(c, [ivtpPacket(T.VALIDATED_VIDEO_SESSION, 0, new Uint8Array([result, 0]))]);
			return;
		}
		if (this.stats.kvmSessions >= (this.options.maxKvmSessions ?? 2)) {
			this.send(c, [ivtpPacket(T.MAX_SESSION_CLOSE, 0)]);
			c.ws?.close(1000, "max sessions");
			return;
		}
		// The first validated session is the master (index 0); later ones share it as slaves.
		const masterTaken = [...this.connections].some((o) => o !== c && o.validated && o.index === 0);
		c.index = this.options.slave ? 1 : masterTaken ? this.stats.kvmSessions : 0;
		c.validated = true;
		this.stats.kvmSessions++;
		// Status 2 as seen on real firmware; clients look at the payload only.
		const messages = [ivtpPacket(T.VALIDATED_VIDEO_SESSION, 2, new Uint8Array([1, c.index & 0xff]))];
		if (this.options.chatter ?? true) {
			messages.push(
				ivtpPacket(T.KVM_SHARING, 2, new Uint8Array(134)),
				ivtpPacket(T.MEDIA_LICENSE_STATUS, 1),
				ivtpPacket(T.KBD_LED_STATUS, 0, new Uint8Array([2])),
				ivtpPacket(T.ACTIVE_CLIENTS, 0, new Uint8Array(134)),
			);
		}
		this.send(c, messages);
	}

	/**
	 * Checks an IVTP HID packet as the BMC's USB redirection does: IUSB signature and version, header
	 * length, checksum over the 32 header bytes, data length, device fields, the report length for the
	 * device, and a sequence number one above the last. A bad packet is recorded and the connection
	 * closed, so a test sees it.
	 */
	private onHid(c: KvmConnection, status: number, payload: Uint8Array): void {
		const problem = c.validated
			? iusbProblem(status, payload, c.lastSequence)
			: "HID packet before the session was validated";
		if (problem) {
			this.hidError(c, problem);
			return;
		}
		const view = new DataView(payload.buffer, payload.byteOffset, payload.length);
		c.lastSequence = view.getUint32(24, true);
		if (c.index !== 0) {
			this.stats.ignoredHidPackets++;
			return;
		}
		this.stats.hidPackets++;
		const report = payload.subarray(33);
		let event: BmcInputEvent;
		if (payload[17] === 0x30) {
			const keys = [...report.subarray(2)].filter((k) => k !== 0);
			event = { kind: "keyboard", connection: c.id, modifiers: report[0] ?? 0, keys };
			this.held.modifiers = event.modifiers;
			this.held.keys = keys;
		} else {
			const r = new DataView(report.buffer, report.byteOffset, report.length);
			event = {
				kind: "mouse",
				connection: c.id,
				buttons: r.getUint8(0),
				x: r.getUint16(1, true),
				y: r.getUint16(3, true),
				wheel: r.getInt8(5),
			};
			this.held.buttons = event.buttons;
		}
		this.inputEvents.push(event);
		this.options.onInput?.(event);
	}

	private hidError(c: KvmConnection, problem: string): void {
		this.stats.hidErrors.push(problem);
		console.error(`mock BMC: rejected a HID packet: ${problem}`);
		c.ws?.close(1002, "bad HID packet");
	}

	private onPowerControl(c: KvmConnection, code: number): void {
		if (!c.validated) return;
		this.stats.powerCommands.push(code);
		const action = POWER_ACTIONS[code];
		if (!action) {
			this.send(c, [ivtpPacket(T.POWER_CONTROL_RESPONSE, 1)]);
			return;
		}
		this.send(c, [ivtpPacket(T.POWER_CONTROL_RESPONSE, 0)]);
		this.applyPower(action);
	}

	/** Keys pressed (a usage newly down in a keyboard report) with the modifier mask held at that moment. */
	keyPresses(): Array<{ usage: number; modifiers: number }> {
		const out: Array<{ usage: number; modifiers: number }> = [];
		let before: number[] = [];
		for (const e of this.inputEvents) {
			if (e.kind !== "keyboard") continue;
			for (const k of e.keys) if (!before.includes(k)) out.push({ usage: k, modifiers: e.modifiers });
			before = e.keys;
		}
		return out;
	}

	private startPushing(c: KvmConnection): void {
		const every = this.options.pushFramesEveryMs;
		if (!every || c.pushTimer) return;
		c.pushTimer = setInterval(() => this.queueFrame(c, 0), every);
	}

	/** Frames go out one after another, never interleaved. */
	private queueFrame(c: KvmConnection, request: number): void {
		c.sending = c.sending.then(() => this.sendFrame(c, request)).catch(() => {});
	}

	private async sendFrame(c: KvmConnection, request: number): Promise<void> {
		if (c.closed) return;
		if (this.options.frameDelayMs) await Bun.sleep(this.options.frameDelayMs);
		const frame = await this.options.frames({ connection: c.id, request });
		if (c.closed) return;
		const messages = this.fragment(frame);
		c.framesSent++;
		if (this.options.closeMidFrame === c.framesSent) {
			const all = Buffer.concat(messages);
			this.sendRaw(c, all.subarray(0, Math.floor(all.length / 2)));
			c.ws?.close(1011, "going away");
			return;
		}
		this.stats.framesSent++;
		this.send(c, messages);
	}

	/** VIDEO_PACKETS: fragment number, then the header and data in the first, data alone in the rest. */
	private fragment(frame: Uint8Array): Uint8Array[] {
		const size = this.options.fragmentBytes ?? 30_000;
		const messages: Uint8Array[] = [];
		let at = 0;
		let n = 0;
		do {
			const room = typeof size === "number" ? size : size[0] + Math.floor(this.random() * (size[1] - size[0] + 1));
			// The first fragment carries the whole 86-byte header plus some data.
			const take = Math.min(frame.length - at, n === 0 ? 86 + Math.max(0, room) : Math.max(1, room));
			const last = at + take >= frame.length;
			const payload = videoFragment((n & 0x7fff) | (last ? 0x8000 : 0), frame.subarray(at, at + take));
			messages.push(ivtpPacket(T.VIDEO_PACKETS, 0, payload));
			at += take;
			n++;
		} while (at < frame.length);
		return messages;
	}

	/** Sends IVTP messages, mapped to WebSocket frames as the options say. */
	private send(c: KvmConnection, messages: Uint8Array[]): void {
		const chunking = this.options.wsChunking ?? "message";
		if (chunking === "message") {
			for (const m of messages) this.sendRaw(c, m);
			return;
		}
		const all = Buffer.concat(messages);
		if (chunking === "coalesce") {
			this.sendRaw(c, all);
			return;
		}
		let at = 0;
		while (at < all.length) {
			// Mostly small cuts (splitting headers), sometimes large runs (packing messages).
			const r = this.random();
			const cut = r < 0.3 ? 1 + Math.floor(this.random() * 9) : 1 + Math.floor(this.random() * 4096);
			this.sendRaw(c, all.subarray(at, at + cut));
			at += cut;
		}
	}

	private sendRaw(c: KvmConnection, bytes: Uint8Array): void {
		if (c.closed || !c.ws) return;
		if (c.mode === "binary") c.ws.sendBinary(bytes);
		else c.ws.sendText(Buffer.from(bytes).toString("base64"));
	}
}

/** What is wrong with an IVTP HID packet (its header status and payload), or undefined when nothing is. */
export function iusbProblem(status: number, payload: Uint8Array, lastSequence: number | undefined): string | undefined {
	if (status !== 0) return `IVTP status ${status}, expected 0`;
	if (payload.length < 33) return `payload of ${payload.length} bytes, shorter than the IUSB header and length byte`;
	const signature = new TextDecoder().decode(payload.subarray(0, 8));
	if (signature !== "IUSB    ") return `signature ${JSON.stringify(signature)}, expected "IUSB    "`;
	if (payload[8] !== 1 || payload[9] !== 0) return `IUSB version ${payload[8]}.${payload[9]}, expected 1.0`;
	if (payload[10] !== 32) return `header length ${payload[10]}, expected 32`;
	let sum = 0;
	for (let i = 0; i < 32; i++) sum += payload[i] as number;
	if ((sum & 0xff) !== 0) return `header checksum wrong (bytes sum to ${sum & 0xff} mod 256, expected 0)`;
	const view = new DataView(payload.buffer, payload.byteOffset, payload.length);
	const reportLength = payload[32] as number;
	if (view.getUint32(12, true) !== 1 + reportLength)
		return `data length ${view.getUint32(12, true)}, expected ${1 + reportLength}`;
	if (payload.length !== 33 + reportLength)
		return `payload of ${payload.length} bytes for a ${reportLength}-byte report (expected ${33 + reportLength})`;
	if (payload[19] !== 0x80) return `direction 0x${payload[19]?.toString(16)}, expected 0x80`;
	if (payload[20] !== 2) return `device number ${payload[20]}, expected 2`;
	const device = payload[17];
	if (device === 0x30) {
		if (payload[18] !== 0x10 || payload[21] !== 0) return "keyboard packet with a mouse protocol or interface";
		if (reportLength !== 8) return `keyboard report of ${reportLength} bytes, expected 8`;
	} else if (device === 0x31) {
		if (payload[18] !== 0x20 || payload[21] !== 1) return "mouse packet with a keyboard protocol or interface";
		if (reportLength !== 6) return `absolute mouse report of ${reportLength} bytes, expected 6`;
	} else {
		return `device type 0x${device?.toString(16)}, expected 0x30 (keyboard) or 0x31 (mouse)`;
	}
	const sequence = view.getUint32(24, true);
	if (lastSequence !== undefined && sequence !== (lastSequence + 1) >>> 0)
		return `sequence number ${sequence} after ${lastSequence}`;
	return undefined;
}

function html(body: string, status = 200): Response {
	return new Response(body, { status, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

/** What a captive portal or a BMC mid-update shows instead of its API. */
function genericPage(): Response {
	return html("<!DOCTYPE html><html><body><h1>Please wait</h1><p>Firmware update in progress.</p></body></html>");
}

/** A response that never comes (the connection is torn down when the server stops). */
function never(): Promise<Response> {
	return new Promise<Response>(() => {});
}

/** A frame file (86-byte header + compressed data), checked against its CompressSize. */
export function frameFileSource(bytes: Uint8Array): BmcFrameSource {
	const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
	if (bytes.length < 86 || view.getUint32(69, true) !== bytes.length - 86) {
		throw new Error("not a frame file: CompressSize does not match the data length");
	}
	return () => bytes;
}
