import { afterEach, describe, expect, test } from "bun:test";
import {
	csrfTokenFromHtml,
	loginWithPassword,
	loginWithViewerUrl,
	logout,
	requestKvmToken,
	sessionCookieFromHtml,
} from "../../src/ami/bmc-session.ts";
import { redact } from "../../src/redact.ts";
import { MockBmc, type MockBmcOptions } from "../mocks/bmc.ts";
import { failure } from "../support/ikvm-error.ts";
import { videoFrame } from "../support/video-frame.ts";

const insecure = { insecure: true };
let bmcs: MockBmc[] = [];
afterEach(async () => {
	await Promise.all(bmcs.map((b) => b.stop()));
	bmcs = [];
});

async function mock(options: Partial<MockBmcOptions> = {}): Promise<MockBmc> {
	const bmc = await new MockBmc({ frames: () => videoFrame(8, 8), ...options }).start();
	bmcs.push(bmc);
	return bmc;
}

const ctx = (timeoutMs = 5000) => ({ signal: new AbortController().signal, timeoutMs });

describe("page parsing", () => {
	test("finds the garc CSRF token in the forms viewer pages use", () => {
		expect(csrfTokenFromHtml(`sessionStorage.setItem("garc", "abc123");`)).toBe("abc123");
		expect(csrfTokenFromHtml(`sessionStorage.setItem('garc','x-y_z');`)).toBe("x-y_z");
		expect(csrfTokenFromHtml(`var garc = "tok42";`)).toBe("tok42");
		expect(csrfTokenFromHtml(`var t = ["garc", "arr9"];`)).toBe("arr9");
		expect(csrfTokenFromHtml(`<html>nothing</html>`)).toBeUndefined();
	});

	test("finds a QSESSIONID set by inline script, not the token-param idiom", () => {
		expect(sessionCookieFromHtml(`document.cookie = "QSESSIONID=s3ss10n; path=/";`)).toBe("s3ss10n");
		expect(sessionCookieFromHtml(`document.cookie = "QSESSIONID=" + token;`)).toBeUndefined();
	});
});

describe("viewer URL session", () => {
	for (const cookieDelivery of ["set-cookie", "token-param", "inline-script"] as const) {
		test(`collects the session cookie (${cookieDelivery}) and CSRF token, activates the viewer, gets a KVM token`, async () => {
			const bmc = await mock({ cookieDelivery });
			const session = await loginWithViewerUrl(bmc.viewerUrl(), insecure, ctx());
			expect(session.kind).toBe("viewer");
			expect(session.origin).toBe(bmc.origin);
			expect(session.cookie.length).toBeGreaterThan(8);
			expect(session.csrfToken?.length).toBeGreaterThan(8);
			expect(bmc.stats.viewerActivations).toBe(1);
			const token = await requestKvmToken(session, ctx());
			expect(token.clientIp).toBe("127.0.0.1");
			expect(bmc.stats.kvmTokensIssued).toBe(1);
			// Every secret learned is redacted from logs and errors from now on.
			const leaked = `${session.cookie} ${session.csrfToken} ${token.token}`;
			expect(redact(leaked)).toBe("[REDACTED] [REDACTED] [REDACTED]");
		});
	}

	test("asks for the KVM token with GET, then POST when the firmware answers 405", async () => {
		const bmc = await mock({ tokenMethod: "POST" });
		const session = await loginWithViewerUrl(bmc.viewerUrl(), insecure, ctx());
		await requestKvmToken(session, ctx());
		expect(bmc.stats.kvmTokenMethods).toEqual(["GET", "POST"]);
	});

	test("a CSRF token the BMC does not accept is named in the error", async () => {
		const bmc = await mock();
		const session = await loginWithViewerUrl(bmc.viewerUrl(), insecure, ctx());
		const error = await failure(requestKvmToken({ ...session, csrfToken: "forged-token" }, ctx()));
		expect(error).toMatchObject({ code: "AUTH_FAILED", stage: "bmc-login" });
		expect(error.message).toMatch(/CSRF token was not accepted/);
	});

	test("an expired viewer URL is a clear, retryable error", async () => {
		const bmc = await mock();
		const url = bmc.viewerUrl();
		bmc.expireViewerUrls();
		const error = await failure(loginWithViewerUrl(url, insecure, ctx()));
		expect(error.code).toBe("AUTH_FAILED");
		expect(error.stage).toBe("bmc-login");
		expect(error.message).toMatch(/expired or was already used/);
		expect(error.retryable).toBe(true);
	});

	test("an expired session behind a token-param URL fails at the KVM token, with the same message", async () => {
		const bmc = await mock({ cookieDelivery: "token-param" });
		const url = bmc.viewerUrl();
		bmc.expireViewerUrls();
		const session = await loginWithViewerUrl(url, insecure, ctx());
		const error = await failure(requestKvmToken(session, ctx()));
		expect(error.message).toMatch(/expired or was already used/);
	});

	test("a page that is not the KVM viewer is 'unexpected HTML'", async () => {
		const bmc = await mock({ unexpectedHtml: "viewer" });
		const url = bmc.viewerUrl().replace(/token=[^&]+/, "lang=de");
		const error = await failure(loginWithViewerUrl(url, insecure, ctx()));
		expect(error.code).toBe("PROTOCOL");
		expect(error.message).toMatch(/unexpected HTML page/);
	});

	test("HTML where the KVM token API should be is 'unexpected HTML'", async () => {
		const bmc = await mock({ unexpectedHtml: "kvm-token" });
		const session = await loginWithViewerUrl(bmc.viewerUrl(), insecure, ctx());
		const error = await failure(requestKvmToken(session, ctx()));
		expect(error.message).toMatch(/unexpected HTML page/);
		expect(error.hint).toMatch(/MegaRAC/);
	});

	test("a self-signed certificate is refused unless the target says tls.insecure", async () => {
		const bmc = await mock();
		const error = await failure(loginWithViewerUrl(bmc.viewerUrl(), undefined, ctx()));
		expect(error.code).toBe("CONNECTION");
		expect(error.message).toMatch(/TLS certificate that is not trusted/);
		expect(error.hint).toMatch(/insecure: true/);
		// Other requests in the same process still verify certificates: nothing global was switched off.
		await loginWithViewerUrl(bmc.viewerUrl(), insecure, ctx());
		expect(await failure(loginWithViewerUrl(bmc.viewerUrl(), {}, ctx()))).toMatchObject({ code: "CONNECTION" });
	});

	test("a BMC that does not answer times out naming the stage", async () => {
		const bmc = await mock({ stall: "viewer" });
		const t0 = performance.now();
		const error = await failure(loginWithViewerUrl(bmc.viewerUrl(), insecure, ctx(200)));
		expect(performance.now() - t0).toBeLessThan(2000);
		expect(error.code).toBe("TIMEOUT");
		expect(error.stage).toBe("bmc-login");
		expect(error.message).toMatch(/did not answer the viewer URL/);
		expect(error.message).not.toMatch(/token=/);
	});

	test("the caller's cancellation stops a request at once", async () => {
		const bmc = await mock({ stall: "kvm-token" });
		const session = await loginWithViewerUrl(bmc.viewerUrl(), insecure, ctx());
		const controller = new AbortController();
		setTimeout(() => controller.abort(), 50);
		const error = await failure(requestKvmToken(session, { signal: controller.signal, timeoutMs: 5000 }));
		expect(error.code).toBe("CANCELLED");
		expect(error.stage).toBe("bmc-login");
	});

	test("an unreachable BMC is a connection error", async () => {
		const bmc = await mock();
		const url = bmc.viewerUrl();
		await bmc.stop();
		const error = await failure(loginWithViewerUrl(url, insecure, ctx()));
		expect(error.code).toBe("CONNECTION");
		expect(error.message).toMatch(/Could not reach the BMC/);
	});

	test("a viewer URL that is not https is refused before any request", async () => {
		expect(await failure(loginWithViewerUrl("ftp://bmc/x", insecure, ctx()))).toMatchObject({ code: "BAD_INPUT" });
		expect(await failure(loginWithViewerUrl("not a url", insecure, ctx()))).toMatchObject({ code: "BAD_INPUT" });
	});
});

