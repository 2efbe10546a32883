/**
 * The demo's simulated hardware, all in process on loopback: a mock OVH API
 * whose servers hand out viewer URLs of mock AMI BMCs (sending AST2500 video
 * of real console screens), one BMC reached by direct login, and a VNC server
 * showing a login prompt, and two fake Redfish BMCs (a Dell iDRAC with the
 * screenshot action, an OpenBMC whose /kvm/0 carries RFB). Everything
 * downstream is the real code path: request signing, IPMI access task, BMC
 * session, IVTP, our decoder, RFB, Redfish sessions and TLS pinning.
 */
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";

import type { AmiLoginTarget } from "../ami/target.ts";
import type { SupermicroTarget } from "../aten/types.ts";
import type { ControlKind, OvhSettings } from "../config.ts";
import { OvhProvider } from "../providers/ovh/provider.ts";
import type { StaticServer } from "../providers/static/config.ts";
import { StaticProvider } from "../providers/static/provider.ts";
import type { Provider } from "../providers/types.ts";
import type { RedfishTarget } from "../redfish/target.ts";
import type { VncTarget } from "../vnc/target.ts";
import { encodeAst2500Frame, type RgbaPicture } from "./ast2500-encoder.ts";
import { MockBmc } from "./bmc.ts";
import { MOCK_BMC_CERT } from "./mock-bmc-cert.ts";
import { MOCK_APPLICATION_KEY, MOCK_APPLICATION_SECRET, MOCK_CONSUMER_KEY, MockOvhApi } from "./ovh-api.ts";
import { FakeRedfishBmc } from "./redfish-bmc.ts";
import { type RfbTestServer, startRfbServer } from "./rfb-server.ts";
import { DEMO_SCREENS, loadScreen } from "./screens.ts";
import { DemoShell } from "./shell.ts";
import { startShellBmc } from "./shell-bmc.ts";
import { startShellSupermicro } from "./shell-supermicro.ts";
import { MockSupermicroBmc, screenFrames } from "./supermicro-bmc.ts";

export const DEMO_NOTICE =
	"DEMO MODE: these servers are simulated by `bun run demo` (a mock OVH API, mock AMI BMCs, a mock Supermicro " +
	"BMC, fake Redfish BMCs and local VNC servers, all on this machine). Nothing here is real hardware; control " +
	"(keys, mouse, power) is on for them.";

/** Every demo target allows control; the demo turns the operator's switch on too (IKVM_CONTROL=all by default). */
const DEMO_CONTROL: ReadonlySet<ControlKind> = new Set(["keyboard", "mouse", "power"]);

export interface DemoBackends {
	/** Providers wired to the mocks, for createApp. */
	providers(): Provider[];
	readonly ovh: MockOvhApi;
	readonly bmcs: MockBmc[];
	readonly vnc: RfbTestServer;
	readonly supermicro: MockSupermicroBmc;
	/** How many servers list_servers shows. */
	readonly serverCount: number;
	/** The demo machines that answer keys: behind a VNC server and behind a BMC. */
	readonly shells: { vnc: DemoShell; bmc: DemoShell; supermicro: DemoShell };
	readonly redfish: FakeRedfishBmc[];
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
	const vncShell = new DemoShell({ hostname: "shell-vm" });
	const shellVnc = await startRfbServer({ image: vncShell.render(), shell: vncShell, xvp: true, name: "shell-vm" });
	const shellBmc = await startShellBmc({ hostname: "shell-bmc", ...directLogin });
	// The OpenBMC host's own screen, behind the BMC's /kvm/0.
	const openbmcHost = await startRfbServer({ image: rescue, encoding: "zrle", name: "openbmc-host" });
	const panicPng = new Uint8Array(readFileSync(new URL(`./screens/${DEMO_SCREENS.kernelPanic}`, import.meta.url)));
	const redfishLogin = { username: "root", password: "demo-redfish-password" };
	const redfish = await Promise.all([
		FakeRedfishBmc.start({ vendor: "dell", screen: { png: panicPng }, ...redfishLogin }),
		FakeRedfishBmc.start({ vendor: "openbmc", rfbPort: openbmcHost.tcpPort, ...redfishLogin }),
	]);
	const [idrac, openbmc] = redfish as [FakeRedfishBmc, FakeRedfishBmc];
	// Pinned, as the README recommends for real BMCs.
	const pin = { fingerprint256: new X509Certificate(MOCK_BMC_CERT).fingerprint256 };
	const shellSmc = await startShellSupermicro({
		hostname: "shell-smc",
		username: "ADMIN",
		password: "demo-smc-password",
	});

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
		{
			id: "shell-vm",
			name: "Lab VM with a shell that answers keys (VNC, XVP power)",
			type: "vnc",
			ip: "127.0.0.1",
			target: { kind: "vnc", url: shellVnc.wsUrl },
		},
		{
			id: "shell-bmc",
			name: "AMI BMC whose host runs a shell that answers keys (direct login, power)",
			type: "ami",
			ip: "127.0.0.1",
			target: {
				kind: "ami-login",
				url: shellBmc.bmc.origin,
				tls: { insecure: true },
				...directLogin,
			} as AmiLoginTarget,
		},
		{
			id: "idrac-9",
			name: "Dell iDRAC over Redfish (screenshot action, kernel panic)",
			type: "redfish",
			ip: "127.0.0.1",
			target: { kind: "redfish", url: idrac.origin, tls: pin, ...redfishLogin } as RedfishTarget,
		},
		{
			id: "openbmc-1",
			name: "OpenBMC over Redfish (KVM WebSocket, grub rescue)",
			type: "redfish",
			ip: "127.0.0.1",
			target: { kind: "redfish", url: openbmc.origin, tls: pin, ...redfishLogin } as RedfishTarget,
		},
		{
			id: "shell-smc",
			name: "Supermicro BMC whose host runs a shell that answers keys (HTML5 iKVM, power)",
			type: "supermicro",
			ip: "127.0.0.1",
			target: {
				kind: "supermicro",
				url: shellSmc.bmc.origin,
				username: shellSmc.bmc.username,
				password: shellSmc.bmc.password,
				tls: { insecure: true },
			} as SupermicroTarget,
		},
	];

	return {
		ovh,
		bmcs: [...bmcs, shellBmc.bmc],
		vnc,
		supermicro,
		redfish,
		serverCount: ovhServers.length + configured.length,
		shells: { vnc: vncShell, bmc: shellBmc.shell, supermicro: shellSmc.shell },
		providers: () => [
			new OvhProvider(settings, {
				access: { pollIntervalMs: 300 },
				control: { servers: ["*"], keyboardLayout: "us" },
			}),
			new StaticProvider(configured.map((server) => ({ ...server, control: DEMO_CONTROL }))),
		],
		async stop() {
			vncShell.stop();
			shellBmc.shell.stop();
			shellSmc.shell.stop();
			await Promise.allSettled([
				ovh.stop(),
				vnc.close(),
				supermicro.stop(),
				shellVnc.close(),
				shellBmc.bmc.stop(),
				openbmcHost.close(),
				shellSmc.bmc.stop(),
				...bmcs.map((b) => b.stop()),
				...redfish.map((b) => b.stop()),
			]);
		},
	};
}
