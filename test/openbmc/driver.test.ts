/**
 * The OpenBMC driver against a mock bmcweb that checks the login, the session cookie,
 * the CSRF subprotocol and the KVM privilege as bmcweb does, relaying to the RFB test
 * server (standing in for obmc-ikvm, which prefers Tight JPEG).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { testPattern } from "../../src/demo/patterns.ts";
import { type RfbTestServer, startRfbServer } from "../../src/demo/rfb-server.ts";
import { createOpenBmcOpener, kvmTarget, openbmcDriver } from "../../src/openbmc/driver.ts";
import { bmcwebLogin, bmcwebLogout } from "../../src/openbmc/login.ts";
import type { OpenBmcTarget } from "../../src/openbmc/target.ts";
import { createVncOpener } from "../../src/vnc/session.ts";
import { Encoding } from "../../src/vnc/types.ts";
import { type MockOpenBmc, startMockOpenBmc } from "../mocks/openbmc.ts";
import { expectPixelExact, LIMITS, recordingContext, testContext } from "../support/vnc.ts";

const IMAGE = testPattern(320, 200);
let rfb: RfbTestServer;
let bmc: MockOpenBmc;

beforeAll(async () => {
	rfb = await startRfbServer({ image: IMAGE, encoding: "zrle" });
	bmc = await startMockOpenBmc({ rfbPort: rfb.tcpPort, readOnlyUser: "viewer" });
});
afterAll(async () => {
	await bmc.stop();
	await rfb.close();
});

const target = (extra: Partial<OpenBmcTarget> = {}): OpenBmcTarget => ({
	kind: "openbmc",
	url: bmc.origin,
	username: bmc.username,
	password: bmc.password,
	tls: { insecure: true },
	...extra,
});

describe("OpenBMC (bmcweb /kvm/0)", () => {
	test("login, KVM WebSocket with the CSRF subprotocol, a pixel-exact frame, logout on close", async () => {
		const ctx = recordingContext();
		const session = await openbmcDriver.open(target(), ctx, LIMITS);
		try {
			expectPixelExact(await session.capture(ctx), IMAGE);
			expect(session.description).toBe(`openbmc ${bmc.origin}`);
		} finally {
			await session.close();
		}
		expect(ctx.stages.slice(0, 3)).toEqual(["openbmc-login", "connect", "handshake"]);
		expect(bmc.stats.openSessions).toBe(0);
		expect(bmc.stats.logouts).toBe(bmc.stats.logins);
		// Lossless first, and no JPEG quality level: obmc-ikvm would otherwise send JPEG.
		const announced = rfb.lastClient?.encodings ?? [];
		expect(announced[0]).toBe(Encoding.ZRLE);
		expect(announced.some((e) => e >= Encoding.QualityLevel0 && e <= Encoding.QualityLevel0 + 9)).toBe(false);
	});

	test("bmcweb's CSRF check is what needs the subprotocol: the same cookie without it is refused", async () => {
		const web = await bmcwebLogin(
			bmc.origin,
			bmc.username,
			bmc.password,
			{ insecure: true },
			{
				signal: AbortSignal.timeout(5000),
				timeoutMs: 5000,
			},
		);
		try {
			const { subprotocols: _, ...withoutCsrf } = kvmTarget(target(), web);
			const error = await createVncOpener()(withoutCsrf, testContext(), LIMITS).catch((e) => e);
			expect(error).toMatchObject({ code: "CONNECTION", stage: "connect" });
			expect(bmc.stats.kvmRefused).toContain("csrf");
		} finally {
			expect(await bmcwebLogout(web, { insecure: true }, 5000)).toBe(true);
		}
	});

	test("a wrong password is AUTH_FAILED at openbmc-login, and the password is nowhere in the error", async () => {
		const error = await openbmcDriver.open(target({ password: "not-the-pw-1" }), testContext(), LIMITS).catch((e) => e);
		expect(error).toMatchObject({ code: "AUTH_FAILED", stage: "openbmc-login" });
		expect(JSON.stringify({ m: error.message, h: error.hint })).not.toContain("not-the-pw-1");
	});

	test("a user without the KVM privilege: ACCESS_DENIED naming the role, and the web session is logged out", async () => {
		const before = bmc.stats.logouts;
		const error = await openbmcDriver.open(target({ username: "viewer" }), testContext(), LIMITS).catch((e) => e);
		expect(error).toMatchObject({ code: "ACCESS_DENIED", stage: "connect" });
		expect(error.hint).toContain("Operator or Administrator");
		expect(bmc.stats.kvmRefused).toContain("privilege");
		expect(bmc.stats.logouts).toBe(before + 1);
	});

	test("an untrusted certificate without tls.insecure says how to accept it", async () => {
		const error = await openbmcDriver.open(target({ tls: undefined }), testContext(), LIMITS).catch((e) => e);
		expect(error).toMatchObject({ code: "CONNECTION", stage: "openbmc-login" });
		expect(error.hint).toContain("insecure");
	});

	test("targets file entry and the doctor's probe", async () => {
		const parsed = openbmcDriver.configSchema.parse({
			id: "obmc",
			type: "openbmc",
			url: bmc.origin,
			usernameEnv: "U",
			passwordEnv: "P",
			tls: { insecure: true },
		});
		const env: Record<string, string> = { U: bmc.username, P: bmc.password };
		const { target: t, ip } = openbmcDriver.fromConfig(
			parsed,
			(inline, name) => inline ?? (name ? env[name] : undefined),
		);
		expect(ip).toBe("127.0.0.1");
		const report = await openbmcDriver.probe?.(t, {
			signal: AbortSignal.timeout(5000),
			timeoutMs: 3000,
			limits: LIMITS,
		});
		expect(report?.detail).toBe(`logged in as "${bmc.username}", 320x200 frame received`);
		expect(bmc.stats.openSessions).toBe(0);
	});

	test("a warm session captures again without logging in again", async () => {
		const logins = bmc.stats.logins;
		const session = await createOpenBmcOpener()(target(), testContext(), LIMITS);
		try {
			for (let i = 0; i < 2; i++) expectPixelExact(await session.capture(testContext()), IMAGE);
		} finally {
			await session.close();
		}
		expect(bmc.stats.logins).toBe(logins + 1);
	});
});
