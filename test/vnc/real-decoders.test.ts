/**
 * The decoders against real VNC servers: TigerVNC's Xvnc and x11vnc
 * (libvncserver) on loopback, each started once, showing a known desktop (a
 * solid root, a many-colour picture in an xwud window, an xterm). Every
 * encoding each server speaks must reproduce `xwd -root` of the same display:
 * pixel for pixel for Tight without JPEG, ZLIB, ZRLE and Hextile; within a
 * PSNR bound for Tight JPEG. The RFB client is driven directly over a TCP
 * socket with its own update requests (incremental after the first, as real
 * clients make them); the session's request loop is another part's concern.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import net from "node:net";
import type { ServerState } from "../../src/vnc/encodings.ts";
import type { VncFrame } from "../../src/vnc/framebuffer.ts";
import { RfbClient } from "../../src/vnc/rfb-client.ts";
import { Encoding } from "../../src/vnc/types.ts";
import { freeVncDisplay } from "../support/ports.ts";

const TOOLS = ["Xvnc", "Xvfb", "x11vnc", "xwd", "xwud", "xsetroot", "xterm", "convert"];
const missing = TOOLS.filter((t) => spawnSync("sh", ["-c", `command -v ${t}`]).status !== 0);
if (missing.length > 0) console.warn(`skipping real VNC server decoder tests: missing ${missing.join(", ")}`);

const WIDTH = 640;
const HEIGHT = 480;

interface RealServer {
	name: string;
	port: number;
	/** `xwd -root` of its display as RGB bytes. */
	root: Uint8Array;
	procs: ChildProcess[];
}

async function waitFor(check: () => boolean, what: string, ms = 8000): Promise<void> {
	const until = performance.now() + ms;
	while (!check()) {
		if (performance.now() > until) throw new Error(`${what} did not come up`);
		await Bun.sleep(50);
	}
}

function listening(port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const s = net.connect(port, "127.0.0.1");
		s.once("connect", () => {
			s.destroy();
			resolve(true);
		});
		s.once("error", () => resolve(false));
	});
}

async function startDesktop(kind: "xvnc" | "x11vnc", exclude: number[]): Promise<RealServer> {
	const display = await freeVncDisplay(exclude);
	const port = 5900 + display;
	const env = { ...process.env, DISPLAY: `:${display}` };
	const procs: ChildProcess[] = [];
	const geometry = `${WIDTH}x${HEIGHT}`;
	procs.push(
		kind === "xvnc"
			? spawn("Xvnc", [`:${display}`, "-geometry", geometry, "-depth", "24", "-SecurityTypes", "None", "-localhost"], {
					stdio: "ignore",
				})
			: spawn("Xvfb", [`:${display}`, "-screen", "0", `${geometry}x24`, "-nolisten", "tcp"], { stdio: "ignore" }),
	);
	await waitFor(() => existsSync(`/tmp/.X11-unix/X${display}`), `${kind} display :${display}`);
	spawnSync("xsetroot", ["-solid", "#336699"], { env });
	const picture = `/tmp/ikvm-real-decoders-${display}.xwd`;
	spawnSync("convert", ["-size", "300x200", "gradient:red-blue", "-swirl", "90", `xwd:${picture}`]);
	procs.push(spawn("xwud", ["-in", picture, "-geometry", "+20+20"], { env, stdio: "ignore" }));
	procs.push(
		spawn("xterm", ["-geometry", "40x10+330+250", "-e", "sh", "-c", "echo hello from a real server; ls /; sleep 600"], {
			env,
			stdio: "ignore",
		}),
	);
	if (kind === "x11vnc") {
		procs.push(
			spawn(
				"x11vnc",
				["-display", `:${display}`, "-rfbport", String(port), "-localhost", "-shared", "-forever", "-nopw", "-quiet"],
				{ stdio: "ignore" },
			),
		);
	}
	const until = performance.now() + 8000;
	while (!(await listening(port))) {
		if (performance.now() > until) throw new Error(`${kind} did not listen on ${port}`);
		await Bun.sleep(100);
	}
	// Let the windows map and draw.
	await Bun.sleep(1500);
	const dump = spawnSync("sh", ["-c", `xwd -root -display :${display} | convert xwd:- -depth 8 rgb:-`], {
		maxBuffer: 64 * 1024 * 1024,
	});
	const root = new Uint8Array(dump.stdout);
	if (root.length !== WIDTH * HEIGHT * 3) throw new Error(`xwd gave ${root.length} bytes`);
	return { name: kind, port, root, procs };
}

