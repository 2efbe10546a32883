/**
 * The Supermicro console path end to end against the mock Supermicro BMC over
 * real HTTPS and WebSocket on loopback: login, one-time token, the ATEN
 * dialect, the shared decoder. The four ATEN vectors come back bit-exactly;
 * no-signal, resolution change, token rejection, session limit, abort paths,
 * warm reuse and clean shutdown; the mock sees no side-effect message.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { AtenLogins } from "../../src/aten/logins.ts";
import { type AtenOpenerOptions, createAtenOpener } from "../../src/aten/open.ts";
import type { SupermicroTarget } from "../../src/aten/types.ts";
import { standaloneContext } from "../../src/call-context.ts";
import type { ConsoleSession } from "../../src/console/types.ts";
import { encodeAtenPayload } from "../../src/demo/aten-encoder.ts";
import { testPattern } from "../../src/demo/patterns.ts";
import { MockSupermicroBmc, type MockSupermicroOptions, type SupermicroFrame } from "../../src/demo/supermicro-bmc.ts";
import { failure } from "../support/ikvm-error.ts";

const dir = join(import.meta.dir, "../fixtures/aten");
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const LIMITS = { maxWidth: 4096, maxHeight: 4096 };

interface Vector {
	width: number;
	height: number;
	payloads: Uint8Array[];
	sha: string;
}

async function vector(name: string): Promise<Vector> {
	const v = await Bun.file(join(dir, `${name}.json`)).json();
	const payloads = v.frames
		? v.frames.map((f: { payload_b64: string }) => new Uint8Array(Buffer.from(f.payload_b64, "base64")))
		: [new Uint8Array(await Bun.file(join(dir, v.payload_file)).arrayBuffer())];
	return { width: v.width, height: v.height, payloads, sha: v.expected.rgba_sha256 };
}

const running: MockSupermicroBmc[] = [];
const sessions: ConsoleSession[] = [];

afterEach(async () => {
	await Promise.all(sessions.splice(0).map((s) => s.close()));
	for (const bmc of running.splice(0)) {
		const violations = [...bmc.violations];
		await bmc.stop();
		expect(violations).toEqual([]);
	}
});

async function startBmc(options: Partial<MockSupermicroOptions> & Pick<MockSupermicroOptions, "frames">) {
	const bmc = await new MockSupermicroBmc(options).start();
	running.push(bmc);
	return bmc;
}

function targetOf(bmc: MockSupermicroBmc, extra: Partial<SupermicroTarget> = {}): SupermicroTarget {
	return {
		kind: "supermicro",
		url: bmc.origin,
		username: bmc.username,
		password: bmc.password,
		tls: { insecure: true },
		...extra,
	};
}

function opener(options: AtenOpenerOptions = {}) {
	const open = createAtenOpener({ keyDelayMs: 0, logins: new AtenLogins(), ...options });
	return async (target: SupermicroTarget, signal?: AbortSignal) => {
		const session = await open(target, standaloneContext(signal), LIMITS);
		sessions.push(session);
		return session;
	};
}

/** Frames in order, one per FramebufferUpdateRequest; the last repeats. */
function sequence(frames: SupermicroFrame[]): MockSupermicroOptions["frames"] {
	let i = 0;
	return () => frames[Math.min(i++, frames.length - 1)] as SupermicroFrame;
}

async function settle(check: () => boolean, ms = 3000): Promise<void> {
	const until = Date.now() + ms;
	while (!check() && Date.now() < until) await Bun.sleep(10);
}

describe("ATEN vectors through the real socket path", () => {
	for (const name of ["v1_444_vq_dct_skip_16x16", "v2_420_dc_quadrants_16x16", "real_x10_console_1024x768"]) {
		test(`${name} decodes bit-exactly`, async () => {
			const v = await vector(name);
			const frame = { width: v.width, height: v.height, payload: v.payloads[0] as Uint8Array };
			const bmc = await startBmc({ frames: () => frame, wsChunking: "random", seed: 3 });
			const session = await opener()(targetOf(bmc));
			const picture = await session.capture(standaloneContext());
			expect([picture.width, picture.height]).toEqual([v.width, v.height]);
			expect(sha256(picture.rgba)).toBe(v.sha);
		});
	}

	test("v3: the incremental frame paints over the first on one warm session", async () => {
		const v = await vector("v3_incremental_on_v1_16x16");
		const bmc = await startBmc({
			frames: sequence(v.payloads.map((payload) => ({ width: 16, height: 16, payload }))),
		});
		const session = await opener()(targetOf(bmc));
		await session.capture(standaloneContext());
		const second = await session.capture(standaloneContext());
		expect(sha256(second.rgba)).toBe(v.sha);
		expect(bmc.stats.kvmConnections).toBe(1);
		expect(bmc.stats.tokensUsed).toBe(1);
	});
});

