import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { PNG } from "pngjs";
import sharp from "sharp";
import { startRfbServer } from "../../src/demo/rfb-server.ts";
import { DEMO_SCREENS, loadScreen } from "../../src/demo/screens.ts";
import { decodeImageFile, sniffImageType } from "../../src/image/decode.ts";
import { closeRedfishClients } from "../../src/redfish/clients.ts";
import { redfishDriver } from "../../src/redfish/driver.ts";
import { failure } from "../support/ikvm-error.ts";
import { ctx, fakeBmc, LIMITS, targetOf } from "../support/redfish.ts";

const PNG_FILE = new URL(`../../src/demo/screens/${DEMO_SCREENS.uefiSetup}`, import.meta.url).pathname;
const png = new Uint8Array(readFileSync(PNG_FILE));
const jpeg = new Uint8Array(await sharp(png).jpeg({ quality: 85 }).toBuffer());
const screen = await loadScreen(DEMO_SCREENS.login);
const rfb = await startRfbServer({ image: screen, encoding: "zrle", name: "bmc-host" });

afterAll(async () => {
	await closeRedfishClients();
	await rfb.close();
});

describe("Redfish screenshots", () => {
	test("Dell ExportServerScreenShot: the frame is the PNG's pixels, exactly", async () => {
		const bmc = await fakeBmc({ vendor: "dell", screen: { png } });
		const session = await redfishDriver.open(targetOf(bmc), ctx(), LIMITS);
		expect(session.description).toContain("DellLCService.ExportServerScreenShot");
		const frame = await session.capture(ctx());
		const source = PNG.sync.read(Buffer.from(png));
		expect([frame.width, frame.height]).toEqual([source.width, source.height]);
		expect(Buffer.from(frame.rgba).equals(source.data)).toBe(true);
		await session.capture(ctx());
		expect(bmc.stats.screenshots).toBe(2);
		expect(bmc.stats.logins).toBe(1);
		await session.close();
		await redfishDriver.close();
		expect(bmc.openSessions).toBe(0);
	});

	test("Supermicro ScreenCapture: Create, Download, the JPEG decoded as sharp decodes it", async () => {
		const bmc = await fakeBmc({ vendor: "supermicro", screen: { jpeg } });
		const session = await redfishDriver.open(targetOf(bmc), ctx(), LIMITS);
		expect(session.description).toContain("OemDumpService.Collect");
		const frame = await session.capture(ctx());
		const { data, info } = await sharp(jpeg).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
		expect([frame.width, frame.height]).toEqual([info.width, info.height]);
		expect(Buffer.from(frame.rgba).equals(data)).toBe(true);
		await session.close();
		await redfishDriver.close();
		expect(bmc.openSessions).toBe(0);
	});

	test("OpenBMC: /kvm/0 carries RFB with the session token; the frame is the host's picture; closing frees both", async () => {
		const bmc = await fakeBmc({ vendor: "openbmc", rfbPort: rfb.tcpPort });
		const session = await redfishDriver.open(targetOf(bmc), ctx(), LIMITS);
		expect(session.description).toContain("/kvm/0");
		const frame = await session.capture(ctx());
		expect([frame.width, frame.height]).toEqual([screen.width, screen.height]);
		expect(Buffer.from(frame.rgba).equals(Buffer.from(screen.rgba))).toBe(true);
		expect(bmc.stats.kvmConnections).toBe(1);
		await session.close();
		await Bun.sleep(50);
		expect(bmc.openKvm).toBe(0);
		await redfishDriver.close();
		expect(bmc.openSessions).toBe(0);
	});

	test("OpenBMC /kvm/0 over a pinned certificate (no insecure anywhere)", async () => {
		const { X509Certificate } = await import("node:crypto");
		const { MOCK_BMC_CERT } = await import("../../src/demo/mock-bmc-cert.ts");
		const bmc = await fakeBmc({ vendor: "openbmc", rfbPort: rfb.tcpPort });
		const target = targetOf(bmc, { tls: { fingerprint256: new X509Certificate(MOCK_BMC_CERT).fingerprint256 } });
		const session = await redfishDriver.open(target, ctx(), LIMITS);
		const frame = await session.capture(ctx());
		expect(frame.width).toBe(screen.width);
		await session.close();
		await redfishDriver.close();
	});

	test("OpenBMC whose KVM pipe leads nowhere: a CONNECTION error naming the method that failed; nothing left open", async () => {
		const closed = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
		const deadPort = closed.port;
		closed.stop(true);
		const bmc = await fakeBmc({ vendor: "openbmc", rfbPort: deadPort });
		const error = await failure(redfishDriver.open(targetOf(bmc), ctx(), LIMITS));
		expect(error.code).toBe("CONNECTION");
		expect(error.message).toContain("OpenBMC KVM WebSocket /kvm/0 (RFB)");
		await Bun.sleep(50);
		expect(bmc.openKvm).toBe(0);
		await redfishDriver.close();
		expect(bmc.openSessions).toBe(0);
	});

	test("ManagerNetworkProtocol.RFB enabled: the BMC's VNC port is used", async () => {
		const bmc = await fakeBmc({ vendor: "generic", rfbPort: rfb.tcpPort });
		const session = await redfishDriver.open(targetOf(bmc), ctx(), LIMITS);
		expect(session.description).toContain(`VNC (ManagerNetworkProtocol.RFB) on port ${rfb.tcpPort}`);
		const frame = await session.capture(ctx());
		expect(Buffer.from(frame.rgba).equals(Buffer.from(screen.rgba))).toBe(true);
		await session.close();
		await redfishDriver.close();
	});

	test("a BMC with no way to see the screen: NOT_SUPPORTED naming what it lacks and what would work", async () => {
		const bmc = await fakeBmc({ vendor: "generic" });
		const error = await failure(redfishDriver.open(targetOf(bmc), ctx(), LIMITS));
		expect(error.code).toBe("NOT_SUPPORTED");
		expect(error.message).toContain("VNC (ManagerNetworkProtocol.RFB) is disabled");
		expect(error.hint).toContain("licence");
		expect(error.hint).toContain("enable VNC");
		await redfishDriver.close();
		expect(bmc.openSessions).toBe(0);
	});

	test("Dell without the Virtual Console privilege: ACCESS_DENIED naming it; no video: POWERED_OFF", async () => {
		const denied = await fakeBmc({ vendor: "dell", screen: { png }, dellPrivilegeError: true });
		const s1 = await redfishDriver.open(targetOf(denied), ctx(), LIMITS);
		const e1 = await failure(s1.capture(ctx()));
		expect(e1.code).toBe("ACCESS_DENIED");
		expect(e1.message).toContain("IDRAC.2.8.LC081");
		expect(e1.hint).toContain("Virtual Console");
		const dark = await fakeBmc({ vendor: "dell" });
		const s2 = await redfishDriver.open(targetOf(dark), ctx(), LIMITS);
		const e2 = await failure(s2.capture(ctx()));
		expect(e2.code).toBe("POWERED_OFF");
		await redfishDriver.close();
	});

	test("an answer that is not an image (an HTML error page) is refused as such, not shown as garbage", async () => {
		const error = await failure(
			decodeImageFile(new TextEncoder().encode("<html>error</html>".repeat(20)), LIMITS, "The capture"),
		);
		expect(error.code).toBe("PROTOCOL");
		expect(error.message).toContain("not a PNG or JPEG");
	});
});

describe("image files", () => {
	test("the type comes from the bytes", () => {
		expect(sniffImageType(png)).toBe("png");
		expect(sniffImageType(jpeg)).toBe("jpeg");
		expect(sniffImageType(new Uint8Array([0x42, 0x4d, 0, 0]))).toBe("bmp");
		expect(sniffImageType(new Uint8Array([1, 2, 3]))).toBeUndefined();
	});

	test("a picture larger than the limits is refused before decoding", async () => {
		const error = await failure(decodeImageFile(png, { maxWidth: 320, maxHeight: 240 }, "The screenshot"));
		expect(error.code).toBe("TOO_LARGE");
		expect(error.message).toContain("640x480");
	});

	test("a truncated PNG is a PROTOCOL error, not a crash", async () => {
		const error = await failure(decodeImageFile(png.subarray(0, 600), LIMITS, "The screenshot"));
		expect(error.code).toBe("PROTOCOL");
	});
});
