/**
 * A mock of the OVH API on loopback, strict where OVH is strict: it checks the
 * application key, the timestamp window and the SHA-1 request signature the way
 * OVH does (with its own signature code, not the client's), then the consumer
 * key's state and access rules, and answers with OVH's JSON error shapes
 * (`message`, `errorCode`, `httpCode` as a string, `class`) and an `X-Ovh-Queryid`.
 *
 * It serves what the OVH provider and the credential helper use: `/auth/time`,
 * `/auth/credential`, `/auth/currentCredential`, `/dedicated/server[/{name}]`,
 * `features/ipmi`, `features/ipmi/access` (POST + GET) and `task/{id}` with the
 * asynchronous states todo → doing → done over time. Knobs inject 403/429/5xx,
 * slow answers, tasks that never finish or fail, and empty access values.
 *
 * Outside the API base it serves `GET /ip` (a "what is my IP" service) and the
 * consumer key validation page (`/auth/?credentialToken=…`, "visiting" it validates).
 *
 * Lives in src/demo because the embedded demo runs it; tests import it from test/mocks.
 */
import type { Server } from "bun";
import { accessRulesForRequest } from "../providers/ovh/rules.ts";
import type { AccessRule, IpmiSupportedFeatures, TaskStatus } from "../providers/ovh/types.ts";

export const MOCK_APPLICATION_KEY = "mockAppKey7Hq2Lx9P";
export const MOCK_APPLICATION_SECRET = "mockAppSecret-Zr8Wf3Kd1Vn6Tq0Yb5Jm";
export const MOCK_CONSUMER_KEY = "mockConsumerKey-Gp4Xs7Ce2Lh9Ua3Rw";

/** The access rules the README asks for (the list ikvm-mcp defines once, without its purposes). */
export const README_ACCESS_RULES: AccessRule[] = accessRulesForRequest();

export interface MockViewerGrant {
	server: string;
	/** A fresh random token per access, for URLs shaped like OVH's (`?token=…`). */
	token: string;
	ipToAllow?: string;
	/** 1 for the first access POST on this server. */
	accessNumber: number;
}

export interface MockOvhServerSpec {
	/** Service name, e.g. ns3001234.ip-51-68-1.eu */
	name: string;
	datacenter?: string;
	ip?: string;
	reverse?: string | null;
	displayName?: string;
	powerState?: "poweron" | "poweroff";
	commercialRange?: string;
	os?: string;
	/** IPMI as `features/ipmi` reports it; default: activated with HTML5 KVM. */
	ipmi?: { activated?: boolean; features?: Partial<Record<keyof IpmiSupportedFeatures, boolean>> };
	/** The kvmipHtml5URL value handed out once an access task is done. */
	viewerUrl?: string | ((grant: MockViewerGrant) => string);
}

export type MockCredentialStatus = "validated" | "pendingValidation" | "expired" | "refused";

export interface MockConsumer {
	consumerKey: string;
	applicationKey: string;
	status: MockCredentialStatus;
	rules: AccessRule[];
	credentialId: number;
	validationToken?: string;
}

/** What to do to matching requests before OVH's own checks (as a front proxy or an overloaded API would). */
export interface MockOvhFault {
	method?: string;
	/** Matched against the path below the API base (no query), e.g. `/dedicated/server`; a string must match whole. */
	path?: string | RegExp;
	/** Answer with this status instead of handling the request. */
	status?: number;
	errorCode?: string;
	message?: string;
	/** Raw body instead of OVH's JSON error (e.g. a proxy's HTML page). */
	rawBody?: string;
	retryAfterSeconds?: number;
	/** Wait this long before answering (slow responses). */
	delayMs?: number;
	/** How many requests this applies to; default 1, Infinity for all. */
	times?: number;
}

/** How access tasks end: normally (`done`), never, or failed. */
export type MockTaskOutcome = "done" | "never" | "customerError" | "ovhError" | "cancelled";

