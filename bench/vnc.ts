/**
 * VNC path: decoding a full-frame FramebufferUpdate per encoding (parser and
 * decoder together, fed as one chunk, into a warm session's framebuffer),
 * decode + PNG, and connect → PNG (everything: connect, handshake, framebuffer
 * allocation, frame, PNG) against the local RFB test server.
 */

import { standaloneContext } from "../src/call-context.ts";
import { consolePattern, testPattern } from "../src/demo/patterns.ts";
import {
	compressZrle,
	type EncodedRect,
	encodeCopyRectUpdate,
	encodeHextile,
	encodeRaw,
	rectMessage,
	toWirePicture,
	ZrleStream,
	zrleTiles,
} from "../src/demo/rfb-encoders.ts";
import { startRfbServer } from "../src/demo/rfb-server.ts";
import { compressZlibRect, planTight, TightStreams } from "../src/demo/rfb-tight.ts";
import { encodePng } from "../src/image/encode.ts";
import { RfbClient } from "../src/vnc/rfb-client.ts";
import { captureVncFrame } from "../src/vnc/session.ts";
import { CLIENT_PIXEL_FORMAT, Encoding, type RgbaImage } from "../src/vnc/types.ts";
import { type Row, time } from "./harness.ts";

const LIMITS = { maxWidth: 8192, maxHeight: 8192 };
const DECODE_PLUS_PNG_TARGET_MS = 100;

/** The server's side of a session up to ServerInit (RFB 3.8, security None). */
function handshake(width: number, height: number): Uint8Array {
	const init = new Uint8Array(24);
	const v = new DataView(init.buffer);
	v.setUint16(0, width);
	v.setUint16(2, height);
	init.set([32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0], 4);
	return new Uint8Array([...new TextEncoder().encode("RFB 003.008\n"), 1, 1, 0, 0, 0, 0, ...init]);
}

/** Tight quality level for the JPEG rows (8: JPEG quality 86, no chroma subsampling). */
const JPEG_LEVEL = 8;

/**
 * `count` FramebufferUpdates, each carrying the whole picture in `encoding`;
 * ZRLE, ZLIB and Tight ones continue their zlib streams. `quality` makes
 * Tight send its many-colour tiles as JPEG.
 */
async function fullUpdates(image: RgbaImage, encoding: number, count: number, quality?: number): Promise<Uint8Array[]> {
	const pic = toWirePicture(image, CLIENT_PIXEL_FORMAT);
	const { width: w, height: h } = image;
	const zrle = new ZrleStream();
	const updates: Uint8Array[] = [];
	let fixed: EncodedRect[] | undefined;
	if (encoding === Encoding.CopyRect) fixed = encodeCopyRectUpdate(pic);
	else if (encoding === Encoding.Hextile)
		fixed = [{ x: 0, y: 0, width: w, height: h, encoding, payload: encodeHextile(pic, 0, 0, w, h) }];
	else if (encoding === Encoding.Raw)
		fixed = [{ x: 0, y: 0, width: w, height: h, encoding, payload: encodeRaw(pic, 0, 0, w, h) }];
	const tiles = encoding === Encoding.ZRLE ? zrleTiles(pic, 0, 0, w, h) : undefined;
	const raw = encoding === Encoding.ZLIB ? encodeRaw(pic, 0, 0, w, h) : undefined;
	// Tight rectangles of up to 128x128 (real servers keep non-JPEG ones under 64K pixels).
	const plan = encoding === Encoding.Tight ? await planTight(pic, 0, 0, w, h, { quality, tile: 128 }) : undefined;
	const tight = new TightStreams();
	for (let i = 0; i < count; i++) {
		// The same picture, compressed again on the continuing streams, as a server would.
		let rects: EncodedRect[];
		if (fixed) rects = fixed;
		else if (plan) {
			rects = [];
			for (const r of plan) rects.push({ ...r, encoding, payload: await tight.payload(r) });
		} else if (raw) {
			rects = [{ x: 0, y: 0, width: w, height: h, encoding, payload: await compressZlibRect(zrle, raw) }];
		} else {
			rects = [{ x: 0, y: 0, width: w, height: h, encoding, payload: await compressZrle(zrle, tiles as Uint8Array) }];
		}
		const header = new Uint8Array(4);
		new DataView(header.buffer).setUint16(2, rects.length);
		updates.push(new Uint8Array(Buffer.concat([header, ...rects.map(rectMessage)])));
	}
	zrle.close();
	tight.close();
	return updates;
}

/**
 * A client past its handshake, as in a warm session: framebuffer allocated,
 * zlib stream open. `next()` feeds it the next full-frame update (one chunk).
 */