describe("Supermicro console session", () => {
	const picture = testPattern(64, 48);
	const frame = (): SupermicroFrame => ({ width: 64, height: 48, payload: encodeAtenPayload(picture) });

	test("warm reuse: one login, one token, one socket for several captures; close leaves nothing open", async () => {
		const bmc = await startBmc({ frames: frame });
		const session = await opener()(targetOf(bmc));
		for (let i = 0; i < 3; i++) {
			const shot = await session.capture(standaloneContext());
			expect([shot.width, shot.height]).toEqual([64, 48]);
		}
		expect(bmc.stats).toMatchObject({ logins: 1, tokensIssued: 1, tokensUsed: 1, kvmConnections: 1, kvmOpen: 1 });
		expect(session.screenSize).toEqual({ width: 64, height: 48 });
		await session.close();
		await settle(() => bmc.stats.kvmOpen === 0 && bmc.stats.webSessions === 0);
		expect(bmc.stats).toMatchObject({
			kvmOpen: 0,
			kvmSessions: 0,
			webSessions: 0,
			logouts: 1,
			logoutsWithOpenConsole: 0,
		});
		expect(bmc.sideEffects).toEqual([]);
	});

	test("the pictures show what the BMC encodes (4:4:4 with VQ is exact on a test pattern)", async () => {
		const bmc = await startBmc({ frames: frame });
		const session = await opener()(targetOf(bmc));
		const shot = await session.capture(standaloneContext());
		let maxDiff = 0;
		for (let i = 0; i < shot.rgba.length; i++)
			maxDiff = Math.max(maxDiff, Math.abs((shot.rgba[i] as number) - (picture.rgba[i] as number)));
		expect(maxDiff).toBeLessThan(48);
	});

	test("two sessions on one BMC share one web login, logged out after the last socket closed", async () => {
		const bmc = await startBmc({ frames: frame });
		const open = opener();
		const a = await open(targetOf(bmc));
		const b = await open(targetOf(bmc));
		expect(bmc.stats.logins).toBe(1);
		expect(bmc.stats.tokensIssued).toBe(2);
		await a.close();
		expect(bmc.stats.logouts).toBe(0);
		expect((await b.capture(standaloneContext())).width).toBe(64);
		await b.close();
		await settle(() => bmc.stats.webSessions === 0);
		expect(bmc.stats).toMatchObject({ logouts: 1, kvmOpen: 0, webSessions: 0, logoutsWithOpenConsole: 0 });
	});

	test("the host off: the no-signal sentinel is a POWERED_OFF error with the BMC's power state, never a picture", async () => {
		const bmc = await startBmc({ frames: frame, poweredOn: false });
		const session = await opener()(targetOf(bmc));
		const error = await failure(session.capture(standaloneContext()));
		expect(error.code).toBe("POWERED_OFF");
		expect(error.message).toContain("screen is off or has no signal");
		expect(error.message).toContain("powered off");
		expect(bmc.stats.noSignalSent).toBeGreaterThan(0);
		expect(bmc.stats.powerStatusReads).toBeGreaterThan(0);
		// Power back on: the same warm session shows the picture.
		bmc.setPower(true);
		expect((await session.capture(standaloneContext())).width).toBe(64);
	});

	test("a normal-size empty rectangle also means no signal", async () => {
		const bmc = await startBmc({ frames: frame, poweredOn: false, noSignalStyle: "empty" });
		const session = await opener()(targetOf(bmc));
		const error = await failure(session.capture(standaloneContext()));
		expect(error.code).toBe("POWERED_OFF");
	});

	test("resolution change: the next capture has the new size", async () => {
		const small = testPattern(64, 48);
		const large = testPattern(128, 96);
		let big = false;
		const bmc = await startBmc({
			frames: () =>
				big
					? { width: 128, height: 96, payload: encodeAtenPayload(large) }
					: { width: 64, height: 48, payload: encodeAtenPayload(small) },
		});
		const session = await opener()(targetOf(bmc));
		expect((await session.capture(standaloneContext())).width).toBe(64);
		big = true;
		const after = await session.capture(standaloneContext());
		expect([after.width, after.height]).toEqual([128, 96]);
		expect(session.screenSize).toEqual({ width: 128, height: 96 });
	});

	test("a session without video (IKVMVideoEnable 0) is ACCESS_DENIED at aten-video and leaves nothing open", async () => {
		const bmc = await startBmc({ frames: frame, video: false });
		const error = await failure(opener()(targetOf(bmc)));
		expect([error.code, error.stage]).toEqual(["ACCESS_DENIED", "aten-video"]);
		await settle(() => bmc.stats.kvmOpen === 0 && bmc.stats.webSessions === 0);
		expect(bmc.stats).toMatchObject({ kvmOpen: 0, webSessions: 0 });
	});

	test("a wrong password is AUTH_FAILED at aten-login and opens nothing", async () => {
		const bmc = await startBmc({ frames: frame });
		const error = await failure(opener()(targetOf(bmc, { password: "wrong-smc-password" })));
		expect(error.code).toBe("AUTH_FAILED");
		expect(error.stage).toBe("aten-login");
		expect(bmc.stats).toMatchObject({ failedLogins: 1, webSessions: 0, kvmConnections: 0 });
	});

	test("Redfish-only firmware: CGI login refused, Redfish session and token, logged out with DELETE", async () => {
		const bmc = await startBmc({ frames: frame, cgiLogin: false });
		const session = await opener()(targetOf(bmc));
		expect((await session.capture(standaloneContext())).width).toBe(64);
		expect(bmc.stats.redfishLogins).toBe(1);
		await session.close();
		await settle(() => bmc.stats.webSessions === 0);
		expect(bmc.stats.webSessions).toBe(0);
	});

	test("the CGI page without entry_value: the token comes from Redfish", async () => {
		const bmc = await startBmc({ frames: frame, cgiToken: false });
		const session = await opener()(targetOf(bmc));
		expect((await session.capture(standaloneContext())).width).toBe(64);
		expect(bmc.stats.tokensUsed).toBe(1);
	});

	test("a spent token is rejected: AUTH_FAILED at aten-auth, and the next open fetches a fresh one", async () => {
		const bmc = await startBmc({ frames: frame });
		const open = opener();
		const session = await open(targetOf(bmc));
		await session.close();
		// Replay: the mock's tokens are single-use; a reconnect must never reuse one.
		expect(bmc.stats.tokenRejections).toBe(0);
		const again = await open(targetOf(bmc));
		expect((await again.capture(standaloneContext())).width).toBe(64);
		expect(bmc.stats).toMatchObject({ tokensIssued: 2, tokensUsed: 2, tokenRejections: 0 });
	});

	test("session limit: 'too many users' (0x39 code 4) is a BUSY error that says what to do", async () => {
		const bmc = await startBmc({ frames: frame, maxKvmSessions: 1 });
		const open = opener();
		await open(targetOf(bmc));
		const error = await failure(open(targetOf(bmc)));
		expect(error.code).toBe("BUSY");
		expect(error.message).toContain("too many users");
		expect(error.hint).toContain("Close other consoles");
		await settle(() => bmc.stats.kvmOpen === 1);
		expect(bmc.stats.kvmOpen).toBe(1);
	});

	test("handshake time limits name their stage and leave nothing open", async () => {
		for (const [stall, stage] of [
			["banner", "aten-banner"],
			["security-result", "aten-auth"],
		] as const) {
			const bmc = await startBmc({ frames: frame, stall });
			const error = await failure(opener({ timeouts: { handshake: 300 } })(targetOf(bmc)));
			expect(error.code).toBe("TIMEOUT");
			expect(error.stage).toBe(stage);
			await settle(() => bmc.stats.kvmOpen === 0 && bmc.stats.webSessions === 0);
			expect(bmc.stats).toMatchObject({ kvmOpen: 0, webSessions: 0 });
		}
	});

	test("a stalled frame times out at aten-video; an abort mid-capture is CANCELLED; both release the BMC", async () => {
		const bmc = await startBmc({ frames: frame, stall: "frame" });
		const cold = await failure(opener({ timeouts: { frame: 300 } })(targetOf(bmc)));
		expect([cold.code, cold.stage]).toEqual(["TIMEOUT", "aten-video"]);
		await settle(() => bmc.stats.kvmOpen === 0 && bmc.stats.webSessions === 0);
		expect(bmc.stats).toMatchObject({ kvmOpen: 0, webSessions: 0 });

		bmc.options.stall = undefined;
		const session = await opener({ timeouts: { frame: 300 } })(targetOf(bmc));
		bmc.options.stall = "frame";
		const timeout = await failure(session.capture(standaloneContext()));
		expect(timeout.code).toBe("TIMEOUT");
		expect(timeout.stage).toBe("aten-video");
		await settle(() => bmc.stats.kvmOpen === 0 && bmc.stats.webSessions === 0);
		expect(bmc.stats).toMatchObject({ kvmOpen: 0, webSessions: 0 });

		bmc.options.stall = undefined;
		const second = await opener()(targetOf(bmc));
		bmc.options.stall = "frame";
		const abort = new AbortController();
		setTimeout(() => abort.abort(), 100);
		const cancelled = await failure(second.capture(standaloneContext(abort.signal)));
		expect(cancelled.code).toBe("CANCELLED");
		await second.close();
		await settle(() => bmc.stats.kvmOpen === 0 && bmc.stats.webSessions === 0);
		expect(bmc.stats).toMatchObject({ kvmOpen: 0, webSessions: 0 });
	});

	test("an abort while logging in leaves no session", async () => {
		const bmc = await startBmc({ frames: frame, stall: "token" });
		const abort = new AbortController();
		setTimeout(() => abort.abort(), 150);
		const error = await failure(opener()(targetOf(bmc), abort.signal));
		expect(error.code).toBe("CANCELLED");
		await settle(() => bmc.stats.webSessions === 0);
		expect(bmc.stats.webSessions).toBe(0);
	});

	test("the BMC dropping the connection mid-frame: a CONNECTION error, and the login is released", async () => {
		const bmc = await startBmc({ frames: frame, closeMidFrame: 2 });
		const session = await opener()(targetOf(bmc));
		const error = await failure(session.capture(standaloneContext()));
		expect(error.code).toBe("CONNECTION");
		expect(session.closed).toBe(true);
		await settle(() => bmc.stats.webSessions === 0);
		expect(bmc.stats.webSessions).toBe(0);
	});

	test("an unknown server message type ends the session with a PROTOCOL error", async () => {
		const bmc = await startBmc({ frames: frame });
		const session = await opener()(targetOf(bmc));
		await session.capture(standaloneContext());
		bmc.sendRawToKvm(Uint8Array.of(0x77, 1, 2, 3));
		await settle(() => session.closed);
		const error = await failure(session.capture(standaloneContext()));
		expect(error.code).toBe("PROTOCOL");
		expect(error.message).toContain("0x77");
	});

	test("firmware whose 0x37 carries 3 bytes is followed without a desync", async () => {
		const bmc = await startBmc({ frames: frame, mouseInfoLength: 3 });
		const session = await opener()(targetOf(bmc));
		expect((await session.capture(standaloneContext())).width).toBe(64);
	});

	test("a web logout elsewhere (0x39 code 3) ends the console with a clear error", async () => {
		const bmc = await startBmc({ frames: frame });
		const session = await opener()(targetOf(bmc));
		await session.capture(standaloneContext());
		// Someone logs the shared account out in the web UI.
		const sid = bmc.issued[0] as string;
		await fetch(`${bmc.origin}/cgi/logout.cgi`, {
			headers: { Cookie: `SID=${sid}` },
			tls: { rejectUnauthorized: false },
		});
		await settle(() => session.closed);
		const error = await failure(session.capture(standaloneContext()));
		expect(error.code).toBe("CONNECTION");
		expect(error.message).toContain("logged out");
	});

	test("keep-alives flow on a warm session", async () => {
		const bmc = await startBmc({ frames: frame });
		await opener({ keepAliveMs: 50 })(targetOf(bmc));
		await settle(() => bmc.stats.keepAlives >= 2);
		expect(bmc.stats.keepAlives).toBeGreaterThanOrEqual(2);
	});
});
