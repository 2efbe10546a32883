/**
 * The real-server matrix: VNC servers from Debian on loopback, each started once with a
 * known picture, and for every server × transport × authentication × encoding preference
 * a raw capture must equal the server's own framebuffer pixel for pixel (`xwd -root` of
 * the same X display; QEMU's `screendump`). Also 3840x2160 and a resize with `xrandr` on
 * Xvnc. A missing package skips its servers with the reason printed. The results are
 * written to test/vnc/servers-tested.md, the README's "VNC servers tested" table.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { standaloneContext } from "../../src/call-context.ts";
import type { ConsoleSession } from "../../src/console/types.ts";
import type { Frame } from "../../src/frame.ts";
import type { UpdateSummary } from "../../src/vnc/rfb-client.ts";
import { createVncOpener } from "../../src/vnc/session.ts";
import type { VncTarget } from "../../src/vnc/target.ts";
import { Encoding, encodingName, type RgbaImage } from "../../src/vnc/types.ts";
import { freeVncDisplay } from "../support/ports.ts";
import { QemuProcess } from "../support/qemu-process.ts";
import {
	fingerprint256,
	Lab,
	makeCertificates,
	missingTools,
	pointerToOrigin,
	startWebsockify,
	startX0vncserver,
	startX11vnc,
	startXvfb,
	startXvnc,
	type VncServer,
} from "../support/real-vnc.ts";
import { pixelDiff } from "../support/vnc.ts";

const LIMITS = { maxWidth: 4096, maxHeight: 2160 };
const PASSWORD = "s3cret-pw";

interface Preference {
	name: string;
	encodings?: number[];
	/** The encoding that must have painted some of the frame. */
	expect?: number;
	/** JPEG allowed: compare by PSNR instead of pixel for pixel. */
	minPsnr?: number;
}

/** Encoding preferences: the default order, then each pinned alone; Tight with and without JPEG. */
const PREFERENCES: Preference[] = [
	{ name: "default" },
	{ name: "Raw", encodings: [Encoding.Raw], expect: Encoding.Raw },
	{ name: "Hextile", encodings: [Encoding.Hextile], expect: Encoding.Hextile },
	{ name: "ZRLE", encodings: [Encoding.ZRLE], expect: Encoding.ZRLE },
	{ name: "Tight lossless", encodings: [Encoding.Tight], expect: Encoding.Tight },
	{
		name: "Tight JPEG",
		encodings: [Encoding.Tight, Encoding.QualityLevel0 + 8],
		expect: Encoding.Tight,
		minPsnr: 30,
	},
];

const X_TOOLS = { xwd: "x11-apps", xwud: "x11-apps", xsetroot: "x11-xserver-utils", xdpyinfo: "x11-utils" };
const WHY = {
	xvnc: missingTools({ Xvnc: "tigervnc-standalone-server", openssl: "openssl", ...X_TOOLS }),
	x0vnc: missingTools({ x0vncserver: "tigervnc-scraping-server", Xvfb: "xvfb", ...X_TOOLS }),
	x11vnc: missingTools({ x11vnc: "x11vnc", Xvfb: "xvfb", ...X_TOOLS }),
	websockify: missingTools({ websockify: "websockify", Xvnc: "tigervnc-standalone-server", x11vnc: "x11vnc" }),
	qemu: missingTools({ "qemu-system-x86_64": "qemu-system-x86", openssl: "openssl" }),
	xrandr: missingTools({ xrandr: "x11-xserver-utils" }),
};
for (const [what, why] of Object.entries(WHY)) if (why) console.warn(`real-servers: skipping ${what}: ${why}`);

interface Row {
	server: string;
	version: string;
	transport: string;
	auth: string;
	encoding: string;
	size: string;
	ok: boolean;
	ms: number;
}
const rows: Row[] = [];
/**
 * Rows the full run produces (cases registered outside skipped groups): a run filtered
 * by test name (-t) produces fewer and must not overwrite the table with a partial one.
 */