export interface MockOvhApiOptions {
	servers?: MockOvhServerSpec[];
	applicationKey?: string;
	applicationSecret?: string;
	consumerKey?: string;
	/** Rules of the default consumer key; default README_ACCESS_RULES. */
	rules?: AccessRule[];
	/** Time a task spends in each of `todo` and `doing`. Default 300 ms. */
	taskStepMs?: number;
	taskOutcome?: MockTaskOutcome;
	/** OVH's clock minus ours. */
	clockOffsetSeconds?: number;
	/** Accepted distance between X-Ovh-Timestamp and OVH's clock (OVH does not publish it). Default 180 s. */
	timestampToleranceSeconds?: number;
	/** Lifetime of a granted viewer URL instead of the requested ttl (tests of expiry). */
	accessLifetimeMs?: number;
	/** What `GET /ip` answers. Default 203.0.113.7. */
	publicIp?: string;
	/** Region prefix of query ids. */
	region?: string;
}

export interface MockRequestRecord {
	method: string;
	/** Path below the API base without query, or the full path outside it (`/ip`). */
	path: string;
	query: string;
	status: number;
	/** Header names and values as received (lower-case names). */
	headers: Record<string, string>;
	body: string;
}

interface MockTask {
	taskId: number;
	server: string;
	function: string;
	createdAt: number;
	outcome: MockTaskOutcome;
	stepMs: number;
}

interface MockGrant {
	type: string;
	value: string;
	taskId: number;
	ttlMinutes: number;
	ipToAllow?: string;
	expiresAt?: number;
}

const API_BASE = "/1.0";
const MAX_RECORDS = 10_000;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const ACCESS_TYPES = ["kvmipHtml5URL", "kvmipJnlp", "serialOverLanSshKey", "serialOverLanURL"];
const TTLS = [1, 3, 5, 10, 15];
const HTTP_REASONS: Record<number, string> = {
	400: "Bad Request",
	401: "Unauthorized",
	403: "Forbidden",
	404: "Not Found",
	409: "Conflict",
	429: "Too Many Requests",
	500: "Internal Server Error",
	502: "Bad Gateway",
	503: "Service Unavailable",
	504: "Gateway Timeout",
};
const ERROR_CLASSES: Record<number, string> = {
	400: "Client::BadRequest",
	401: "Client::Unauthorized",
	403: "Client::Forbidden",
	404: "Client::NotFound",
	409: "Client::Conflict",
	429: "Client::TooManyRequests",
	500: "Server::InternalServerError",
	502: "Server::BadGateway",
	503: "Server::ServiceUnavailable",
	504: "Server::GatewayTimeout",
};

export const DEFAULT_MOCK_SERVERS: MockOvhServerSpec[] = [
	{
		name: "ns3001234.ip-51-68-1.eu",
		datacenter: "gra3",
		ip: "51.68.1.10",
		reverse: "web-01.example.net.",
		commercialRange: "advance-1",
	},
	{
		name: "ns3005678.ip-51-68-2.eu",
		datacenter: "rbx8",
		ip: "51.68.2.20",
		reverse: "db-01.example.net.",
		commercialRange: "scale-a1",
	},
	{
		name: "ns3009012.ip-51-68-3.eu",
		datacenter: "sbg3",
		ip: "51.68.3.30",
		reverse: null,
		commercialRange: "rise-1",
	},
];

export class MockOvhApi {
	readonly requests: MockRequestRecord[] = [];
	/** Body of every access POST, in order. */
	readonly accessRequests: Array<{ server: string; body: Record<string, unknown> }> = [];
	taskOutcome: MockTaskOutcome;
	taskStepMs: number;
	clockOffsetSeconds: number;
	accessLifetimeMs?: number;
	publicIp: string;
	/** The next N reads of an access value answer with an empty value. */
	emptyValueReads = 0;
	/** Most API requests in progress at once since start (slow faults make overlap visible). */
	peakInFlight = 0;
	private inFlight = 0;

	private server?: Server<undefined>;
	private readonly applications = new Map<string, string>();
	private readonly consumers = new Map<string, MockConsumer>();
	private readonly servers = new Map<string, MockOvhServerSpec>();
	private readonly tasks = new Map<number, MockTask>();
	private readonly grants = new Map<string, MockGrant[]>();
	private readonly accessCounts = new Map<string, number>();
	private readonly faults: MockOvhFault[] = [];
	private readonly tolerance: number;
	private readonly region: string;
	private nextTaskId = 4_200_001;
	private nextCredentialId = 1;
	private queryCounter = 0;

