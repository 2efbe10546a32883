import { afterEach, describe, expect, test } from "bun:test";
import { createServer, type Server, type Socket } from "node:net";
import { formatResult, summarize } from "../../src/cli/doctor/report.ts";
import { runDoctor } from "../../src/cli/doctor/run.ts";
import type { CheckResult } from "../../src/cli/doctor/types.ts";
import { type RfbServerOptions, type RfbTestServer, startRfbServer } from "../../src/demo/rfb-server.ts";
import { MockBmc, type MockBmcOptions } from "../mocks/bmc.ts";
import { freePort } from "../support/ports.ts";
import { tempDir, writeTargets } from "../support/targets-file.ts";

const IMAGE = { width: 16, height: 8, rgba: new Uint8Array(16 * 8 * 4).fill(200) };
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
	for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function rfb(options: Partial<RfbServerOptions> = {}): Promise<RfbTestServer> {
	const server = await startRfbServer({ image: IMAGE, ...options });
	cleanups.push(() => server.close());
	return server;
}

async function bmc(options: Partial<MockBmcOptions> = {}): Promise<MockBmc> {
	const mock = await new MockBmc({ frames: () => new Uint8Array(0), ...options }).start();
	cleanups.push(() => mock.stop());
	return mock;
}

/** A TCP server that accepts connections and never says a word. */
async function silentServer(): Promise<number> {
	const sockets: Socket[] = [];
	const server: Server = createServer((socket) => sockets.push(socket));
	await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
	cleanups.push(
		() =>
			new Promise<void>((resolve) => {
				for (const s of sockets) s.destroy();
				server.close(() => resolve());
			}),
	);
	return (server.address() as { port: number }).port;
}

function configFile(servers: unknown[]): string {
	return writeTargets(servers, tempDir(), "ikvm.config.json");
}

async function check(servers: unknown[], env: Record<string, string> = {}): Promise<CheckResult[]> {
	return runDoctor({ env, configPath: configFile(servers), timeouts: { targetMs: 800 } });
}

function find(results: CheckResult[], name: string): CheckResult {
	const found = results.find((r) => r.name === name);
	if (!found) throw new Error(`no result "${name}" in:\n${results.map(formatResult).join("\n")}`);
	return found;
}

describe("doctor: VNC targets", () => {
	test("servers that answer pass, over TCP and WebSocket, with and without a password; nothing stays open", async () => {
		const open = await rfb();
		const locked = await rfb({ security: "vnc", password: "s3cret-vnc" });
		const results = await check(
			[
				{ id: "tcp", type: "vnc", host: "127.0.0.1", port: open.tcpPort },
				{ id: "ws", type: "vnc", url: locked.wsUrl, passwordEnv: "VNC_PASSWORD" },
			],
			{ VNC_PASSWORD: "s3cret-vnc" },
		);
		expect(find(results, "target tcp")).toMatchObject({
			status: "pass",
			detail: `vnc 127.0.0.1:${open.tcpPort}: RFB handshake complete, 16x8 frame received`,
		});
		expect(find(results, "target ws").status).toBe("pass");
		expect(find(results, "target ws").detail).toContain("password accepted");
		expect(summarize(results).exitCode).toBe(0);
		await Bun.sleep(50);
		expect(open.openConnections).toBe(0);
		expect(locked.openConnections).toBe(0);
		expect(results.map(formatResult).join("\n")).not.toContain("s3cret-vnc");
	});

	test("a server that completes the handshake but never sends a frame fails (not healthy)", async () => {
		const mute = await rfb({ stall: "frame" });
		const started = Date.now();
		const results = await check([{ id: "noframe", type: "vnc", host: "127.0.0.1", port: mute.tcpPort }]);
		expect(Date.now() - started).toBeLessThan(3000);
		const vm = find(results, "target noframe");
		expect(vm.status).toBe("fail");
		expect(vm.detail).toContain("did not send a complete 16x8 frame");
		await Bun.sleep(50);
		expect(mute.openConnections).toBe(0);
	});

	test("a wrong VNC password fails the target with what to check", async () => {
		const locked = await rfb({ security: "vnc", password: "right-one" });
		const results = await check([{ id: "vm", type: "vnc", url: locked.wsUrl, passwordEnv: "P" }], { P: "wrong-one" });
		const vm = find(results, "target vm");
		expect(vm.status).toBe("fail");
		expect(vm.detail).toContain("authentication failed");
		expect(vm.fix).toContain("password");
		expect(vm.fix).toBeDefined();
		expect(formatResult(vm)).not.toContain("wrong-one");
	});

	test("a server that refuses: closed port, or an RFB refusal with its reason", async () => {
		const port = await freePort();
		const refusing = await rfb({ refuse: "Too many viewers" });
		const results = await check([
			{ id: "closed", type: "vnc", host: "127.0.0.1", port },
			{ id: "refusing", type: "vnc", host: "127.0.0.1", port: refusing.tcpPort },
		]);
		expect(find(results, "target closed").status).toBe("fail");
		expect(find(results, "target closed").detail).toContain(`127.0.0.1:${port}`);
		expect(find(results, "target refusing").status).toBe("fail");
		expect(find(results, "target refusing").detail).toContain("Too many viewers");
	});

	test("a server that does not answer fails within the probe's time limit", async () => {
		const port = await silentServer();
		const started = Date.now();
		const results = await check([{ id: "mute", type: "vnc", host: "127.0.0.1", port }]);
		expect(Date.now() - started).toBeLessThan(3000);
		const mute = find(results, "target mute");
		expect(mute.status).toBe("fail");
		expect(mute.detail).toContain("did not");
	});
});

