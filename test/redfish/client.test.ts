import { describe, expect, test } from "bun:test";
import net from "node:net";
import { configureLogging } from "../../src/log.ts";
import { RedfishClient } from "../../src/redfish/client.ts";
import { listSystems } from "../../src/redfish/discovery.ts";
import { failure } from "../support/ikvm-error.ts";
import { clientOf, ctx, fakeBmc } from "../support/redfish.ts";

describe("Redfish sessions", () => {
	test("one session serves every call, concurrent ones too, and close deletes it", async () => {
		const bmc = await fakeBmc();
		const client = clientOf(bmc);
		await Promise.all([
			listSystems(client, ctx()),
			listSystems(client, ctx()),
			client.get("/redfish/v1/Managers", ctx(), "managers"),
		]);
		await listSystems(client, ctx());
		expect(bmc.stats.logins).toBe(1);
		expect(bmc.openSessions).toBe(1);
		expect(
			bmc.stats.requests.filter((r) => r.path.startsWith("/redfish/v1/Systems")).every((r) => r.auth === "token"),
		).toBe(true);
		await client.close();
		expect(bmc.openSessions).toBe(0);
		expect(bmc.stats.sessionDeletes).toBe(1);
	});

	test("a session the BMC forgot is replaced once, and the call succeeds", async () => {
		const bmc = await fakeBmc();
		const client = clientOf(bmc);
		await listSystems(client, ctx());
		bmc.expireSessions();
		const systems = await listSystems(client, ctx());
		expect(systems).toHaveLength(1);
		expect(bmc.stats.logins).toBe(2);
		await client.close();
		expect(bmc.openSessions).toBe(0);
	});

	test("wrong credentials: AUTH_FAILED after one attempt, never retried", async () => {
		const bmc = await fakeBmc();
		const client = clientOf(bmc, {}, "rf-wrong-pw-7");
		const error = await failure(listSystems(client, ctx()));
		expect(error.code).toBe("AUTH_FAILED");
		expect(error.stage).toBe("redfish-login");
		expect(error.message).toContain("ResourceAtUriUnauthorized");
		await failure(listSystems(client, ctx()));
		expect(bmc.stats.loginFailures).toBe(2);
		expect(bmc.stats.requests.filter((r) => r.method === "POST")).toHaveLength(2);
	});

	test("bmcweb-style session limit: a BUSY error saying what to do, one login attempt", async () => {
		const bmc = await fakeBmc({ sessionLimit: 1 });
		const first = clientOf(bmc);
		await listSystems(first, ctx());
		const second = clientOf(bmc);
		const error = await failure(listSystems(second, ctx()));
		expect(error.code).toBe("BUSY");
		expect(error.message).toContain("SessionLimitExceeded");
		expect(error.hint).toContain("Log out");
		expect(error.retryable).toBe(false);
		expect(bmc.stats.requests.filter((r) => r.method === "POST")).toHaveLength(2);
		await first.close();
		await second.close();
	});

	test("iDRAC session limit (RAC0218 under a generic code) reads as the session limit", async () => {
		const bmc = await fakeBmc({ vendor: "dell", sessionLimit: 0 });
		const error = await failure(listSystems(clientOf(bmc), ctx()));
		expect(error.code).toBe("BUSY");
		expect(error.message).toContain("IDRAC.2.4.RAC0218: The maximum number of user sessions is reached.");
		expect(error.message).toContain("Close one or more sessions");
	});

	test("no SessionService: HTTP Basic, and no session is created", async () => {
		const bmc = await fakeBmc({ sessionService: false });
		const client = clientOf(bmc);
		expect(await listSystems(client, ctx())).toHaveLength(1);
		expect(client.authMode).toBe("basic");
		expect(bmc.stats.logins).toBe(0);
		expect(
			bmc.stats.requests.filter((r) => r.path.startsWith("/redfish/v1/Systems")).every((r) => r.auth === "basic"),
		).toBe(true);
	});

	test("a SessionService that refuses the login POST (405): Basic; auth: basic forces Basic", async () => {
		const bmc = await fakeBmc({ sessionService: "refuses" });
		const client = clientOf(bmc);
		expect(await listSystems(client, ctx())).toHaveLength(1);
		expect(client.authMode).toBe("basic");
		expect(bmc.stats.requests.filter((r) => r.method === "POST")).toHaveLength(1);
		const forced = new RedfishClient({
			url: bmc.origin,
			username: bmc.username,
			password: bmc.password,
			tls: { insecure: true },
			auth: "basic",
		});
		await listSystems(forced, ctx());
		expect(bmc.stats.requests.filter((r) => r.method === "POST")).toHaveLength(1);
		expect(bmc.stats.logins).toBe(0);
	});

	test("a login that demands a password change: ACCESS_DENIED saying so, and that session is deleted", async () => {
		const bmc = await fakeBmc({ passwordChangeRequired: true });
		const error = await failure(listSystems(clientOf(bmc), ctx()));
		expect(error.code).toBe("ACCESS_DENIED");
		expect(error.message).toContain("PasswordChangeRequired");
		expect(error.hint).toContain("change its password");
		expect(bmc.stats.logins).toBe(1);
		expect(bmc.openSessions).toBe(0);
	});

	test("a body past the cap: TOO_LARGE, not buffered", async () => {
		const bmc = await fakeBmc();
		const client = clientOf(bmc, { maxBodyBytes: 200 });
		const error = await failure(listSystems(client, ctx()));
		expect(error.code).toBe("TOO_LARGE");
		await client.close();
	});

	test("a BMC busy beyond the wait budget: BUSY with its Retry-After, after a bounded number of tries", async () => {
		const bmc = await fakeBmc({ busyAnswers: 10 });
		const client = clientOf(bmc, { maxBusyWaitMs: 1500 });
		const error = await failure(client.get("/redfish/v1/Systems/437XR1138R2", ctx(), "the system"));
		expect(error.code).toBe("BUSY");
		expect(error.message).toContain("ServiceTemporarilyUnavailable");
		expect(error.hint).toContain("retry in 1 s");
		expect(bmc.stats.requests.filter((r) => r.path === "/redfish/v1/Systems/437XR1138R2")).toHaveLength(2);
		await client.close();
	});

	test("an idle session is deleted after idleMs", async () => {
		const bmc = await fakeBmc();
		const client = clientOf(bmc, { idleMs: 100 });
		await listSystems(client, ctx());
		expect(bmc.openSessions).toBe(1);
		await Bun.sleep(400);
		expect(bmc.openSessions).toBe(0);
		expect(client.hasSession).toBe(false);
		await listSystems(client, ctx());
		expect(bmc.stats.logins).toBe(2);
		await client.close();
	});

	test("503 with Retry-After on a GET is waited for and retried", async () => {
		const bmc = await fakeBmc({ busyAnswers: 1 });
		const client = clientOf(bmc);
		const started = Date.now();
		expect(await listSystems(client, ctx())).toHaveLength(1);
		expect(Date.now() - started).toBeGreaterThanOrEqual(900);
		await client.close();
	});

	test("Redfish errors reach the user as one line: status, MessageId, message; 405 names what is allowed", async () => {
		const bmc = await fakeBmc();
		const client = clientOf(bmc);
		const missing = await failure(client.get("/redfish/v1/Nope", ctx(), "a missing resource"));
		expect(missing.code).toBe("NOT_SUPPORTED");
		expect(missing.message).toBe(
			`The BMC at ${client.host} refused a missing resource: HTTP 404 Base.1.19.ResourceNotFound: /redfish/v1/Nope was not found. (None.).`,
		);
		const answer = await client.request("GET", "/redfish/v1/Systems/437XR1138R2/Actions/ComputerSystem.Reset", ctx(), {
			what: "x",
		});
		expect(answer.status).toBe(405);
		expect(client.fault(answer).allow).toBe("POST");
		await client.close();
	});

	test("a BMC that never answers: TIMEOUT within the request limit", async () => {
		const silent = net.createServer(() => {});
		await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
		const port = (silent.address() as net.AddressInfo).port;
		const client = new RedfishClient(
			{ url: `https://127.0.0.1:${port}`, username: "u", password: "p-secret", tls: { insecure: true } },
			{ requestTimeoutMs: 300 },
		);
		const started = Date.now();
		const error = await failure(listSystems(client, ctx()));
		expect(error.code).toBe("TIMEOUT");
		expect(Date.now() - started).toBeLessThan(2000);
		silent.close();
	});

	test("an unreachable BMC: CONNECTION with a hint", async () => {
		const client = new RedfishClient({
			url: "https://127.0.0.1:1",
			username: "u",
			password: "p",
			tls: { insecure: true },
		});
		const error = await failure(listSystems(client, ctx()));
		expect(error.code).toBe("CONNECTION");
		expect(error.hint).toContain("reachable");
	});

	test("neither the password, the token nor the session path appears in the log", async () => {
		const lines: string[] = [];
		configureLogging({ level: "debug", sink: (l) => lines.push(l) });
		try {
			const bmc = await fakeBmc({ password: "S3cret-Passw0rd" });
			const client = clientOf(bmc);
			await listSystems(client, ctx());
			const session = [...bmc.sessions.values()][0];
			expect(session).toBeDefined();
			bmc.expireSessions();
			await listSystems(client, ctx());
			const current = [...bmc.sessions.values()][0];
			await client.close();
			await failure(listSystems(clientOf(bmc, {}, "S3cret-wrong"), ctx()));
			const all = lines.join("\n");
			expect(lines.length).toBeGreaterThan(0);
			for (const secret of ["S3cret-Passw0rd", session?.token, session?.id, current?.token, current?.id]) {
				expect(all).not.toContain(secret as string);
			}
		} finally {
			configureLogging({ level: "silent" });
		}
	});
});
