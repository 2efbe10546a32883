/**
 * The web side of the Supermicro path: SID and entry_value parsing, the
 * viewer-link hand-off (atenTargetFromViewer and the OVH viewer sniffing), a
 * viewer-link console against the mock BMC, the CGI preview fallback (BMP,
 * PNG, JPEG by their magic bytes), and the driver's targets-file entry.
 */
import { afterEach, describe, expect, test } from "bun:test";
import sharp from "sharp";
import { atenDriver } from "../../src/aten/driver.ts";
import { AtenLogins } from "../../src/aten/logins.ts";
import { createAtenOpener } from "../../src/aten/open.ts";
import { decodeBmp, sniffImage } from "../../src/aten/preview.ts";
import type { SupermicroTarget } from "../../src/aten/types.ts";
import { atenTargetFromViewer } from "../../src/aten/viewer.ts";
import { entryValueFrom, sidFrom } from "../../src/aten/web.ts";
import { standaloneContext } from "../../src/call-context.ts";
import type { ConsoleSession } from "../../src/console/types.ts";
import { encodeAtenPayload } from "../../src/demo/aten-encoder.ts";
import { testPattern } from "../../src/demo/patterns.ts";
import { MockSupermicroBmc, type MockSupermicroOptions } from "../../src/demo/supermicro-bmc.ts";
import { targetFromViewerPage, targetFromViewerUrl } from "../../src/providers/ovh/viewer.ts";
import { failure } from "../support/ikvm-error.ts";

const LIMITS = { maxWidth: 4096, maxHeight: 4096 };
const picture = testPattern(64, 48);
const frames = () => ({ width: 64, height: 48, payload: encodeAtenPayload(picture) });
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

async function startBmc(options: Partial<MockSupermicroOptions> = {}) {
	const bmc = await new MockSupermicroBmc({ frames, ...options }).start();
	running.push(bmc);
	return bmc;
}

function bmp(width: number, height: number, rgba: Uint8Array): Uint8Array {
	const stride = Math.ceil((width * 3) / 4) * 4;
	const out = Buffer.alloc(54 + stride * height);
	out.write("BM", 0);
	out.writeUInt32LE(out.length, 2);
	out.writeUInt32LE(54, 10);
	out.writeUInt32LE(40, 14);
	out.writeInt32LE(width, 18);
	out.writeInt32LE(height, 22);
	out.writeUInt16LE(1, 26);
	out.writeUInt16LE(24, 28);
	for (let y = 0; y < height; y++) {
		for (let x = 0; x < width; x++) {
			const s = (y * width + x) * 4;
			const d = 54 + (height - 1 - y) * stride + x * 3;
			out[d] = rgba[s + 2] as number;
			out[d + 1] = rgba[s + 1] as number;
			out[d + 2] = rgba[s] as number;
		}
	}
	return out;
}

describe("parsing", () => {
	test("entry_value in any attribute order and quote style; other inputs ignored", () => {
		expect(entryValueFrom(`<input type="hidden" id="entry_value" value="abc123">`)).toBe("abc123");
		expect(entryValueFrom(`<input value='tok' name=x id='entry_value'/>`)).toBe("tok");
		expect(entryValueFrom(`<input id=entry_value value=plain>`)).toBe("plain");
		expect(entryValueFrom(`<input id="entry_value_x" value="no"><input id="other" value="no">`)).toBeUndefined();
	});

	test("SID: the emptied cookie some firmware sends first does not count", () => {
		const headers = new Headers();
		headers.append("Set-Cookie", "SID=; path=/");
		headers.append("Set-Cookie", "SID=abcdef; path=/; secure");
		expect(sidFrom(headers)).toBe("abcdef");
		expect(sidFrom(new Headers({ "Set-Cookie": "QSESSIONID=zzz" }))).toBeUndefined();
	});
});

describe("viewer-link hand-off", () => {
	const page = (body: string, setCookie: string | null = "SID=s1d2e3; path=/") => ({ status: 200, setCookie, body });

	test("a Supermicro console page with a SID becomes an aten-viewer target; AMI and noVNC pages do not", () => {
		const url = "https://10.1.2.3/cgi/url_redirect.cgi?url_name=man_ikvm_html5_bootstrap";
		expect(atenTargetFromViewer(url, page(`<input id="entry_value" value="t">`))).toEqual({
			kind: "aten-viewer",
			origin: "https://10.1.2.3",
			sid: "s1d2e3",
			tls: { insecure: true },
		});
		expect(atenTargetFromViewer("https://bmc/?token=abc", page("<script>garc</script>", "QSESSIONID=x"))).toBeNull();
		expect(atenTargetFromViewer("https://bmc/vnc.html", page("noVNC", null))).toBeNull();
		expect(atenTargetFromViewer(url, page("<html></html>", null))).toBeNull();
	});

	test("the OVH viewer sniffing hands Supermicro pages and SID links to the ATEN path", () => {
		const viaPage = targetFromViewerPage(
			"https://1.2.3.4/",
			page(`<title>ATEN iKVM</title><input id="entry_value" value="x">`),
		);
		expect(viaPage?.kind).toBe("aten-viewer");
		const viaUrl = targetFromViewerUrl(
			"https://1.2.3.4/cgi/url_redirect.cgi?url_name=man_ikvm_html5_bootstrap&SID=abcd",
		);
		expect(viaUrl).toMatchObject({ kind: "aten-viewer", sid: "abcd" });
		// AMI stays AMI.
		expect(targetFromViewerUrl("https://1.2.3.4/?token=abc")?.kind).toBe("ami-viewer");
	});

	test("an aten-viewer target opens a console with the link's SID, fetching its own token, and never logs that session out", async () => {
		const bmc = await startBmc();
		const sid = bmc.openViewerSession();
		const session = await atenDriver.open(
			{ kind: "aten-viewer", origin: bmc.origin, sid, tls: { insecure: true } },
			standaloneContext(),
			LIMITS,
		);
		sessions.push(session);
		expect((await session.capture(standaloneContext())).width).toBe(64);
		await session.close();
		expect(bmc.stats).toMatchObject({ logins: 0, logouts: 0, tokensUsed: 1, webSessions: 1 });
	});
});