async function warmClient(image: RgbaImage, encoding: number, runs: number, quality?: number) {
	const updates = await fullUpdates(image, encoding, runs + 1, quality);
	let done = 0;
	const client = new RfbClient(
		{ limits: LIMITS, encodings: encoding === Encoding.CopyRect ? [encoding, Encoding.Raw] : [encoding] },
		{ send: () => {}, ready: () => {}, updateEnd: () => done++ },
	);
	client.receive(handshake(image.width, image.height));
	const fb = client.framebuffer as NonNullable<typeof client.framebuffer>;
	let k = 0;
	return {
		bytes: updates[0]?.length ?? 0,
		async next() {
			const before = done;
			client.receive(updates[k++] as Uint8Array);
			// JPEG rectangles are painted asynchronously (sharp).
			await client.idle();
			if (done !== before + 1) throw new Error("update not decoded");
			return fb;
		},
	};
}

const ENCODINGS: Array<[string, number]> = [
	["Raw", Encoding.Raw],
	["CopyRect", Encoding.CopyRect],
	["Hextile", Encoding.Hextile],
	["ZRLE", Encoding.ZRLE],
];

/** Decode throughput per encoding at 1920x1080, in MB of framebuffer (RGBA) per second of wall time. */
async function throughputRows(runs: number): Promise<Row[]> {
	const rows: Row[] = [];
	const encodings: Array<[string, number, number | undefined]> = [
		["Raw", Encoding.Raw, undefined],
		["Hextile", Encoding.Hextile, undefined],
		["ZRLE", Encoding.ZRLE, undefined],
		["ZLIB", Encoding.ZLIB, undefined],
		["Tight lossless", Encoding.Tight, undefined],
		[`Tight JPEG (quality level ${JPEG_LEVEL})`, Encoding.Tight, JPEG_LEVEL],
	];
	const frameMB = (1920 * 1080 * 4) / 1e6;
	for (const [label, image] of [
		["console", consolePattern(1920, 1080)],
		["mixed", testPattern(1920, 1080)],
	] as const) {
		for (const [name, encoding, quality] of encodings) {
			const client = await warmClient(image, encoding, runs, quality);
			const row = await time(`decode ${name}`, () => client.next(), runs - 1, undefined, "wall", 0);
			// Both: wall time shows what a caller waits, CPU time stays meaningful on a shared machine.
			const wall = frameMB / (row.ms / 1000);
			const cpu = frameMB / (Math.max(row.cpuMs, 0.01) / 1000);
			rows.push({
				...row,
				name: `VNC decode throughput ${name}, ${label} 1920x1080 (${(client.bytes / 1024).toFixed(0)} KiB): ${wall.toFixed(0)} MB/s wall, ${cpu.toFixed(0)} MB/s CPU`,
			});
		}
	}
	return rows;
}

export async function vncSuite(): Promise<Row[]> {
	const rows: Row[] = [];
	const runs = 20;
	const pictures: Array<[string, RgbaImage]> = [
		["console 1024x768", consolePattern(1024, 768)],
		["console 1920x1080", consolePattern(1920, 1080)],
		["mixed 1920x1080", testPattern(1920, 1080)],
	];
	for (const [label, image] of pictures) {
		for (const [name, encoding] of ENCODINGS) {
			const client = await warmClient(image, encoding, runs);
			rows.push(
				await time(
					`VNC decode ${name}, ${label} (${(client.bytes / 1024).toFixed(0)} KiB)`,
					() => client.next(),
					runs - 1,
					undefined,
					"wall",
					0,
				),
			);
		}
	}
	for (const [label, image] of pictures.slice(1)) {
		for (const [name, encoding] of ENCODINGS.slice(2)) {
			const client = await warmClient(image, encoding, runs);
			rows.push(
				await time(
					`VNC decode ${name} + PNG, ${label}`,
					async () => encodePng((await client.next()).snapshot()),
					runs - 1,
					DECODE_PLUS_PNG_TARGET_MS,
					// Compute on one core: CPU time stays meaningful while other work shares the machine.
					"cpu",
					0,
				),
			);
		}
	}
	rows.push(...(await throughputRows(runs)));
	for (const [w, h] of [
		[1024, 768],
		[1920, 1080],
	] as const) {
		const server = await startRfbServer({ image: consolePattern(w, h), encoding: "zrle" });
		try {
			for (const [transport, target] of [
				["WebSocket", { kind: "vnc" as const, url: server.wsUrl }],
				["TCP", { kind: "vnc" as const, host: "127.0.0.1", port: server.tcpPort }],
			] as const) {
				rows.push(
					await time(`VNC connect → PNG over ${transport}, ZRLE console ${w}x${h} (local test server)`, async () =>
						encodePng(await captureVncFrame(target, standaloneContext(), LIMITS)),
					),
				);
			}
		} finally {
			await server.close();
		}
	}
	return rows;
}
