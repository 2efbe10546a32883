/**
 * Real VNC servers from Debian on loopback, for the real-server matrix: TigerVNC's Xvnc
 * and x0vncserver, x11vnc on an Xvfb, websockify in front of them, QEMU with X.509 TLS.
 * Each display shows a known picture (a tiled bitmap root and a colour test pattern put
 * up with `xwud`); `xwd -root` of the same display is the ground truth. Every process
 * started here is stopped by its own handle.
 */
import { createCipheriv } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { testPattern } from "../../src/demo/patterns.ts";
import type { RgbaImage } from "../../src/vnc/types.ts";
import { freePort, freeVncDisplay } from "./ports.ts";
import { readXwd, writeXwd } from "./xwd.ts";

/** Which of `tools` is not on PATH, as a reason to skip, or undefined. */
export function missingTools(tools: Record<string, string>): string | undefined {
	const missing = Object.entries(tools).filter(([tool]) => !Bun.which(tool));
	if (missing.length === 0) return undefined;
	return `${missing.map(([t]) => t).join(", ")} not installed (apt-get install ${[...new Set(missing.map(([, p]) => p))].join(" ")})`;
}

/** A scratch directory and the processes of one test file; `stop()` ends exactly those. */
export class Lab {
	readonly dir = mkdtempSync(join(tmpdir(), "ikvm-real-vnc-"));
	private readonly procs: Subprocess[] = [];
	private logs = new Map<Subprocess, string[]>();

	spawn(cmd: string[], env: Record<string, string> = {}): Subprocess {
		const proc = Bun.spawn(cmd, {
			env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: this.dir, ...env },
			stdin: "ignore",
			stdout: "pipe",
			stderr: "pipe",
			cwd: this.dir,
		});
		const log: string[] = [];
		this.logs.set(proc, log);
		for (const stream of [proc.stdout, proc.stderr]) {
			void (async () => {
				const decoder = new TextDecoder();
				for await (const chunk of stream as ReadableStream<Uint8Array>) log.push(decoder.decode(chunk));
			})().catch(() => {});
		}
		this.procs.push(proc);
		return proc;
	}

	/** The last output of a process, for a failure message. */
	output(proc: Subprocess): string {
		return (this.logs.get(proc) ?? []).join("").slice(-1500);
	}

	async run(cmd: string[], env: Record<string, string> = {}): Promise<Uint8Array> {
		const proc = Bun.spawn(cmd, { env: { PATH: process.env.PATH ?? "", ...env }, stdout: "pipe", stderr: "pipe" });
		const [out, err, code] = await Promise.all([
			new Response(proc.stdout).arrayBuffer(),
			new Response(proc.stderr).text(),
			proc.exited,
		]);
		if (code !== 0) throw new Error(`${cmd.join(" ")} exited ${code}: ${err.trim()}`);
		return new Uint8Array(out);
	}

	file(name: string, content: string | Uint8Array): string {
		const path = join(this.dir, name);
		writeFileSync(path, content);
		return path;
	}

	async stop(): Promise<void> {
		for (const proc of this.procs.reverse()) {
			if (proc.exitCode === null) proc.kill("SIGTERM");
		}
		await Promise.all(
			this.procs.map((p) =>
				Promise.race([p.exited, Bun.sleep(2000).then(() => p.exitCode === null && p.kill("SIGKILL"))]),
			),
		);
		rmSync(this.dir, { recursive: true, force: true });
	}
}

/** Resolves once something accepts TCP connections on the port (the server is up). */
export async function waitForPort(port: number, proc: Subprocess, lab: Lab, timeoutMs = 10_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const ok = await new Promise<boolean>((resolve) => {
			const s = net.connect({ host: "127.0.0.1", port });
			s.once("connect", () => {
				s.destroy();
				resolve(true);
			});
			s.once("error", () => resolve(false));
		});
		if (ok) return;
		if (proc.exitCode !== null) throw new Error(`server exited (${proc.exitCode}): ${lab.output(proc)}`);
		if (Date.now() > deadline) throw new Error(`nothing listens on ${port}: ${lab.output(proc)}`);
		await Bun.sleep(50);
	}
}

