/**
 * Whatever the OVH API (or something pretending to be it) answers — random
 * JSON, wrong shapes, truncated or endless bodies, HTML, any status — the
 * client and the provider answer with a value that passed its schema or a
 * typed IkvmError with a clear message, in bounded time and bounded memory.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import net from "node:net";
import fc from "fast-check";
import { standaloneContext } from "../../../src/call-context.ts";
import type { ErrorCode } from "../../../src/errors.ts";
import { IkvmError } from "../../../src/errors.ts";
import { OvhApiClient, type OvhApiClientOptions } from "../../../src/providers/ovh/api.ts";
import { OvhProvider } from "../../../src/providers/ovh/provider.ts";
import { IpmiSchema, ServiceNamesSchema } from "../../../src/providers/ovh/types.ts";

const APP_SECRET = "fuzzAppSecret-Qw3Er5Ty7Ui9";
const CONSUMER_KEY = "fuzzConsumerKey-As2Df4Gh6Jk8";
const TIMEOUT_MS = 300;
const MAX_BODY = 256 * 1024;

type Delivery = "whole" | "stall-after-headers" | "endless" | "broken-stream";

interface Reply {
	status: number;
	contentType: string;
	body: string;
	delivery: Delivery;
	/** Also answer `/auth/time` with this reply (else with the real time). */
	timeToo: boolean;
}

let reply: Reply = { status: 200, contentType: "application/json", body: "[]", delivery: "whole", timeToo: false };
let server: net.Server;
const sockets = new Set<net.Socket>();

const NULL_BODY_STATUSES = new Set([204, 205, 304]);

/** A raw HTTP/1.1 answer, so a reply can lie about its length, stop half-way or never end. */
function respond(socket: net.Socket, r: Reply): void {
	const body = NULL_BODY_STATUSES.has(r.status) ? new Uint8Array(0) : new TextEncoder().encode(r.body);
	const head = (extra: string) =>
		`HTTP/1.1 ${r.status} Whatever\r\nContent-Type: ${r.contentType}\r\nConnection: close\r\n${extra}\r\n`;
	switch (r.delivery) {
		case "whole":
			socket.end(Buffer.concat([Buffer.from(head(`Content-Length: ${body.length}\r\n`)), body]));
			return;
		case "stall-after-headers":
			socket.write(head(`Content-Length: ${body.length + 10}\r\n`));
			socket.write(body.subarray(0, body.length >> 1));
			return;
		case "broken-stream":
			socket.write(head(`Content-Length: ${body.length + 10}\r\n`));
			socket.write(body.subarray(0, body.length >> 1), () => socket.destroy());
			return;
		case "endless": {
			socket.write(head("Transfer-Encoding: chunked\r\n"));
			const chunk = Buffer.concat([Buffer.from("10000\r\n"), Buffer.alloc(0x10000, 0x20), Buffer.from("\r\n")]);
			const pump = () => {
				while (!socket.destroyed && socket.write(chunk)) {
					// until the socket buffer is full
				}
			};
			socket.on("drain", pump);
			pump();
			return;
		}
	}
}

beforeAll(async () => {
	server = net.createServer((socket) => {
		sockets.add(socket);
		socket.on("close", () => sockets.delete(socket));
		socket.on("error", () => {});
		let head = "";
		socket.on("data", (data) => {
			if (head.includes("\r\n\r\n")) return;
			head += data.toString("latin1");
			if (!head.includes("\r\n\r\n")) return;
			const path = head.split(" ")[1] ?? "/";
			if (path === "/1.0/auth/time" && !reply.timeToo) {
				const time = String(Math.floor(Date.now() / 1000));
				socket.end(
					`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${time.length}\r\n\r\n${time}`,
				);
				return;
			}
			respond(socket, reply);
		});
	});
	await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
});

afterAll(async () => {
	for (const s of sockets) s.destroy();
	await new Promise<void>((resolve) => server.close(() => resolve()));
});

