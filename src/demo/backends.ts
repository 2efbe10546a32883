/**
 * The demo's simulated hardware, all in process on loopback: a mock OVH API
 * whose servers hand out viewer URLs of mock AMI BMCs (sending AST2500 video
 * of real console screens), one BMC reached by direct login, and a VNC server
 * showing a login prompt. Everything downstream is the real code path:
 * request signing, IPMI access task, BMC session, IVTP, our decoder, RFB.
 */

import type { AmiLoginTarget } from "../ami/target.ts";
import type { SupermicroTarget } from "../aten/types.ts";
import type { OvhSettings } from "../config.ts";
import { OvhProvider } from "../providers/ovh/provider.ts";
import type { StaticServer } from "../providers/static/config.ts";
import { StaticProvider } from "../providers/static/provider.ts";
import type { Provider } from "../providers/types.ts";
import type { VncTarget } from "../vnc/target.ts";
import { encodeAst2500Frame, type RgbaPicture } from "./ast2500-encoder.ts";
import { MockBmc } from "./bmc.ts";
import { MOCK_APPLICATION_KEY, MOCK_APPLICATION_SECRET, MOCK_CONSUMER_KEY, MockOvhApi } from "./ovh-api.ts";
import { type RfbTestServer, startRfbServer } from "./rfb-server.ts";
import { DEMO_SCREENS, loadScreen } from "./screens.ts";
import { MockSupermicroBmc, screenFrames } from "./supermicro-bmc.ts";

export const DEMO_NOTICE =
	"DEMO MODE: these servers are simulated by `bun run demo` (a mock OVH API, mock AMI BMCs, a mock Supermicro " +
	"BMC and a local VNC server, all on this machine). Nothing here is real hardware.";

export interface DemoBackends {
	/** Providers wired to the mocks, for createApp. */
	providers(): Provider[];
	readonly ovh: MockOvhApi;
	readonly bmcs: MockBmc[];
	readonly vnc: RfbTestServer;
	readonly supermicro: MockSupermicroBmc;
	/** How many servers list_servers shows. */
	readonly serverCount: number;
	stop(): Promise<void>;
}

/** A mock BMC that answers every GET_FULL_SCREEN with one encoded picture. */
async function bmcShowing(
	picture: RgbaPicture,
	mode: "444" | "420",
	credentials?: { username: string; password: string },
) {
	// Selector 6 is a typical BMC quality setting: visibly lossy on photos, clean on text.
	const frame = encodeAst2500Frame(picture, { mode, jpegTableSelector: 6, advanceTableSelector: 6 });
	return new MockBmc({ frames: () => frame, ...credentials }).start();
}

export async function startDemoBackends(): Promise<DemoBackends> {
	const [panic, rescue, login, setup] = await Promise.all([
		loadScreen(DEMO_SCREENS.kernelPanic),
		loadScreen(DEMO_SCREENS.grubRescue),
		loadScreen(DEMO_SCREENS.login),
		loadScreen(DEMO_SCREENS.uefiSetup),
	]);
	const directLogin = { username: "admin", password: "demo-bmc-password" };
	const bmcs = await Promise.all([
		bmcShowing(panic, "420"),
		bmcShowing(rescue, "444"),
		bmcShowing(setup, "444", directLogin),
	]);
	const [panicBmc, rescueBmc, setupBmc] = bmcs as [MockBmc, MockBmc, MockBmc];

	const ovhServers = [
		{
			name: "ns3001234.ip-51-68-1.eu",
			datacenter: "gra3",
			ip: "51.68.1.10",
			reverse: "web-01.example.net.",
			displayName: "web-01 (kernel panic)",
			viewerUrl: () => panicBmc.viewerUrl(),
		},
		{
			name: "ns3005678.ip-51-68-2.eu",
			datacenter: "rbx8",
			ip: "51.68.2.20",
			reverse: "db-01.example.net.",
			displayName: "db-01 (grub rescue)",
			viewerUrl: () => rescueBmc.viewerUrl(),
		},
	];
	const ovh = await MockOvhApi.start({ taskStepMs: 400, servers: ovhServers });
	const vnc = await startRfbServer({ image: login, encoding: "zrle", name: "demo-vm" });
	// A Supermicro X11-style BMC: HTML5 iKVM (ATEN dialect), 0x57 video in 4:2:0 as its firmware defaults to.
	const supermicro = await new MockSupermicroBmc({
		frames: screenFrames(() => panic, { mode: "420" }),
		username: "ADMIN",
		password: "demo-smc-password",
	}).start();

	const settings: OvhSettings = {
		endpoint: ovh.endpoint,
		applicationKey: MOCK_APPLICATION_KEY,
		applicationSecret: MOCK_APPLICATION_SECRET,
		consumerKey: MOCK_CONSUMER_KEY,
		ipDiscoveryUrl: ovh.ipDiscoveryUrl,
	};
	const configured: StaticServer[] = [
		{
			id: "lab-vm",
			name: "QEMU-style lab VM (VNC, login prompt)",
			type: "vnc",
			ip: "127.0.0.1",
			target: { kind: "vnc", url: vnc.wsUrl } as VncTarget,
		},
		{
			id: "rack-7",
			name: "AMI BMC, direct login (UEFI setup)",
			type: "ami",
			ip: "127.0.0.1",
			target: {
				kind: "ami-login",
				url: setupBmc.origin,
				tls: { insecure: true },
				...directLogin,
			} as AmiLoginTarget,
		},
		{
			id: "smc-1",
			name: "Supermicro BMC, HTML5 iKVM (kernel panic)",
			type: "supermicro",
			ip: "127.0.0.1",
			target: {
				kind: "supermicro",
				url: supermicro.origin,
				username: supermicro.username,
				password: supermicro.password,
				tls: { insecure: true },
			} as SupermicroTarget,
		},
	];

	return {
		ovh,
		bmcs,
		vnc,
		supermicro,
		serverCount: ovhServers.length + configured.length,
		providers: () => [new OvhProvider(settings, { access: { pollIntervalMs: 300 } }), new StaticProvider(configured)],
		async stop() {
			await Promise.allSettled([ovh.stop(), vnc.close(), supermicro.stop(), ...bmcs.map((b) => b.stop())]);
		},
	};
}