/** A TigerVNC/RealVNC password file: the password DES-encrypted with VNC's fixed key (bits mirrored, as VNC's DES does). */
export function vncPasswordFile(password: string): Uint8Array {
	const mirror = (b: number) => {
		let o = 0;
		for (let i = 0; i < 8; i++) o |= ((b >> i) & 1) << (7 - i);
		return o;
	};
	const key = Uint8Array.from([23, 82, 107, 6, 35, 78, 88, 7].map(mirror));
	const block = new Uint8Array(8);
	block.set(new TextEncoder().encode(password).subarray(0, 8));
	const cipher = createCipheriv("des-ecb", key, null);
	cipher.setAutoPadding(false);
	return new Uint8Array(Buffer.concat([cipher.update(block), cipher.final()]));
}

/** A CA and a server certificate for 127.0.0.1 signed by it, made with openssl (QEMU's tls-creds-x509 file names). */
export async function makeCertificates(lab: Lab): Promise<{ dir: string; ca: string; cert: string; key: string }> {
	const dir = join(lab.dir, "pki");
	await lab.run(["mkdir", "-p", dir]);
	const p = (f: string) => join(dir, f);
	await lab.run([
		...["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"],
		...["-keyout", p("ca-key.pem"), "-out", p("ca-cert.pem"), "-subj", "/CN=ikvm test CA"],
	]);
	await lab.run([
		...["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", p("server-key.pem")],
		...["-out", p("server.csr"), "-subj", "/CN=127.0.0.1"],
	]);
	writeFileSync(p("ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
	await lab.run([
		...["openssl", "x509", "-req", "-in", p("server.csr"), "-CA", p("ca-cert.pem"), "-CAkey", p("ca-key.pem")],
		...["-CAcreateserial", "-days", "2", "-out", p("server-cert.pem"), "-extfile", p("ext.cnf")],
	]);
	return { dir, ca: p("ca-cert.pem"), cert: p("server-cert.pem"), key: p("server-key.pem") };
}

/** The SHA-256 fingerprint of a PEM certificate, as openssl prints it (AB:CD:…). */
export async function fingerprint256(lab: Lab, cert: string): Promise<string> {
	const out = new TextDecoder().decode(
		await lab.run(["openssl", "x509", "-in", cert, "-noout", "-fingerprint", "-sha256"]),
	);
	return out.trim().replace(/^.*=/, "");
}

export interface XDisplay {
	display: string;
	/** The display's framebuffer now, from `xwd -root`. */
	grab(): Promise<RgbaImage>;
	/** `xrandr --fb WxH` (Xvnc follows it). */
	resize(width: number, height: number): Promise<void>;
}

const BITMAP_W = 37;
const BITMAP_H = 23;

/** Puts the known picture on a display: a tiled two-colour bitmap on the root and a test pattern at 0,0. */
export async function paint(lab: Lab, display: string, depth: 24 | 16 = 24): Promise<void> {
	let bits = "";
	let s = 12345;
	const rowBytes = Math.ceil(BITMAP_W / 8);
	const bytes: string[] = [];
	for (let i = 0; i < rowBytes * BITMAP_H; i++) {
		s = (Math.imul(s, 1103515245) + 12345) >>> 0;
		bytes.push(`0x${(s >>> 24).toString(16).padStart(2, "0")}`);
	}
	// Xlib's reader wants a space after each comma.
	bits = `#define t_width ${BITMAP_W}\n#define t_height ${BITMAP_H}\nstatic unsigned char t_bits[] = {\n   ${bytes.join(", ")}};\n`;
	const xbm = lab.file(`tile-${display.slice(1)}.xbm`, bits);
	const env = { DISPLAY: display };
	await lab.run(["xsetroot", "-bitmap", xbm, "-fg", "#e0c040", "-bg", "#203060"], env);
	const xwd = lab.file(`pattern-${display.slice(1)}.xwd`, writeXwd(testPattern(640, 400, 11), "ikvm", depth));
	lab.spawn(["xwud", "-in", xwd, "-geometry", "+0+0", "-noclick"], env);
	// The window is mapped and drawn asynchronously: wait until the root shows it.
	const deadline = Date.now() + 5000;
	for (;;) {
		const root = readXwd(await lab.run(["xwd", "-root", "-silent"], env));
		// Top-left pixel of testPattern's banner, never the bitmap's colours.
		// (200, 40, 40 quantised to 5-6-5 on a depth-16 display.)
		if (Math.abs((root.rgba[0] as number) - 200) < 8 && Math.abs((root.rgba[1] as number) - 40) < 8) break;
		if (Date.now() > deadline) throw new Error(`xwud did not draw the test pattern on ${display}`);
		await Bun.sleep(50);
	}
}

function xDisplay(lab: Lab, display: string): XDisplay {
	const env = { DISPLAY: display };
	return {
		display,
		grab: async () => readXwd(await lab.run(["xwd", "-root", "-silent"], env)),
		resize: async (width, height) => {
			await lab.run(["xrandr", "--fb", `${width}x${height}`], env);
		},
	};
}

export interface VncServer extends XDisplay {
	port: number;
	version: string;
}

export type XvncSecurity = "None" | "VncAuth" | "X509Vnc" | "X509None" | "TLSVnc";

/** TigerVNC's Xvnc: an X server that is a VNC server. */
export async function startXvnc(
	lab: Lab,
	options: {
		security: XvncSecurity;
		password?: string;
		cert?: { cert: string; key: string };
		geometry?: string;
		depth?: 24 | 16;
	},
): Promise<VncServer> {
	for (let attempt = 0; ; attempt++) {
		const n = await freeVncDisplay();
		const args = [
			"Xvnc",
			`:${n}`,
			...[
				"-geometry",
				options.geometry ?? "1024x768",
				"-depth",
				String(options.depth ?? 24),
				"-rfbport",
				String(5900 + n),
			],
			...["-localhost", "-SecurityTypes", options.security, "-AlwaysShared", "-BlacklistThreshold", "100000"],
			...["-nolisten", "tcp", "-ac"],
		];
		if (options.password) args.push("-PasswordFile", lab.file(`passwd-${n}`, vncPasswordFile(options.password)));
		if (options.cert) args.push("-X509Cert", options.cert.cert, "-X509Key", options.cert.key);
		const proc = lab.spawn(args);
		try {
			await waitForPort(5900 + n, proc, lab);
		} catch (error) {
			if (attempt < 2) continue;
			throw error;
		}
		await paint(lab, `:${n}`, options.depth);
		return {
			...xDisplay(lab, `:${n}`),
			port: 5900 + n,
			version: await packageVersion(lab, "tigervnc-standalone-server", ["Xvnc", "-version"]),
		};
	}
}

/** An Xvfb with the known picture, for the scraping servers. */
export async function startXvfb(lab: Lab, geometry = "1024x768x24"): Promise<XDisplay> {
	const n = 100 + Math.floor(Math.random() * 800);
	const proc = lab.spawn(["Xvfb", `:${n}`, "-screen", "0", geometry, "-nolisten", "tcp", "-ac"]);
	const deadline = Date.now() + 10_000;
	for (;;) {
		try {
			await lab.run(["xdpyinfo"], { DISPLAY: `:${n}` });
			break;
		} catch {
			if (proc.exitCode !== null) throw new Error(`Xvfb exited: ${lab.output(proc)}`);
			if (Date.now() > deadline) throw new Error("Xvfb did not start");
			await Bun.sleep(50);
		}
	}
	await paint(lab, `:${n}`);
	return xDisplay(lab, `:${n}`);
}

/** TigerVNC's x0vncserver sharing an existing display. */
export async function startX0vncserver(lab: Lab, x: XDisplay): Promise<VncServer> {
	const port = await freePort();
	const proc = lab.spawn(
		["x0vncserver", "-display", x.display, "-rfbport", String(port), "-localhost", "-SecurityTypes", "None"],
		{ DISPLAY: x.display },
	);
	await waitForPort(port, proc, lab);
	return { ...x, port, version: await packageVersion(lab, "tigervnc-scraping-server", ["x0vncserver", "-version"]) };
}

/** x11vnc sharing an existing display, with or without a password. */
export async function startX11vnc(lab: Lab, x: XDisplay, password?: string): Promise<VncServer> {
	const port = await freePort();
	const args = ["x11vnc", "-display", x.display, "-rfbport", String(port), "-localhost", "-forever", "-shared"];
	args.push(...(password ? ["-passwd", password] : ["-nopw"]), "-quiet", "-noxdamage");
	const proc = lab.spawn(args, { DISPLAY: x.display });
	await waitForPort(port, proc, lab);
	return { ...x, port, version: await packageVersion(lab, "x11vnc", ["x11vnc", "-version"]) };
}

/** websockify from `wsPort` to a VNC server, with TLS (wss://) when given a certificate. */
export async function startWebsockify(
	lab: Lab,
	target: number,
	cert?: { cert: string; key: string },
): Promise<{ port: number; url: string }> {
	const port = await freePort();
	const args = ["websockify", ...(cert ? ["--cert", cert.cert, "--key", cert.key, "--ssl-only"] : [])];
	const proc = lab.spawn([...args, `127.0.0.1:${port}`, `127.0.0.1:${target}`]);
	await waitForPort(port, proc, lab);
	return { port, url: `${cert ? "wss" : "ws"}://127.0.0.1:${port}/` };
}

/** The Debian package's version (what an operator would look up), else the tool's own word. */
export async function packageVersion(lab: Lab, pkg: string, cmd?: string[]): Promise<string> {
	try {
		const out = new TextDecoder().decode(await lab.run(["dpkg-query", "-W", "-f", "\x24{Version}", pkg])).trim();
		// Upstream's version: no epoch, no +dfsg, no Debian revision.
		if (out)
			return out
				.replace(/^\d+:/, "")
				.replace(/[+~].*$/, "")
				.replace(/-[^-]*$/, "");
	} catch {
		// not a Debian system, or not from a package
	}
	if (!cmd) return "?";
	const proc = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe", env: { PATH: process.env.PATH ?? "" } });
	const timer = setTimeout(() => proc.kill(), 3000);
	const text = (await new Response(proc.stdout).text()) + (await new Response(proc.stderr).text());
	clearTimeout(timer);
	return /(\d+\.\d+(\.\d+)?)/.exec(text)?.[1] ?? "?";
}

/**
 * Moves the pointer of a None-auth VNC server to 0,0 with one PointerEvent. TigerVNC paints
 * the pointer into the picture for every viewer whose last pointer position differs from
 * the server's (VNCSConnectionST::needRenderedCursor), and x0vncserver's pointer starts
 * in the middle of the screen; a viewer at 0,0 (where one that never moved is) then gets
 * the cursor as a shape instead.
 */
export async function pointerToOrigin(port: number): Promise<void> {
	const socket = net.connect({ host: "127.0.0.1", port });
	let buffered = Buffer.alloc(0);
	let stage = 0;
	await new Promise<void>((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error("pointerToOrigin: no answer")), 5000);
		socket.on("error", reject);
		socket.on("data", (data: Buffer) => {
			buffered = Buffer.concat([buffered, data]);
			if (stage === 0 && buffered.length >= 12) {
				socket.write("RFB 003.008\n");
				buffered = buffered.subarray(12);
				stage = 1;
			}
			if (stage === 1 && buffered.length >= 1 + (buffered[0] ?? 0)) {
				socket.write(Uint8Array.of(1));
				buffered = buffered.subarray(1 + (buffered[0] ?? 0));
				stage = 2;
			}
			if (stage === 2 && buffered.length >= 4) {
				socket.write(Uint8Array.of(1)); // shared
				buffered = buffered.subarray(4);
				stage = 3;
			}
			if (stage === 3 && buffered.length >= 24 && buffered.length >= 24 + buffered.readUInt32BE(20)) {
				socket.write(Uint8Array.of(5, 0, 0, 1, 0, 1));
				socket.write(Uint8Array.of(5, 0, 0, 0, 0, 0));
				stage = 4;
				setTimeout(() => {
					clearTimeout(timer);
					socket.destroy();
					resolve();
				}, 200);
			}
		});
	});
}