	constructor(options: MockOvhApiOptions = {}) {
		this.applications.set(
			options.applicationKey ?? MOCK_APPLICATION_KEY,
			options.applicationSecret ?? MOCK_APPLICATION_SECRET,
		);
		this.addConsumer({
			consumerKey: options.consumerKey ?? MOCK_CONSUMER_KEY,
			applicationKey: options.applicationKey ?? MOCK_APPLICATION_KEY,
			rules: options.rules ?? README_ACCESS_RULES,
			status: "validated",
		});
		for (const s of options.servers ?? DEFAULT_MOCK_SERVERS) this.servers.set(s.name, s);
		this.taskOutcome = options.taskOutcome ?? "done";
		this.taskStepMs = options.taskStepMs ?? 300;
		this.clockOffsetSeconds = options.clockOffsetSeconds ?? 0;
		this.tolerance = options.timestampToleranceSeconds ?? 180;
		this.accessLifetimeMs = options.accessLifetimeMs;
		this.publicIp = options.publicIp ?? "203.0.113.7";
		this.region = options.region ?? "EU";
	}

	/** Starts a mock on a free loopback port. */
	static async start(options: MockOvhApiOptions = {}): Promise<MockOvhApi> {
		const mock = new MockOvhApi(options);
		mock.listen();
		return mock;
	}

