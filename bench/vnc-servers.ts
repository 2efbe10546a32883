/**
 * First-frame latency per real VNC server on loopback (the servers of the real-server
 * matrix, at 1920x1080): a cold capture (connect, handshake with its security type,
 * first complete frame) and a warm one (one full update on an open session). Servers
 * whose package is missing are left out with a line saying so.
 */
import { standaloneContext } from "../src/call-context.ts";
import type { ConsoleSession } from "../src/console/types.ts";
import { createVncOpener } from "../src/vnc/session.ts";
import type { VncTarget } from "../src/vnc/target.ts";
import {
	Lab,
	makeCertificates,
	missingTools,
	startWebsockify,
	startX0vncserver,
	startX11vnc,
	startXvfb,
	startXvnc,
} from "../test/support/real-vnc.ts";
import { type Row, time } from "./harness.ts";

const LIMITS = { maxWidth: 4096, maxHeight: 2160 };
const PASSWORD = "bench-pw";
const X = { xwd: "x11-apps", xwud: "x11-apps", xsetroot: "x11-xserver-utils", xdpyinfo: "x11-utils" };

async function rows(name: string, target: VncTarget): Promise<Row[]> {
	const ctx = () => standaloneContext(AbortSignal.timeout(15_000));
	const open = createVncOpener();
	const cold = await time(
		`first frame, cold: ${name}`,
		async () => {
			const session = await open(target, ctx(), LIMITS);
			try {
				await session.capture(ctx());
			} finally {
				await session.close();
			}
		},
		5,
		undefined,
		"wall",
		0,
	);
	let session: ConsoleSession | undefined;
	try {
		session = await open(target, ctx(), LIMITS);
		const warm = session;
		const again = await time(`frame, warm session: ${name}`, () => warm.capture(ctx()), 5, undefined, "wall", 0);
		return [cold, again];
	} finally {
		await session?.close();
	}
}

export async function vncServersSuite(): Promise<Row[]> {
	const out: Row[] = [];
	const lab = new Lab();
	try {
		const xvnc = missingTools({ Xvnc: "tigervnc-standalone-server", openssl: "openssl", ...X });
		if (xvnc) console.warn(`vnc-servers: skipping TigerVNC Xvnc: ${xvnc}`);
		else {
			const pki = await makeCertificates(lab);
			const none = await startXvnc(lab, { security: "None", geometry: "1920x1080" });
			const tls = await startXvnc(lab, { security: "X509Vnc", password: PASSWORD, cert: pki, geometry: "1920x1080" });
			out.push(...(await rows("Xvnc 1920x1080, TCP, None", { kind: "vnc", host: "127.0.0.1", port: none.port })));
			out.push(
				...(await rows("Xvnc 1920x1080, TCP, VeNCrypt X509Vnc", {
					kind: "vnc",
					host: "127.0.0.1",
					port: tls.port,
					password: PASSWORD,
					tls: { caFile: pki.ca },
				})),
			);
			if (!missingTools({ websockify: "websockify" })) {
				const ws = await startWebsockify(lab, none.port);
				out.push(...(await rows("Xvnc 1920x1080, websockify ws://", { kind: "vnc", url: ws.url })));
			}
		}
		const x0 = missingTools({ x0vncserver: "tigervnc-scraping-server", Xvfb: "xvfb", ...X });
		if (x0) console.warn(`vnc-servers: skipping x0vncserver: ${x0}`);
		else {
			const s = await startX0vncserver(lab, await startXvfb(lab, "1920x1080x24"));
			out.push(...(await rows("x0vncserver 1920x1080, TCP", { kind: "vnc", host: "127.0.0.1", port: s.port })));
		}
		const x11 = missingTools({ x11vnc: "x11vnc", Xvfb: "xvfb", ...X });
		if (x11) console.warn(`vnc-servers: skipping x11vnc: ${x11}`);
		else {
			const s = await startX11vnc(lab, await startXvfb(lab, "1920x1080x24"));
			out.push(...(await rows("x11vnc 1920x1080, TCP", { kind: "vnc", host: "127.0.0.1", port: s.port })));
		}
	} finally {
		await lab.stop();
	}
	return out;
}

if (import.meta.main) {
	const { printRows } = await import("./harness.ts");
	printRows(await vncServersSuite());
}