/** One complete frame in the given encodings, over a TCP socket. */
function grab(port: number, encodings: number[]): Promise<{ frame: VncFrame; used: number[]; state: ServerState }> {
	return new Promise((resolve, reject) => {
		const sock = net.connect(port, "127.0.0.1");
		const used = new Set<number>();
		const done = (error?: unknown, frame?: VncFrame) => {
			clearTimeout(timer);
			sock.destroy();
			if (error) reject(error);
			else resolve({ frame: frame as VncFrame, used: [...used], state: client.server });
		};
		const timer = setTimeout(() => done(new Error("no complete frame within 8 s")), 8000);
		const client = new RfbClient(
			{ limits: { maxWidth: 4096, maxHeight: 4096 }, encodings },
			{
				send: (b) => sock.write(b),
				ready: () => client.requestFullUpdate(),
				updateEnd: (s) => {
					for (const e of s.encodings) used.add(e);
					const fb = client.framebuffer;
					if (!fb) return;
					if (fb.complete) done(undefined, fb.snapshot());
					else
						sock.write(Uint8Array.of(3, 1, 0, 0, 0, 0, fb.width >> 8, fb.width & 255, fb.height >> 8, fb.height & 255));
				},
				error: (e) => done(e),
			},
		);
		sock.on("data", (d: Buffer) => {
			try {
				client.receive(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
			} catch (e) {
				done(e);
			}
		});
		sock.on("error", (e) => done(e));
	});
}

function compare(frame: VncFrame, root: Uint8Array): { differing: number; psnr: number } {
	let differing = 0;
	let sum = 0;
	for (let i = 0, j = 0; i < frame.rgba.length; i += 4, j += 3) {
		let any = 0;
		for (let c = 0; c < 3; c++) {
			const d = (frame.rgba[i + c] as number) - (root[j + c] as number);
			sum += d * d;
			any |= d;
		}
		if (any) differing++;
	}
	const mse = sum / (frame.width * frame.height * 3);
	return { differing, psnr: mse === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10((255 * 255) / mse) };
}

const CASES: Array<{ name: string; encodings: number[]; expect: number; lossy?: boolean; servers?: string[] }> = [
	{ name: "Tight without JPEG", encodings: [Encoding.Tight], expect: Encoding.Tight },
	{
		name: "Tight JPEG, quality 8",
		encodings: [Encoding.Tight, Encoding.QualityLevel0 + 8],
		expect: Encoding.Tight,
		lossy: true,
	},
	{
		name: "Tight JPEG, quality 2",
		encodings: [Encoding.Tight, Encoding.QualityLevel0 + 2],
		expect: Encoding.Tight,
		lossy: true,
	},
	{ name: "ZLIB", encodings: [Encoding.ZLIB], expect: Encoding.ZLIB, servers: ["x11vnc"] },
	{ name: "ZRLE", encodings: [Encoding.ZRLE], expect: Encoding.ZRLE },
	{ name: "Hextile", encodings: [Encoding.Hextile], expect: Encoding.Hextile },
];

for (const kind of ["xvnc", "x11vnc"] as const) {
	describe.skipIf(missing.length > 0)(`${kind}: every encoding it speaks reproduces xwd -root`, () => {
		let server: RealServer;
		beforeAll(async () => {
			server = await startDesktop(kind, []);
		}, 30_000);
		afterAll(() => {
			for (const p of server?.procs ?? []) p.kill();
		});

		test("the pseudo-encodings it sends are read: desktop name, cursor shape (x11vnc), screen layout (TigerVNC)", async () => {
			const { state } = await grab(server.port, [Encoding.ZRLE]);
			expect(state.desktopName?.length ?? 0).toBeGreaterThan(0);
			if (kind === "x11vnc") {
				// x11vnc sends the X pointer's shape (18x18 here), so it stops painting it into the picture.
				const cursor = state.cursor;
				expect(cursor?.width ?? 0).toBeGreaterThan(4);
				expect(cursor?.rgba.length).toBe((cursor?.width ?? 0) * (cursor?.height ?? 0) * 4);
				expect(cursor?.rgba.some((v, i) => i % 4 === 3 && v === 255)).toBe(true);
			} else {
				// TigerVNC announces its screen layout (ExtendedDesktopSize).
				expect(state.screens?.[0]).toMatchObject({ x: 0, y: 0, width: WIDTH, height: HEIGHT });
			}
		});

		for (const c of CASES) {
			if (c.servers && !c.servers.includes(kind)) continue;
			test(c.name, async () => {
				const { frame, used } = await grab(server.port, c.encodings);
				expect(used).toEqual([c.expect]);
				const { differing, psnr } = compare(frame, server.root);
				if (c.lossy) {
					expect(frame.lossy).toBe(true);
					expect(psnr).toBeGreaterThan(35);
					// The xterm's text and the flat root survive JPEG: most pixels are still exact.
					expect(differing).toBeLessThan(frame.width * frame.height * 0.3);
				} else {
					expect(frame.lossy).toBe(false);
					expect(differing).toBe(0);
				}
			}, 15_000);
		}
	});
}