function endpoint(): string {
	return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/1.0`;
}

const apiOptions = { timeoutMs: TIMEOUT_MS, retries: 1, retryBaseMs: 1, retryMaxMs: 2, maxBodyBytes: MAX_BODY };

/** An API client for the fuzzing server, with short limits. */
function fuzzClient(extra: Partial<OvhApiClientOptions> = {}): OvhApiClient {
	return new OvhApiClient({
		endpoint: endpoint(),
		applicationKey: "fuzzAppKey",
		applicationSecret: APP_SECRET,
		consumerKey: CONSUMER_KEY,
		...apiOptions,
		...extra,
	});
}

const CODES: ErrorCode[] = [
	"AUTH_FAILED",
	"ACCESS_DENIED",
	"BUSY",
	"TIMEOUT",
	"PROTOCOL",
	"UPSTREAM",
	"CONNECTION",
	"TOO_LARGE",
];

/** Runs `call`; it must settle within `ms` with a value or a clear IkvmError. */
async function settle(call: () => Promise<unknown>, ms: number): Promise<IkvmError | undefined> {
	const started = performance.now();
	let error: unknown;
	try {
		await call();
	} catch (e) {
		error = e;
	}
	const took = performance.now() - started;
	if (took > ms) throw new Error(`took ${Math.round(took)} ms (limit ${ms})`);
	if (error === undefined) return undefined;
	if (!(error instanceof IkvmError)) throw new Error(`not an IkvmError: ${String(error)}`);
	expect(CODES).toContain(error.code);
	expect(error.stage).toBe("ovh-api");
	const text = error.toUserMessage();
	expect(text.length).toBeGreaterThan(20);
	expect(text).not.toContain(APP_SECRET);
	expect(text).not.toContain(CONSUMER_KEY);
	return error;
}

const validServer = JSON.stringify({
	name: "ns1.ip-1-2-3.eu",
	datacenter: "gra3",
	ip: "1.2.3.4",
	reverse: "a.example.",
	iam: { displayName: "web" },
});

const ovhErrorBody = fc
	.record({
		message: fc.oneof(fc.string(), fc.constant(null), fc.anything()),
		errorCode: fc.oneof(
			fc.constantFrom(
				"INVALID_SIGNATURE",
				"QUERY_TIME_OUT",
				"NOT_CREDENTIAL",
				"INVALID_CREDENTIAL",
				"NOT_GRANTED_CALL",
				"INVALID_KEY",
				"FORBIDDEN",
			),
			fc.string(),
			fc.anything(),
		),
		httpCode: fc.anything(),
		details: fc.oneof(fc.dictionary(fc.string(), fc.string()), fc.anything()),
	})
	.map((v) => JSON.stringify(v));

const bodyArb = fc.oneof(
	fc.json(),
	fc.anything().map((v) => JSON.stringify(v) ?? "null"),
	// Plausible shapes with wrong fields.
	fc.array(fc.oneof(fc.string(), fc.integer(), fc.constant(null))).map((v) => JSON.stringify(v)),
	fc
		.record({ name: fc.anything(), datacenter: fc.anything(), ip: fc.anything(), iam: fc.anything() })
		.map((v) => JSON.stringify(v)),
	ovhErrorBody,
	// Truncated JSON.
	fc
		.tuple(fc.constantFrom(validServer, '["ns1.ip-1-2-3.eu","ns2.ip-1-2-3.eu"]'), fc.nat())
		.map(([t, n]) => t.slice(0, n % t.length)),
	// Not JSON at all.
	fc.string(),
	fc.constantFrom("", "<html><body><h1>502 Bad Gateway</h1></body></html>", "\u0000\u0001\u0002", "{", "nul"),
);

const replyArb: fc.Arbitrary<Reply> = fc.record({
	status: fc.oneof(
		{ weight: 3, arbitrary: fc.constant(200) },
		{ weight: 2, arbitrary: fc.constantFrom(204, 301, 302, 400, 401, 403, 404, 409, 429, 500, 502, 503) },
		{ weight: 1, arbitrary: fc.integer({ min: 200, max: 599 }) },
	),
	contentType: fc.constantFrom("application/json", "text/html", "text/plain", ""),
	body: bodyArb,
	delivery: fc.oneof(
		{ weight: 12, arbitrary: fc.constant<Delivery>("whole") },
		{ weight: 1, arbitrary: fc.constantFrom<Delivery>("stall-after-headers", "endless", "broken-stream") },
	),
	timeToo: fc.boolean(),
});

/** A call can take two attempts (one retry or one clock re-read) plus the clock read, each bounded by the timeout. */
const BOUND_MS = 4 * TIMEOUT_MS + 1500;

describe("OVH answers fuzzed (fast-check) against a server that says anything", () => {
	test("the API client: a schema-checked value or a clear IkvmError, in bounded time", async () => {
		await fc.assert(
			fc.asyncProperty(replyArb, async (r) => {
				reply = r;
				const api = fuzzClient();
				await settle(() => api.get("/dedicated/server", ServiceNamesSchema), BOUND_MS);
				await settle(() => api.get("/dedicated/server/ns1.ip-1-2-3.eu/features/ipmi", IpmiSchema), BOUND_MS);
			}),
			{ numRuns: 120 },
		);
	}, 120_000);

	test("the provider's list_servers: the same, through its list and details calls", async () => {
		await fc.assert(
			fc.asyncProperty(replyArb, async (r) => {
				reply = r;
				const provider = new OvhProvider(
					{
						endpoint: endpoint(),
						applicationKey: "fuzzAppKey",
						applicationSecret: APP_SECRET,
						consumerKey: CONSUMER_KEY,
					},
					{ api: apiOptions, listCacheMs: 0 },
				);
				await settle(() => provider.listServers(standaloneContext()), 2 * BOUND_MS);
			}),
			{ numRuns: 80 },
		);
	}, 120_000);

	test("an endless body is cut at the size limit: TOO_LARGE, nothing kept past it", async () => {
		reply = { status: 200, contentType: "application/json", body: "", delivery: "endless", timeToo: false };
		const api = fuzzClient({ timeoutMs: 10_000 });
		const error = await settle(() => api.get("/dedicated/server", ServiceNamesSchema), 5000);
		expect(error?.code).toBe("TOO_LARGE");
		expect(error?.toUserMessage()).toBe(
			`OVH answered GET /dedicated/server with more than 256 KiB; no OVH API answer is that large. [stage: ovh-api] Is OVH_ENDPOINT (${endpoint()}) really the OVH API?`,
		);
	});

	test("a huge declared body is refused before it is read", async () => {
		reply = {
			status: 200,
			contentType: "application/json",
			body: `[${'"x",'.repeat(100_000)}"x"]`,
			delivery: "whole",
			timeToo: false,
		};
		const api = fuzzClient();
		expect((await settle(() => api.get("/dedicated/server", ServiceNamesSchema), 2000))?.code).toBe("TOO_LARGE");
	});

	test("headers then silence: a TIMEOUT naming the call, not a hang", async () => {
		reply = {
			status: 200,
			contentType: "application/json",
			body: validServer,
			delivery: "stall-after-headers",
			timeToo: false,
		};
		const api = fuzzClient();
		const error = await settle(() => api.get("/dedicated/server", ServiceNamesSchema), 2000);
		expect(error?.code).toBe("TIMEOUT");
		expect(error?.message).toBe("The OVH API did not answer GET /dedicated/server within 0.3 s.");
	});
});