let expectedRows = 0;
let skipping = false;

/** A describe that is skipped, with its reason already printed, when `why` is set. */
function group(name: string, why: string | undefined, body: () => void): void {
	describe.skipIf(why !== undefined)(name, () => {
		const outer = skipping;
		skipping = outer || why !== undefined;
		body();
		skipping = outer;
	});
}

const lab = new Lab();
afterAll(async () => {
	await lab.stop();
	writeTable();
});

/** Captures once; returns the frame, the encodings that painted it and the time to the first frame. */
async function capture(
	target: VncTarget,
	encodings: number[] | undefined,
	session?: ConsoleSession,
): Promise<{ frame: Frame; used: Set<number>; ms: number }> {
	const used = new Set<number>();
	const onUpdate = (u: UpdateSummary) => {
		for (const e of u.encodings) used.add(e);
	};
	const ctx = standaloneContext(AbortSignal.timeout(15_000));
	const t0 = performance.now();
	const own = session ?? (await createVncOpener({ encodings, onUpdate })(target, ctx, LIMITS));
	try {
		const frame = await own.capture(ctx);
		return { frame, used, ms: performance.now() - t0 };
	} finally {
		if (!session) await own.close();
	}
}

/** Peak signal-to-noise ratio over RGB, in dB (Infinity when equal). */
function psnr(a: RgbaImage, b: RgbaImage): number {
	if (a.width !== b.width || a.height !== b.height) return 0;
	let sum = 0;
	for (let i = 0; i < a.rgba.length; i += 4) {
		for (let c = 0; c < 3; c++) {
			const d = (a.rgba[i + c] as number) - (b.rgba[i + c] as number);
			sum += d * d;
		}
	}
	const mse = sum / (a.width * a.height * 3);
	return mse === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10((255 * 255) / mse);
}

/** The picture reduced to 5-6-5: a depth-16 server's own values, whatever 8-bit scaling each side used. */
function to565(image: RgbaImage): RgbaImage {
	const rgba = image.rgba.slice();
	for (let i = 0; i < rgba.length; i += 4) {
		rgba[i] = (rgba[i] as number) >> 3;
		rgba[i + 1] = (rgba[i + 1] as number) >> 2;
		rgba[i + 2] = (rgba[i + 2] as number) >> 3;
	}
	return { ...image, rgba };
}

/** Captures on `session` until the frame has the size the display was just given (a few tries). */
async function captureAtSize(target: VncTarget, session: ConsoleSession, width: number, height: number) {
	let got = await capture(target, undefined, session);
	for (let i = 0; i < 5 && (got.frame.width !== width || got.frame.height !== height); i++) {
		await Bun.sleep(100);
		got = await capture(target, undefined, session);
	}
	return got;
}

function describeDiff(frame: RgbaImage, truth: RgbaImage, minPsnr?: number, depth16 = false): string {
	if (depth16) return describeDiff(to565(frame), to565(truth), minPsnr);
	if (minPsnr !== undefined) {
		const db = psnr(frame, truth);
		return db >= minPsnr ? "same" : `PSNR ${db.toFixed(1)} dB, below ${minPsnr} dB`;
	}
	const diff = pixelDiff(frame, truth);
	return diff.first ? `${diff.count} pixels differ, first at ${diff.first}` : "same";
}

