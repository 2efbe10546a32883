/**
 * Redfish path: screenshot latency against the fake Redfish BMC on loopback over
 * HTTPS — a warm session's capture (Dell: one POST, base64 PNG, decode; Supermicro:
 * Create + Download, JPEG decode; OpenBMC: one RFB frame through /kvm/0), and a
 * cold one (service root, login, discovery, first picture, logout).
 */
import { readFileSync } from "node:fs";
import sharp from "sharp";
import { standaloneContext } from "../src/call-context.ts";
import { FakeRedfishBmc, type FakeRedfishOptions } from "../src/demo/redfish-bmc.ts";
import { startRfbServer } from "../src/demo/rfb-server.ts";
import { DEMO_SCREENS, loadScreen } from "../src/demo/screens.ts";
import { closeRedfishClients } from "../src/redfish/clients.ts";
import { redfishDriver } from "../src/redfish/driver.ts";
import type { RedfishTarget } from "../src/redfish/target.ts";
import { type Row, time } from "./harness.ts";

const LIMITS = { maxWidth: 8192, maxHeight: 8192 };

function targetOf(bmc: FakeRedfishBmc): RedfishTarget {
	return { kind: "redfish", url: bmc.origin, username: bmc.username, password: bmc.password, tls: { insecure: true } };
}

export async function redfishSuite(): Promise<Row[]> {
	const rows: Row[] = [];
	const file = new URL(`../src/demo/screens/${DEMO_SCREENS.kernelPanic}`, import.meta.url).pathname;
	const png = new Uint8Array(readFileSync(file));
	const jpeg = new Uint8Array(await sharp(png).jpeg({ quality: 85 }).toBuffer());
	const picture = await loadScreen(DEMO_SCREENS.kernelPanic);
	const host = await startRfbServer({ image: picture, encoding: "zrle" });
	const variants: Array<[string, FakeRedfishOptions]> = [
		[`Dell ExportServerScreenShot, PNG ${(png.length / 1024).toFixed(0)} KiB`, { vendor: "dell", screen: { png } }],
		[
			`Supermicro ScreenCapture, JPEG ${(jpeg.length / 1024).toFixed(0)} KiB`,
			{ vendor: "supermicro", screen: { jpeg } },
		],
		["OpenBMC /kvm/0 (RFB, ZRLE)", { vendor: "openbmc", rfbPort: host.tcpPort }],
	];
	const ctx = standaloneContext();
	for (const [label, options] of variants) {
		const bmc = await FakeRedfishBmc.start({ ...options, sessionLimit: 64 });
		const target = targetOf(bmc);
		const session = await redfishDriver.open(target, ctx, LIMITS);
		rows.push(await time(`Redfish warm capture 1024x768: ${label}`, () => session.capture(ctx), 20));
		await session.close();
		rows.push(
			await time(
				`Redfish cold capture (login, discovery, picture, logout): ${label}`,
				async () => {
					const s = await redfishDriver.open(target, ctx, LIMITS);
					await s.capture(ctx);
					await s.close();
					await closeRedfishClients();
				},
				10,
			),
		);
		await bmc.stop();
	}
	await host.close();
	return rows;
}