	listen(): void {
		if (this.server) return;
		this.server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => this.handle(req) });
	}

	get origin(): string {
		if (!this.server) throw new Error("mock OVH API is not started");
		return `http://127.0.0.1:${this.server.port}`;
	}

	/** The value for OVH_ENDPOINT. */
	get endpoint(): string {
		return `${this.origin}${API_BASE}`;
	}

	/** The value for OVH_IP_DISCOVERY_URL. */
	get ipDiscoveryUrl(): string {
		return `${this.origin}/ip`;
	}

	async stop(): Promise<void> {
		await this.server?.stop(true);
		this.server = undefined;
	}

	// ---- knobs -------------------------------------------------------------

	addApplication(applicationKey: string, applicationSecret: string): void {
		this.applications.set(applicationKey, applicationSecret);
	}

	addConsumer(consumer: Omit<MockConsumer, "credentialId"> & { credentialId?: number }): MockConsumer {
		const full: MockConsumer = { ...consumer, credentialId: consumer.credentialId ?? this.nextCredentialId++ };
		this.consumers.set(full.consumerKey, full);
		return full;
	}

	consumer(consumerKey: string): MockConsumer | undefined {
		return this.consumers.get(consumerKey);
	}

	addServer(spec: MockOvhServerSpec): void {
		this.servers.set(spec.name, spec);
	}

	setViewerUrl(server: string, viewerUrl: MockOvhServerSpec["viewerUrl"]): void {
		const spec = this.servers.get(server);
		if (!spec) throw new Error(`mock OVH API has no server ${server}`);
		spec.viewerUrl = viewerUrl;
	}

	/** Makes every granted viewer URL of `server` expired. */
	expireAccess(server: string): void {
		for (const grant of this.grants.get(server) ?? []) grant.expiresAt = Date.now() - 1000;
	}

	/** Lets every task still running finish now, as `done` (tests that hold a task with "never"). */
	finishTasks(): void {
		for (const task of this.tasks.values()) {
			if (statusOf(task) !== "todo" && statusOf(task) !== "doing") continue;
			task.outcome = "done";
			task.stepMs = 0;
			task.createdAt = Date.now() - 1;
		}
	}

	inject(fault: MockOvhFault): void {
		this.faults.push({ times: 1, ...fault });
	}

	clearFaults(): void {
		this.faults.length = 0;
	}

	/** Requests seen for a method and path (string: exact; RegExp: tested). */
	count(method: string, path: string | RegExp): number {
		return this.requests.filter((r) => r.method === method && matches(path, r.path)).length;
	}

	accessPosts(server?: string): number {
		return this.accessRequests.filter((r) => server === undefined || r.server === server).length;
	}

	// ---- HTTP --------------------------------------------------------------

	private async handle(req: Request): Promise<Response> {
		const url = new URL(req.url);
		const body = req.method === "GET" || req.method === "HEAD" ? "" : await req.text();
		const inApi = url.pathname === API_BASE || url.pathname.startsWith(`${API_BASE}/`);
		const path = inApi ? url.pathname.slice(API_BASE.length) || "/" : url.pathname;
		const headers: Record<string, string> = {};
		req.headers.forEach((value, name) => {
			headers[name.toLowerCase()] = value;
		});
		const record: MockRequestRecord = { method: req.method, path, query: url.search, status: 0, headers, body };
		this.requests.push(record);
		// The demo runs for hours: keep the recent history only.
		if (this.requests.length > MAX_RECORDS) this.requests.splice(0, this.requests.length - MAX_RECORDS);

		let response: Response;
		this.inFlight++;
		this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
		try {
			response = inApi ? await this.handleApi(req, url, path, body) : this.handleOutside(url);
		} catch (error) {
			response = this.error(500, `Internal error: ${String(error)}`);
		} finally {
			this.inFlight--;
		}
		record.status = response.status;
		return response;
	}

	private handleOutside(url: URL): Response {
		if (url.pathname === "/ip") {
			if (url.searchParams.get("format") === "json") return Response.json({ ip: this.publicIp });
			return new Response(this.publicIp, { headers: { "content-type": "text/plain" } });
		}
		if (url.pathname === "/auth/" || url.pathname === "/auth") {
			// The page a user opens to validate a consumer key; opening it here stands for logging in.
			const token = url.searchParams.get("credentialToken");
			const consumer = [...this.consumers.values()].find((c) => token && c.validationToken === token);
			if (!consumer) return new Response("Unknown or expired credential token", { status: 404 });
			consumer.status = "validated";
			return new Response("<html><body>Your credential is validated.</body></html>", {
				headers: { "content-type": "text/html" },
			});
		}
		return new Response("Not found", { status: 404 });
	}

	private async handleApi(req: Request, url: URL, path: string, body: string): Promise<Response> {
		const fault = this.takeFault(req.method, path);
		if (fault?.delayMs) await Bun.sleep(fault.delayMs);
		if (fault?.status) {
			const response = fault.rawBody
				? new Response(fault.rawBody, {
						status: fault.status,
						headers: { "content-type": "text/html", "x-ovh-queryid": this.queryId() },
					})
				: this.error(fault.status, fault.message ?? HTTP_REASONS[fault.status] ?? "Error", fault.errorCode);
			if (fault.retryAfterSeconds !== undefined) response.headers.set("retry-after", String(fault.retryAfterSeconds));
			return response;
		}

		// Unauthenticated routes.
		if (req.method === "GET" && path === "/auth/time") return this.json(this.nowSeconds());
		if (req.method === "POST" && path === "/auth/credential") return this.createCredential(req, url, body);

		const denied = this.authenticate(req, path, body);
		if (denied) return denied;
		const consumer = this.consumers.get(req.headers.get("x-ovh-consumer") ?? "") as MockConsumer;
		return this.route(req.method, path, url, body, consumer);
	}

	/** OVH's checks, in OVH's order: application, timestamp, signature, credential, access rule. */
	private authenticate(req: Request, path: string, body: string): Response | null {
		const applicationKey = req.headers.get("x-ovh-application") ?? "";
		const secret = this.applications.get(applicationKey);
		if (!secret) return this.error(403, "Invalid application key", "INVALID_KEY");
		const consumerKey = req.headers.get("x-ovh-consumer");
		if (!consumerKey) return this.error(401, "You must login first");
		const timestamp = req.headers.get("x-ovh-timestamp") ?? "";
		if (!/^\d+$/.test(timestamp) || Math.abs(Number(timestamp) - this.nowSeconds()) > this.tolerance) {
			return this.error(400, "Query out of time", "QUERY_TIME_OUT");
		}
		const preimage = [secret, consumerKey, req.method, req.url, body, timestamp].join("+");
		const expected = `$1$${new Bun.CryptoHasher("sha1").update(preimage).digest("hex")}`;
		if (req.headers.get("x-ovh-signature") !== expected)
			return this.error(400, "Invalid signature", "INVALID_SIGNATURE");
		const consumer = this.consumers.get(consumerKey);
		if (!consumer || consumer.applicationKey !== applicationKey) {
			return this.error(403, "This credential does not exist", "NOT_CREDENTIAL");
		}
		// Any existing key may read its own state (a credential helper polls it while the user validates).
		if (path === "/auth/currentCredential" && req.method === "GET") return null;
		if (consumer.status !== "validated") return this.error(403, "This credential is not valid", "INVALID_CREDENTIAL");
		if (!consumer.rules.some((rule) => ruleAllows(rule, req.method, path))) {
			return this.error(403, "This call has not been granted", "NOT_GRANTED_CALL");
		}
		return null;
	}

	private createCredential(req: Request, url: URL, body: string): Response {
		const applicationKey = req.headers.get("x-ovh-application") ?? "";
		if (!this.applications.has(applicationKey)) return this.error(403, "Invalid application key", "INVALID_KEY");
		let parsed: { accessRules?: unknown; redirection?: unknown };
		try {
			parsed = JSON.parse(body);
		} catch {
			return this.error(400, "Invalid JSON received");
		}
		const rules = Array.isArray(parsed.accessRules) ? parsed.accessRules : null;
		const valid =
			rules?.every(
				(r) =>
					typeof r === "object" &&
					r !== null &&
					["GET", "POST", "PUT", "DELETE"].includes((r as AccessRule).method) &&
					typeof (r as AccessRule).path === "string" &&
					(r as AccessRule).path.startsWith("/"),
			) ?? false;
		if (!rules || !valid) return this.error(400, "Invalid or missing parameter accessRules");
		const consumerKey = randomToken(32);
		const validationToken = randomToken(24);
		this.addConsumer({
			consumerKey,
			applicationKey,
			status: "pendingValidation",
			rules: rules as AccessRule[],
			validationToken,
		});
		const origin = `${url.protocol}//${url.host}`;
		return this.json({
			validationUrl: `${origin}/auth/?credentialToken=${validationToken}`,
			consumerKey,
			state: "pendingValidation",
		});
	}

	private route(method: string, path: string, url: URL, body: string, consumer: MockConsumer): Response {
		if (method === "GET" && path === "/auth/currentCredential") {
			return this.json({
				credentialId: consumer.credentialId,
				applicationId: 1,
				status: consumer.status,
				rules: consumer.rules,
				creation: new Date().toISOString(),
				expiration: null,
				lastUse: new Date().toISOString(),
				ovhSupport: false,
				allowedIPs: null,
			});
		}
		if (method === "GET" && path === "/dedicated/server") return this.json([...this.servers.keys()]);

		const m = /^\/dedicated\/server\/([^/]+)(\/.*)?$/.exec(path);
		if (!m) return this.error(404, `Got an invalid (or empty) URL`);
		const name = decodeURIComponent(m[1] as string);
		const rest = m[2] ?? "";
		const server = this.servers.get(name);
		if (!server) return this.error(404, `The requested object (serviceName = ${name}) does not exist`);

		if (method === "GET" && rest === "") return this.json(details(server));
		if (method === "GET" && rest === "/features/ipmi") return this.json(ipmiOf(server));
		if (method === "POST" && rest === "/features/ipmi/access") return this.requestAccess(server, body);
		if (method === "GET" && rest === "/features/ipmi/access") return this.readAccess(server, url);
		const task = /^\/task\/(\d+)$/.exec(rest);
		if (method === "GET" && task) return this.readTask(server, Number(task[1]));
		return this.error(404, `Got an invalid (or empty) URL`);
	}

	private requestAccess(server: MockOvhServerSpec, body: string): Response {
		let params: Record<string, unknown>;
		try {
			params = JSON.parse(body);
		} catch {
			return this.error(400, "Invalid JSON received");
		}
		const type = params.type;
		if (typeof type !== "string" || !ACCESS_TYPES.includes(type)) {
			return this.error(400, `Invalid value for parameter type: ${String(type)}`);
		}
		const ttl = Number(params.ttl);
		if (!TTLS.includes(ttl)) return this.error(400, `Invalid value for parameter ttl: ${String(params.ttl)}`);
		const ipToAllow = params.ipToAllow;
		if (ipToAllow !== undefined && (typeof ipToAllow !== "string" || !IPV4.test(ipToAllow))) {
			return this.error(400, `Invalid value for parameter ipToAllow: ${String(ipToAllow)}`);
		}
		const ipmi = ipmiOf(server);
		if (!ipmi.activated || !ipmi.supportedFeatures[type as keyof IpmiSupportedFeatures]) {
			return this.error(400, `This IPMI feature (${type}) is not available on this server`);
		}
		this.accessRequests.push({ server: server.name, body: params });
		const accessNumber = (this.accessCounts.get(server.name) ?? 0) + 1;
		this.accessCounts.set(server.name, accessNumber);

		const task: MockTask = {
			taskId: this.nextTaskId++,
			server: server.name,
			function: "requestAccessIPMI",
			createdAt: Date.now(),
			outcome: this.taskOutcome,
			stepMs: this.taskStepMs,
		};
		this.tasks.set(task.taskId, task);
		const grant: MockViewerGrant = {
			server: server.name,
			token: randomToken(20),
			ipToAllow: ipToAllow as string | undefined,
			accessNumber,
		};
		const value =
			type === "kvmipHtml5URL"
				? typeof server.viewerUrl === "function"
					? server.viewerUrl(grant)
					: (server.viewerUrl ?? `https://${server.name}.ipmi.invalid/?token=${grant.token}`)
				: `${type}-value-${grant.token}`;
		const list = this.grants.get(server.name) ?? [];
		list.push({ type, value, taskId: task.taskId, ttlMinutes: ttl, ipToAllow: grant.ipToAllow });
		this.grants.set(server.name, list);
		return this.json(taskJson(task));
	}

	private readAccess(server: MockOvhServerSpec, url: URL): Response {
		const type = url.searchParams.get("type");
		if (!type) return this.error(400, "Missing parameter(s) : type");
		if (!ACCESS_TYPES.includes(type)) return this.error(400, `Invalid value for parameter type: ${type}`);
		// Only the latest access whose task is done can be read back.
		const done = (this.grants.get(server.name) ?? []).filter((g) => {
			const task = this.tasks.get(g.taskId);
			return g.type === type && task && statusOf(task) === "done";
		});
		const grant = done.at(-1);
		if (!grant) return this.error(404, `The requested object (type = ${type}) does not exist`);
		const task = this.tasks.get(grant.taskId) as MockTask;
		grant.expiresAt ??= doneAt(task) + (this.accessLifetimeMs ?? grant.ttlMinutes * 60_000);
		if (this.emptyValueReads > 0) {
			this.emptyValueReads--;
			return this.json({ expiration: null, value: "" });
		}
		return this.json({ expiration: new Date(grant.expiresAt).toISOString(), value: grant.value });
	}

	private readTask(server: MockOvhServerSpec, taskId: number): Response {
		const task = this.tasks.get(taskId);
		if (!task || task.server !== server.name) {
			return this.error(404, `The requested object (taskId = ${taskId}) does not exist`);
		}
		return this.json(taskJson(task));
	}

	private takeFault(method: string, path: string): MockOvhFault | undefined {
		const index = this.faults.findIndex(
			(f) => (f.method === undefined || f.method === method) && (f.path === undefined || matches(f.path, path)),
		);
		if (index < 0) return undefined;
		const fault = this.faults[index] as MockOvhFault;
		fault.times = (fault.times ?? 1) - 1;
		if (fault.times <= 0) this.faults.splice(index, 1);
		return fault;
	}

	private nowSeconds(): number {
		return Math.floor(Date.now() / 1000) + this.clockOffsetSeconds;
	}

	private queryId(): string {
		this.queryCounter++;
		return `${this.region}.ext-${(this.queryCounter % 5) + 1}.${randomToken(8)}.${this.queryCounter}.mock`;
	}

	private json(value: unknown, status = 200): Response {
		return new Response(JSON.stringify(value), {
			status,
			headers: { "content-type": "application/json; charset=utf-8", "x-ovh-queryid": this.queryId() },
		});
	}

	private error(status: number, message: string, errorCode?: string): Response {
		const body: Record<string, string> = {
			class: ERROR_CLASSES[status] ?? (status >= 500 ? "Server::InternalServerError" : "Client::BadRequest"),
			message,
			httpCode: `${status} ${HTTP_REASONS[status] ?? "Error"}`,
		};
		if (errorCode) body.errorCode = errorCode;
		return this.json(body, status);
	}
}