/** One matrix case: the capture equals the server's framebuffer, grabbed before and after (a still screen). */
async function checkCase(
	row: Omit<Row, "ok" | "ms" | "size">,
	server: { grab(): Promise<RgbaImage>; depth16?: boolean },
	target: VncTarget,
	pref: Preference,
): Promise<void> {
	let ok = false;
	let ms = 0;
	let size = "";
	try {
		// The framebuffer before and after the capture; the picture must be one of them. A
		// blinking text cursor (QEMU's SeaBIOS) can change the screen in between: try again.
		let verdict = "";
		let used = new Set<number>();
		for (let attempt = 0; attempt < 4; attempt++) {
			const before = await server.grab();
			const got = await capture(target, pref.encodings);
			const after = await server.grab();
			ms = got.ms;
			used = got.used;
			size = `${got.frame.width}x${got.frame.height}`;
			verdict = describeDiff(got.frame, before, pref.minPsnr, server.depth16);
			if (verdict !== "same" && describeDiff(got.frame, after, pref.minPsnr, server.depth16) === "same")
				verdict = "same";
			if (verdict === "same" || describeDiff(after, before) === "same") break;
		}
		expect(verdict).toBe("same");
		if (pref.expect !== undefined) expect([...used].map(encodingName)).toContain(encodingName(pref.expect));
		ok = true;
	} finally {
		rows.push({ ...row, ok, ms, size });
	}
}

function matrix(
	label: string,
	server: () => VncServer,
	row: { server: string; transport: string; auth: string },
	target: () => VncTarget,
	preferences = PREFERENCES,
): void {
	if (!skipping) expectedRows += preferences.length;
	for (const pref of preferences) {
		test(`${label}, ${pref.name}`, async () => {
			const s = server();
			await checkCase({ ...row, version: s.version, encoding: pref.name }, s, target(), pref);
		});
	}
}