describe("preview fallback", () => {
	test("magic bytes decide the format", () => {
		expect(sniffImage(Uint8Array.of(0x42, 0x4d, 0))).toBe("bmp");
		expect(sniffImage(Uint8Array.of(0xff, 0xd8, 0xff, 0xe0))).toBe("jpeg");
		expect(sniffImage(Uint8Array.of(0x89, 0x50, 0x4e, 0x47))).toBe("png");
		expect(sniffImage(Uint8Array.of(0x3c, 0x68))).toBe("unknown");
	});

	test("a BMP snapshot decodes exactly, bottom-up rows included", () => {
		const decoded = decodeBmp(bmp(64, 48, picture.rgba), LIMITS);
		expect([decoded.width, decoded.height]).toEqual([64, 48]);
		expect(Buffer.from(decoded.rgba).equals(Buffer.from(picture.rgba))).toBe(true);
	});

	test('"preview": true reads the CGI snapshot (PNG here) through the driver; no KVM socket is opened', async () => {
		const png = await sharp(Buffer.from(picture.rgba), { raw: { width: 64, height: 48, channels: 4 } })
			.png()
			.toBuffer();
		const bmc = await startBmc({ preview: () => png });
		const target: SupermicroTarget = {
			kind: "supermicro",
			url: bmc.origin,
			username: bmc.username,
			password: bmc.password,
			tls: { insecure: true },
			preview: true,
		};
		const session = await createAtenOpener({ logins: new AtenLogins(), previewDelayMs: 10 })(
			target,
			standaloneContext(),
			LIMITS,
		);
		sessions.push(session);
		const shot = await session.capture(standaloneContext());
		expect(Buffer.from(shot.rgba).equals(Buffer.from(picture.rgba))).toBe(true);
		expect(bmc.stats).toMatchObject({ previews: 1, kvmConnections: 0 });
		expect(session.sendKeys).toBeUndefined();
		await session.close();
		expect(bmc.stats.webSessions).toBe(0);
	});

	test("firmware without the preview: NOT_SUPPORTED with what to do", async () => {
		const bmc = await startBmc();
		const target: SupermicroTarget = {
			kind: "supermicro",
			url: bmc.origin,
			username: bmc.username,
			password: bmc.password,
			tls: { insecure: true },
			preview: true,
		};
		const session = await createAtenOpener({ logins: new AtenLogins(), previewDelayMs: 10 })(
			target,
			standaloneContext(),
			LIMITS,
		);
		sessions.push(session);
		const error = await failure(session.capture(standaloneContext()));
		expect(error.code).toBe("NOT_SUPPORTED");
		expect(error.hint).toContain("preview");
	});
});

describe("driver", () => {
	const secrets = (inline: string | undefined, env: string | undefined) =>
		inline ?? (env ? process.env[env] : undefined);

	test("the targets-file entry of the brief validates and becomes a supermicro target", () => {
		process.env.SMC_PW_TEST = "s3cret";
		const entry = atenDriver.configSchema.parse({
			id: "smc-1",
			type: "supermicro",
			url: "https://10.0.0.9",
			username: "ADMIN",
			passwordEnv: "SMC_PW_TEST",
			tls: { insecure: true },
		});
		const { target, ip } = atenDriver.fromConfig(entry, secrets);
		expect(target).toEqual({
			kind: "supermicro",
			url: "https://10.0.0.9",
			username: "ADMIN",
			password: "s3cret",
			tls: { insecure: true },
		});
		expect(ip).toBe("10.0.0.9");
		expect(atenDriver.describe(target)).not.toContain("s3cret");
		expect(atenDriver.stages[0]).toBe("aten-login");
	});

	test("bad entries are refused with the field named", () => {
		const bad = atenDriver.configSchema.safeParse({ id: "x", type: "supermicro", url: "ftp://x", username: "a" });
		expect(bad.success).toBe(false);
		const paths = bad.error?.issues.map((i) => i.path.join("."));
		expect(paths).toContain("url");
		expect(paths).toContain("passwordEnv");
	});

	test("the doctor probe takes one frame and leaves nothing open", async () => {
		const bmc = await startBmc();
		const target: SupermicroTarget = {
			kind: "supermicro",
			url: bmc.origin,
			username: bmc.username,
			password: bmc.password,
			tls: { insecure: true },
		};
		const report = await atenDriver.probe?.(target, {
			signal: new AbortController().signal,
			timeoutMs: 5000,
			limits: LIMITS,
		});
		expect(report?.detail).toContain("64x48");
		expect(bmc.stats).toMatchObject({ kvmOpen: 0, webSessions: 0, framesSent: 2 });
	});
});