function matches(pattern: string | RegExp, path: string): boolean {
	return typeof pattern === "string" ? pattern === path : pattern.test(path);
}

/** An OVH access rule: method equal, `*` in the path matches any characters (`/` too). */
export function ruleAllows(rule: AccessRule, method: string, path: string): boolean {
	if (rule.method !== method) return false;
	const regex = new RegExp(`^${rule.path.split("*").map(escapeRegExp).join(".*")}$`);
	return regex.test(path);
}

function escapeRegExp(s: string): string {
	return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function statusOf(task: MockTask): TaskStatus {
	const elapsed = Date.now() - task.createdAt;
	if (elapsed < task.stepMs) return "todo";
	if (elapsed < 2 * task.stepMs || task.outcome === "never") return "doing";
	return task.outcome === "done" ? "done" : task.outcome;
}

function doneAt(task: MockTask): number {
	return task.createdAt + 2 * task.stepMs;
}

function taskJson(task: MockTask) {
	const status = statusOf(task);
	const finished = status !== "todo" && status !== "doing";
	const comments: Partial<Record<TaskStatus, string>> = {
		customerError: "IPMI access refused: the IP to allow is not valid for this server",
		ovhError: "Unable to reach the BMC",
		cancelled: "Task cancelled",
	};
	return {
		taskId: task.taskId,
		function: task.function,
		status,
		comment: comments[status] ?? `Request IPMI access (${status})`,
		startDate: new Date(task.createdAt).toISOString(),
		doneDate: finished ? new Date(doneAt(task)).toISOString() : null,
		lastUpdate: new Date().toISOString(),
		needSchedule: false,
		plannedInterventionId: null,
		ticketReference: null,
		note: null,
		tags: [],
	};
}

function details(server: MockOvhServerSpec) {
	return {
		availabilityZone: `eu-west-${server.datacenter ?? "gra"}-a`,
		bootId: 1,
		bootScript: null,
		commercialRange: server.commercialRange ?? "advance-1",
		datacenter: server.datacenter ?? "gra3",
		iam: {
			id: `00000000-0000-4000-8000-${String(hash(server.name)).padStart(12, "0")}`,
			urn: `urn:v1:eu:resource:dedicatedServer:${server.name}`,
			displayName: server.displayName ?? server.name,
		},
		ip: server.ip ?? "192.0.2.10",
		linkSpeed: 1000,
		monitoring: true,
		name: server.name,
		newUpgradeSystem: true,
		noIntervention: false,
		os: server.os ?? "debian12_64",
		powerState: server.powerState ?? "poweron",
		professionalUse: false,
		rack: "G123A45",
		region: "eu-west-gra",
		rescueMail: null,
		rescueSshKey: null,
		reverse: server.reverse === undefined ? `${server.name}.` : server.reverse,
		rootDevice: null,
		serverId: 1_000_000 + (hash(server.name) % 1_000_000),
		state: "ok",
		supportLevel: "pro",
	};
}

function ipmiOf(server: MockOvhServerSpec) {
	const features = server.ipmi?.features ?? {};
	return {
		activated: server.ipmi?.activated ?? true,
		supportedFeatures: {
			kvmipHtml5URL: features.kvmipHtml5URL ?? true,
			kvmipJnlp: features.kvmipJnlp ?? true,
			serialOverLanSshKey: features.serialOverLanSshKey ?? false,
			serialOverLanURL: features.serialOverLanURL ?? true,
		},
	};
}

function hash(text: string): number {
	let h = 0;
	for (const ch of text) h = (h * 31 + (ch.codePointAt(0) ?? 0)) >>> 0;
	return h;
}

function randomToken(length: number): string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	const bytes = crypto.getRandomValues(new Uint8Array(length));
	return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
}