group("TigerVNC Xvnc", WHY.xvnc, () => {
	let none: VncServer;
	let vncAuth: VncServer;
	let tls: VncServer;
	let x509None: VncServer;
	let depth16: VncServer & { depth16: boolean };
	let anonymous: VncServer;
	let pki: Awaited<ReturnType<typeof makeCertificates>>;
	let pin = "";
	beforeAll(async () => {
		pki = await makeCertificates(lab);
		pin = await fingerprint256(lab, pki.cert);
		depth16 = { ...(await startXvnc(lab, { security: "None", depth: 16 })), depth16: true };
		[none, vncAuth, tls, x509None, anonymous] = await Promise.all([
			startXvnc(lab, { security: "None" }),
			startXvnc(lab, { security: "VncAuth", password: PASSWORD }),
			startXvnc(lab, { security: "X509Vnc", password: PASSWORD, cert: pki }),
			startXvnc(lab, { security: "X509None", cert: pki }),
			startXvnc(lab, { security: "TLSVnc", password: PASSWORD }),
		]);
	}, 30_000);

	const tcp =
		(s: () => VncServer, extra: Partial<VncTarget> = {}) =>
		() =>
			({ kind: "vnc", host: "127.0.0.1", port: s().port, ...extra }) as VncTarget;
	matrix(
		"TCP, None",
		() => none,
		{ server: "TigerVNC Xvnc", transport: "TCP", auth: "None" },
		tcp(() => none),
	);
	matrix(
		"TCP, VNC auth",
		() => vncAuth,
		{ server: "TigerVNC Xvnc", transport: "TCP", auth: "VNC" },
		tcp(() => vncAuth, { password: PASSWORD }),
	);
	matrix(
		"TCP, VeNCrypt X509Vnc (tls.ca)",
		() => tls,
		{ server: "TigerVNC Xvnc", transport: "TCP", auth: "VeNCrypt X509Vnc" },
		() => ({ kind: "vnc", host: "127.0.0.1", port: tls.port, password: PASSWORD, tls: { caFile: pki.ca } }),
	);

	matrix(
		"TCP, None, depth 16",
		() => depth16,
		{ server: "TigerVNC Xvnc (depth 16)", transport: "TCP", auth: "None" },
		tcp(() => depth16),
		PREFERENCES.filter((p) => p.minPsnr === undefined),
	);
	matrix(
		"TCP, VeNCrypt X509None (tls.ca)",
		() => x509None,
		{ server: "TigerVNC Xvnc", transport: "TCP", auth: "VeNCrypt X509None" },
		() => ({ kind: "vnc", host: "127.0.0.1", port: x509None.port, tls: { caFile: pki.ca } }),
		PREFERENCES.slice(0, 2),
	);

	test("VeNCrypt with anonymous TLS only (TLSVnc): refused, telling the operator to give the server a certificate", async () => {
		const error = await capture(
			{ kind: "vnc", host: "127.0.0.1", port: anonymous.port, password: PASSWORD },
			undefined,
		).catch((e) => e);
		expect(error).toMatchObject({ code: "NOT_SUPPORTED", stage: "handshake" });
		expect(error.message).toContain("TLSVnc (258)");
		expect(error.hint).toContain("-X509Cert");
	});

	test("VeNCrypt through a WebSocket is refused with what to do instead", async () => {
		if (WHY.websockify) return;
		const bridge = await startWebsockify(lab, tls.port);
		const error = await capture({ kind: "vnc", url: bridge.url, password: PASSWORD }, undefined).catch((e) => e);
		expect(error).toMatchObject({ code: "NOT_SUPPORTED", stage: "handshake" });
		expect(error.message).toContain("VeNCrypt (19)");
	});

	test("VeNCrypt X509Vnc with a pinned fingerprint; a wrong pin and an untrusted certificate are refused", async () => {
		const base: VncTarget = { kind: "vnc", host: "127.0.0.1", port: tls.port, password: PASSWORD };
		const { frame } = await capture({ ...base, tls: { fingerprint256: pin } }, undefined);
		expect(describeDiff(frame, await tls.grab())).toBe("same");
		const wrong = await capture({ ...base, tls: { fingerprint256: "00".repeat(32) } }, undefined).catch((e) => e);
		expect(wrong).toMatchObject({ code: "AUTH_FAILED", stage: "handshake" });
		expect(wrong.message).toContain("pinned");
		const untrusted = await capture(base, undefined).catch((e) => e);
		expect(untrusted).toMatchObject({ code: "AUTH_FAILED", stage: "handshake" });
		expect(untrusted.hint).toContain("tls.ca");
		const badPassword = await capture({ ...base, password: "wrong-pw", tls: { caFile: pki.ca } }, undefined).catch(
			(e) => e,
		);
		expect(badPassword).toMatchObject({ code: "AUTH_FAILED" });
	});

	group("3840x2160 and a resize", WHY.xrandr, () => {
		if (!skipping) expectedRows += PREFERENCES.length;
		test("a warm session follows xrandr to 3840x2160 and back, every preference pixel-exact", async () => {
			const target: VncTarget = { kind: "vnc", host: "127.0.0.1", port: none.port };
			const session = await createVncOpener()(target, standaloneContext(AbortSignal.timeout(10_000)), LIMITS);
			try {
				const first = await capture(target, undefined, session);
				expect(describeDiff(first.frame, await none.grab())).toBe("same");
				await none.resize(3840, 2160);
				// xrandr returns before the server has told its viewers: a capture may still see the old size.
				const big = await captureAtSize(target, session, 3840, 2160);
				expect(`${big.frame.width}x${big.frame.height}`).toBe("3840x2160");
				expect(describeDiff(big.frame, await none.grab())).toBe("same");
				for (const pref of PREFERENCES) {
					await checkCase(
						{ server: "TigerVNC Xvnc", version: none.version, transport: "TCP", auth: "None", encoding: pref.name },
						none,
						target,
						pref,
					);
				}
				await none.resize(1024, 768);
				const back = await captureAtSize(target, session, 1024, 768);
				expect(`${back.frame.width}x${back.frame.height}`).toBe("1024x768");
				expect(describeDiff(back.frame, await none.grab())).toBe("same");
			} finally {
				await session.close();
				await none.resize(1024, 768).catch(() => {});
			}
		}, 60_000);
	});

	group("through websockify", WHY.websockify, () => {
		let ws: { url: string };
		let wss: { url: string };
		beforeAll(async () => {
			[ws, wss] = await Promise.all([startWebsockify(lab, none.port), startWebsockify(lab, none.port, pki)]);
		});
		matrix(
			"websockify ws://",
			() => none,
			{ server: "TigerVNC Xvnc", transport: "websockify ws://", auth: "None" },
			() => ({ kind: "vnc", url: ws.url }),
		);
		matrix(
			"websockify ws://, subprotocol binary",
			() => none,
			{ server: "TigerVNC Xvnc", transport: "websockify ws:// (binary)", auth: "None" },
			() => ({ kind: "vnc", url: ws.url, subprotocols: ["binary"] }),
			PREFERENCES.slice(0, 2),
		);
		matrix(
			"websockify wss:// (tls.ca)",
			() => none,
			{ server: "TigerVNC Xvnc", transport: "websockify wss://", auth: "None" },
			() => ({ kind: "vnc", url: wss.url, tls: { caFile: pki.ca } }),
			PREFERENCES.slice(0, 2),
		);
	});
});