describe("doctor: AMI BMC targets", () => {
	function amiTarget(mock: MockBmc, extra: Record<string, unknown> = {}) {
		return {
			id: "bmc",
			type: "ami",
			url: mock.origin,
			usernameEnv: "BMC_USER",
			passwordEnv: "BMC_PASSWORD",
			tls: { insecure: true },
			...extra,
		};
	}

	test("the login works: pass, logged out again, no KVM session opened", async () => {
		const mock = await bmc();
		const results = await check([amiTarget(mock)], { BMC_USER: mock.username, BMC_PASSWORD: mock.password });
		expect(find(results, "target bmc")).toMatchObject({
			status: "pass",
			detail: `ami ${mock.origin}: logged in as "${mock.username}" and out again`,
		});
		expect(mock.stats.logins).toBe(1);
		expect(mock.stats.logouts).toBe(1);
		expect(mock.stats.webSessions).toBe(0);
		expect(mock.stats.kvmConnections).toBe(0);
		expect(results.map(formatResult).join("\n")).not.toContain(mock.password);
	});

	test("a wrong BMC password fails with the fix, and no session is left", async () => {
		const mock = await bmc();
		const results = await check([amiTarget(mock)], { BMC_USER: mock.username, BMC_PASSWORD: "not-the-password" });
		const target = find(results, "target bmc");
		expect(target.status).toBe("fail");
		expect(target.detail).toContain("wrong username or password");
		expect(target.fix).toContain("password");
		expect(mock.stats.failedLogins).toBe(1);
		expect(mock.stats.webSessions).toBe(0);
		expect(summarize(results).exitCode).toBe(1);
	});

	test("a self-signed certificate without tls.insecure fails naming the setting", async () => {
		const mock = await bmc();
		const results = await check([amiTarget(mock, { tls: undefined })], {
			BMC_USER: mock.username,
			BMC_PASSWORD: mock.password,
		});
		const target = find(results, "target bmc");
		expect(target.status).toBe("fail");
		expect(target.fix).toContain("insecure");
	});

	test("a BMC that does not answer the login fails within the time limit", async () => {
		const mock = await bmc({ stall: "login" });
		const started = Date.now();
		const results = await check([amiTarget(mock)], { BMC_USER: mock.username, BMC_PASSWORD: mock.password });
		expect(Date.now() - started).toBeLessThan(3000);
		expect(find(results, "target bmc").status).toBe("fail");
		expect(find(results, "target bmc").detail).toContain("did not answer");
	});

	test("a BMC without a free web session fails saying so", async () => {
		const mock = await bmc({ maxWebSessions: 0 });
		const results = await check([amiTarget(mock)], { BMC_USER: mock.username, BMC_PASSWORD: mock.password });
		const target = find(results, "target bmc");
		expect(target.status).toBe("fail");
		expect(target.detail.toLowerCase()).toContain("session");
		expect(mock.stats.webSessions).toBe(0);
	});
});

describe("doctor: target step", () => {
	test("a probe's warning is a ⚠ line with its fix and does not fail the run", async () => {
		const results = await runDoctor({
			env: {},
			configPath: configFile([{ id: "vm", type: "vnc", host: "127.0.0.1", port: 5900 }]),
			probes: { vnc: async () => ({ detail: "answered, slowly", warning: "Look at the network." }) },
		});
		expect(find(results, "target vm")).toEqual({
			name: "target vm",
			status: "warn",
			detail: "vnc 127.0.0.1:5900: answered, slowly",
			fix: "Look at the network.",
		});
		expect(summarize(results).exitCode).toBe(0);
	});

	test("a probe that ignores its time limits is cut off, and URL query strings are not shown", async () => {
		const started = Date.now();
		const results = await runDoctor({
			env: {},
			configPath: configFile([
				{ id: "pve", type: "vnc", url: "wss://pve.example.net:8006/vncwebsocket?vncticket=PVEVNC:SECRET" },
			]),
			timeouts: { targetMs: 100 },
			probes: { vnc: () => new Promise(() => {}) },
		});
		expect(Date.now() - started).toBeLessThan(2000);
		const pve = find(results, "target pve");
		expect(pve.status).toBe("fail");
		expect(pve.detail).toStartWith("vnc wss://pve.example.net:8006/vncwebsocket: ");
		expect(formatResult(pve)).not.toContain("SECRET");
	});
});