describe("direct login", () => {
	test("logs in with username and password, gets a KVM token, logs out", async () => {
		const bmc = await mock();
		const session = await loginWithPassword(bmc.origin, bmc.username, bmc.password, insecure, ctx());
		expect(session.kind).toBe("login");
		expect(bmc.stats.logins).toBe(1);
		expect(bmc.stats.webSessions).toBe(1);
		await requestKvmToken(session, ctx());
		expect(await logout(session, 2000)).toBe(true);
		expect(bmc.stats.logouts).toBe(1);
		expect(bmc.stats.webSessions).toBe(0);
		expect(redact(`pw=${bmc.password}`)).toBe("pw=[REDACTED]");
	});

	test("a wrong password is 'login refused', without the password in the message", async () => {
		const bmc = await mock();
		const error = await failure(loginWithPassword(bmc.origin, "admin", "wrong-secret-pw", insecure, ctx()));
		expect(error.code).toBe("AUTH_FAILED");
		expect(error.message).toMatch(/refused the login of user "admin": wrong username or password/);
		expect(error.toUserMessage()).not.toContain("wrong-secret-pw");
		expect(bmc.stats.failedLogins).toBe(1);
	});

	test("a BMC at its session limit says busy", async () => {
		const bmc = await mock({ maxWebSessions: 1 });
		await loginWithPassword(bmc.origin, bmc.username, bmc.password, insecure, ctx());
		const error = await failure(loginWithPassword(bmc.origin, bmc.username, bmc.password, insecure, ctx()));
		expect(error.code).toBe("BUSY");
		expect(error.message).toMatch(/busy/);
		expect(error.retryable).toBe(true);
	});

	test("HTML where the login API should be is 'unexpected HTML'", async () => {
		const bmc = await mock({ unexpectedHtml: "login" });
		const error = await failure(loginWithPassword(bmc.origin, bmc.username, bmc.password, insecure, ctx()));
		expect(error.message).toMatch(/unexpected HTML page/);
	});

	test("a login that hangs times out in stage bmc-login", async () => {
		const bmc = await mock({ stall: "login" });
		const error = await failure(loginWithPassword(bmc.origin, bmc.username, bmc.password, insecure, ctx(150)));
		expect(error).toMatchObject({ code: "TIMEOUT", stage: "bmc-login" });
	});
});