group("TigerVNC x0vncserver on Xvfb", WHY.x0vnc, () => {
	let server: VncServer;
	beforeAll(async () => {
		server = await startX0vncserver(lab, await startXvfb(lab));
		await pointerToOrigin(server.port);
	}, 30_000);
	matrix(
		"TCP, None",
		() => server,
		{ server: "TigerVNC x0vncserver", transport: "TCP", auth: "None" },
		() => ({ kind: "vnc", host: "127.0.0.1", port: server.port }),
	);
});

group("x11vnc on Xvfb", WHY.x11vnc, () => {
	let open: VncServer;
	let withPassword: VncServer;
	beforeAll(async () => {
		const x = await startXvfb(lab);
		[open, withPassword] = await Promise.all([startX11vnc(lab, x), startX11vnc(lab, x, PASSWORD)]);
	}, 30_000);
	const row = { server: "x11vnc", transport: "TCP" };
	matrix(
		"TCP, None",
		() => open,
		{ ...row, auth: "None" },
		() => ({ kind: "vnc", host: "127.0.0.1", port: open.port }),
	);
	matrix(
		"TCP, VNC auth",
		() => withPassword,
		{ ...row, auth: "VNC" },
		() => ({ kind: "vnc", host: "127.0.0.1", port: withPassword.port, password: PASSWORD }),
	);
	// x11vnc answers a WebSocket upgrade on its own port, but only with an Origin header.
	matrix(
		"its own WebSocket (Origin header)",
		() => open,
		{ server: "x11vnc", transport: "own ws://", auth: "None" },
		() => ({ kind: "vnc", url: `ws://127.0.0.1:${open.port}/` }),
		PREFERENCES.slice(0, 2),
	);

	group("through websockify", WHY.websockify, () => {
		let ws: { url: string };
		beforeAll(async () => {
			ws = await startWebsockify(lab, open.port);
		});
		matrix(
			"websockify ws://",
			() => open,
			{ server: "x11vnc", transport: "websockify ws://", auth: "None" },
			() => ({ kind: "vnc", url: ws.url }),
		);
	});
});

group("QEMU with tls-creds-x509 (VeNCrypt X509Vnc, as libvirt sets it up)", WHY.qemu, () => {
	let qemu: QemuProcess;
	let port = 0;
	let noPasswordPort = 0;
	let pki: Awaited<ReturnType<typeof makeCertificates>>;
	let version = "?";
	beforeAll(async () => {
		pki = await makeCertificates(lab);
		const display = await freeVncDisplay();
		const second = await freeVncDisplay([display]);
		port = 5900 + display;
		noPasswordPort = 5900 + second;
		qemu = await QemuProcess.start(
			[
				...["-machine", "pc,accel=tcg", "-vga", "std", "-m", "64"],
				...["-object", `tls-creds-x509,id=tls0,dir=${pki.dir},endpoint=server,verify-peer=off`],
				...["-vnc", `127.0.0.1:${display},tls-creds=tls0,password=on`],
				// A second display with TLS and no password: VeNCrypt X509None.
				...["-vnc", `127.0.0.1:${second},tls-creds=tls0,id=nopw`],
			],
			{ tmpPrefix: "ikvm-qemu-tls-" },
		);
		const reply = await qemu.monitor(`set_password vnc ${PASSWORD}`);
		if (reply.trim()) throw new Error(`set_password: ${reply.trim()}`);
		version = /^\d+\.\d+\.\d+/.exec((await qemu.monitor("info version")).trim())?.[0] ?? "?";
		// SeaBIOS ends at "No bootable device" and then stays still.
		await Bun.sleep(1500);
	}, 30_000);
	afterAll(() => qemu?.stop());

	const grab = async (): Promise<RgbaImage> => {
		const ppm = await qemu.screendump();
		const rgba = new Uint8Array(ppm.width * ppm.height * 4);
		for (let i = 0, o = 0; o < rgba.length; i += 3, o += 4) {
			rgba.set(ppm.rgb.subarray(i, i + 3), o);
			rgba[o + 3] = 255;
		}
		return { width: ppm.width, height: ppm.height, rgba };
	};

	if (!skipping) expectedRows += PREFERENCES.length;
	if (!skipping) expectedRows += 2;
	for (const pref of PREFERENCES.slice(0, 2)) {
		test(`TCP, VeNCrypt X509None (tls.ca), ${pref.name}`, async () => {
			const target: VncTarget = { kind: "vnc", host: "127.0.0.1", port: noPasswordPort, tls: { caFile: pki.ca } };
			await checkCase(
				{ server: "QEMU", version, transport: "TCP", auth: "VeNCrypt X509None", encoding: pref.name },
				{ grab },
				target,
				pref,
			);
		});
	}

	for (const pref of PREFERENCES) {
		test(`TCP, VeNCrypt X509Vnc (tls.ca), ${pref.name}`, async () => {
			const target: VncTarget = { kind: "vnc", host: "127.0.0.1", port, password: PASSWORD, tls: { caFile: pki.ca } };
			await checkCase(
				{ server: "QEMU", version, transport: "TCP", auth: "VeNCrypt X509Vnc", encoding: pref.name },
				{ grab },
				target,
				pref,
			);
		});
	}
});

/** The README table: one line per server, transport and authentication. */
function writeTable(): void {
	if (rows.length === 0 || rows.length < expectedRows) return;
	const groups = new Map<string, Row[]>();
	for (const r of rows) {
		const key = [r.server, r.version, r.transport, r.auth].join("|");
		groups.set(key, [...(groups.get(key) ?? []), r]);
	}
	const lines = [
		"| Server | Version | Transport | Authentication | Encodings | Sizes | Result |",
		"| --- | --- | --- | --- | --- | --- | --- |",
	];
	for (const group of groups.values()) {
		const r = group[0] as Row;
		const passed = group.filter((g) => g.ok).length;
		const encodings = [...new Set(group.map((g) => g.encoding))].join(", ");
		const sizes = [...new Set(group.map((g) => g.size).filter(Boolean))].join(", ");
		lines.push(
			`| ${r.server} | ${r.version} | ${r.transport} | ${r.auth} | ${encodings} | ${sizes} | ${passed === group.length ? "pass" : "FAIL"} (${passed}/${group.length}) |`,
		);
	}
	// No times or dates: the file changes only when a result does (latency is in bench/vnc-servers.ts).
	const text = `<!-- written by test/vnc/real-servers.test.ts -->\n${lines.join("\n")}\n`;
	writeFileSync(join(import.meta.dir, "servers-tested.md"), text);
}
