/**
 * A small RFB server that serves one RGBA picture over WebSocket and plain TCP
 * on loopback (port 0). The demo uses it to show a login prompt; the tests use
 * its options to meet every encoding, security type and failure a real server
 * can produce: random write splits, interleaved Bell/ServerCutText/
 * SetColourMapEntries, desktop resizes, a close in the middle of a frame, and
 * a server that never answers.
 */
import { createCipheriv, randomBytes } from "node:crypto";
import net from "node:net";
import type { Server, ServerWebSocket } from "bun";
import { ByteQueue } from "../vnc/byte-queue.ts";
import { Encoding, type PixelFormat, type RgbaImage, readPixelFormat, writePixelFormat } from "../vnc/types.ts";
import { prng } from "./prng.ts";
import {
	compressZrle,
	type EncodedRect,
	encodeCopyRectUpdate,
	encodeHextile,
	encodeRaw,
	rectMessage,
	toWirePicture,
	type WirePicture,
	ZrleStream,
	zrleTiles,
} from "./rfb-encoders.ts";
import { compressZlibRect, planTight, TightStreams } from "./rfb-tight.ts";
import type { DemoShell } from "./shell.ts";
import { KeysymFeeder } from "./shell-input.ts";

export type RfbServerEncoding = "raw" | "copyrect" | "hextile" | "zrle" | "tight" | "tightpng" | "zlib";
export type RfbServerSecurity = "none" | "vnc" | "unsupported";

export interface RfbServerOptions {
	image: RgbaImage;
	/** Encoding used when the client announced it (else Raw). Default "raw". Tight sends JPEG only when the client announced a quality level. */
	encoding?: RfbServerEncoding;
	/** Tight/TightPNG tile size (default 64). */
	tightTile?: number;
	/** Reset Tight stream 0 before every frame after the first (the reset flags). */
	tightReset?: boolean;
	/** A pointer shape sent with the first frame when the client asked for Cursor or Cursor With Alpha (`as` forces one). */
	cursor?: { image: RgbaImage; hotX: number; hotY: number; as?: "cursor" | "alpha" };
	/** Sent with the first frame as PointerPos when the client asked for it. */
	pointer?: { x: number; y: number };
	/** Sent with the first frame as DesktopName when the client asked for it. */
	renameTo?: string;
	/** Send every update with the "unknown count" 65535 and end it with a LastRect rectangle (when the client asked for it). */
	lastRect?: boolean;
	security?: RfbServerSecurity;
	/** The password for security "vnc". */
	password?: string;
	/** Types offered by security "unsupported". Default Tight (16) and VeNCrypt (19). */
	unsupportedTypes?: number[];
	/** Version announced, e.g. "003.008" (default), "003.007", "003.003", "003.889". */
	version?: string;
	/** Refuse every connection with this reason (no security types). */
	refuse?: string;
	/** Split every write into random pieces of 1..maxChunk bytes. */
	chunking?: { maxChunk: number; seed?: number };
	/** Send Bell, ServerCutText and SetColourMapEntries around every update. */
	interleave?: boolean;
	/** Announce this size in ServerInit; the first update then resizes to the picture. */
	initialSize?: { width: number; height: number };
	/** How a size change is announced (when the client supports it). Default "desktop-size". */
	resizeWith?: "desktop-size" | "extended-desktop-size";
	/** Send every full frame as this many FramebufferUpdate messages (horizontal bands). */
	updateBands?: number;
	/**
	 * How the server answers update requests, as real ones do: "empty-first" answers the first
	 * with 0 rectangles (TigerVNC), "ignore-first" drops the first request entirely (a server
	 * that only sends on change). Default: every request is answered.
	 */
	answer?: "empty-first" | "ignore-first" | "always-empty";
	/** Send half of the first frame update, then close the connection. */
	closeMidFrame?: boolean;
	/** Never answer at this point (for timeout tests). */
	stall?: "connect" | "handshake" | "frame";
	/** Raw bytes sent right after ServerInit (for malformed-data tests). */
	inject?: Uint8Array;
	/** Refuse WebSocket upgrades that do not offer the "binary" subprotocol (old websockify). */
	requireBinarySubprotocol?: boolean;
	/** Serve the WebSocket over TLS (wss://) with this certificate. */
	tls?: { cert: string; key: string };
	name?: string;
	/** A demo machine: keys and pointer go to it, and its picture is what is served. */
	shell?: DemoShell;
	/** Announce XVP (power: shutdown, reboot, reset) to clients that ask for it. */
	xvp?: boolean;
	/** Announce QEMU extended key events (an empty -258 rectangle, as QEMU does) to clients that ask for them. */
	qemuKeys?: boolean;
}

/** What the last client told us, for tests to check. */
export interface ClientReport {
	version?: string;
	shared?: boolean;
	encodings?: number[];
	pixelFormat?: PixelFormat;
	updateRequests: number;
	subprotocol?: string;
	headers?: Record<string, string>;
	/** Key events received (KeyEvent and QEMU extended ones), in order. */
	keyEvents: Array<{ down: boolean; keysym: number; scancode?: number }>;
	/** Pointer events received, in order. */
	pointerEvents: Array<{ buttons: number; x: number; y: number }>;
	/** XVP codes received (2 shutdown, 3 reboot, 4 reset). */
	xvpCodes: number[];
}

export interface RfbTestServer {
	readonly host: string;
	/** ws://127.0.0.1:<port>/ */
	readonly wsUrl: string;
	readonly tcpPort: number;
	/** Connections accepted so far (WebSocket and TCP). */
	readonly connections: number;
	/** Connections open now. */
	readonly openConnections: number;
	readonly lastClient: ClientReport | undefined;
	/** Encoding forms sent so far ("zrle:plain-rle", "hextile:mono", …). */
	readonly forms: ReadonlySet<string>;
	/** Replaces the picture; clients see it at their next update request (resized if needed). */
	setImage(image: RgbaImage): void;
	close(): Promise<void>;
}

/** The format the server starts with (like QEMU's: 32 bpp, blue in the lowest byte). */
const SERVER_PIXEL_FORMAT: PixelFormat = {
	bitsPerPixel: 32,
	depth: 24,
	bigEndian: false,
	trueColour: true,
	redMax: 255,
	greenMax: 255,
	blueMax: 255,
	redShift: 16,
	greenShift: 8,
	blueShift: 0,
};

const ENCODING_NUMBER: Record<RfbServerEncoding, number> = {
	raw: Encoding.Raw,
	copyrect: Encoding.CopyRect,
	hextile: Encoding.Hextile,
	zrle: Encoding.ZRLE,
	tight: Encoding.Tight,
	tightpng: Encoding.TightPNG,
	zlib: Encoding.ZLIB,
};

interface Sink {
	write(bytes: Uint8Array): void;
	close(): void;
}

/** VNC authentication, written independently of the client's (DES key = password bytes, bit-mirrored). */
function expectedResponse(password: string, challenge: Uint8Array): Uint8Array {
	const key = Buffer.alloc(8);
	Buffer.from(password, "utf8").copy(key, 0, 0, 8);
	for (let i = 0; i < 8; i++) {
		const bits = (key[i] as number).toString(2).padStart(8, "0");
		key[i] = Number.parseInt([...bits].reverse().join(""), 2);
	}
	const cipher = createCipheriv("des-ecb", key, null);
	cipher.setAutoPadding(false);
	return new Uint8Array(Buffer.concat([cipher.update(challenge), cipher.final()]));
}

function u32(v: number): Uint8Array {
	const b = new Uint8Array(4);
	new DataView(b.buffer).setUint32(0, v);
	return b;
}

function withLength(text: string): Uint8Array {
	const t = new TextEncoder().encode(text);
	const b = new Uint8Array(4 + t.length);
	new DataView(b.buffer).setUint32(0, t.length);
	b.set(t, 4);
	return b;
}

type ServerState = "version" | "security" | "vnc-response" | "client-init" | "messages" | "dead";

/** One client connection, transport-independent. */
class RfbConnection {
	private readonly queue = new ByteQueue();
	private state: ServerState = "version";
	private clientVersion = "3.8";
	private offered: number[] = [];
	private challenge = new Uint8Array(16);
	private pixelFormat: PixelFormat = SERVER_PIXEL_FORMAT;
	private encodings: number[] = [];
	private size: { width: number; height: number };
	private sentVersion = -1;
	private pending: Uint8Array[] = [];
	private chain: Promise<void> = Promise.resolve();
	private zrle: ZrleStream | undefined;
	private zlib: ZrleStream | undefined;
	private tight: TightStreams | undefined;
	private readonly rand: () => number;
	private framesSent = 0;
	private readonly keys: KeysymFeeder | undefined;

	constructor(
		private readonly server: RfbServerImpl,
		private readonly sink: Sink,
		readonly report: ClientReport,
	) {
		this.size = server.options.initialSize ?? { width: server.image.width, height: server.image.height };
		this.rand = prng(server.options.chunking?.seed ?? 1);
		this.keys = server.options.shell ? new KeysymFeeder(server.options.shell) : undefined;
		if (server.options.stall === "handshake") return;
		this.send(new TextEncoder().encode(`RFB ${server.options.version ?? "003.008"}\n`));
		this.flush();
	}

	receive(chunk: Uint8Array): void {
		if (this.state === "dead") return;
		this.queue.push(chunk);
		try {
			while (this.step()) {
				// consumed a unit
			}
		} catch {
			this.close();
		}
		this.flush();
	}

	close(): void {
		if (this.state === "dead") return;
		this.state = "dead";
		this.zrle?.close();
		this.zlib?.close();
		this.tight?.close();
		this.sink.close();
	}

	private isDead(): boolean {
		return this.state === "dead";
	}

	private send(bytes: Uint8Array): void {
		this.pending.push(bytes);
	}

	/** Writes what is pending, as one write or split into random pieces. */
	private flush(): void {
		if (this.pending.length === 0 || this.state === "dead") return;
		const all = Buffer.concat(this.pending);
		this.pending = [];
		const max = this.server.options.chunking?.maxChunk;
		if (!max) {
			this.sink.write(all);
			return;
		}
		for (let i = 0; i < all.length; ) {
			const n = 1 + Math.floor(this.rand() * max);
			this.sink.write(all.subarray(i, i + n));
			i += n;
		}
	}

	private step(): boolean {
		const q = this.queue;
		const opts = this.server.options;
		switch (this.state) {
			case "version": {
				if (!q.has(12)) return false;
				const text = new TextDecoder().decode(q.take(12));
				const m = /^RFB 003\.00([378])\n$/.exec(text);
				if (!m) throw new Error(`bad client version ${text}`);
				this.clientVersion = `3.${m[1]}`;
				this.report.version = this.clientVersion;
				if (opts.refuse !== undefined) {
					this.send(this.clientVersion === "3.3" ? u32(0) : Uint8Array.of(0));
					this.send(withLength(opts.refuse));
					this.flush();
					this.close();
					return false;
				}
				const security = opts.security ?? "none";
				this.offered = security === "none" ? [1] : security === "vnc" ? [2] : (opts.unsupportedTypes ?? [16, 19]);
				if (this.clientVersion === "3.3") {
					this.send(u32(this.offered[0] as number));
					this.afterChoice(this.offered[0] as number);
				} else {
					this.send(Uint8Array.of(this.offered.length, ...this.offered));
					this.state = "security";
				}
				return true;
			}
			case "security": {
				if (!q.has(1)) return false;
				const chosen = q.u8();
				if (!this.offered.includes(chosen)) throw new Error(`client chose ${chosen}`);
				this.afterChoice(chosen);
				return true;
			}
			case "vnc-response": {
				if (!q.has(16)) return false;
				const response = q.takeCopy(16);
				const expected = expectedResponse(opts.password ?? "", this.challenge);
				if (Buffer.compare(Buffer.from(response), Buffer.from(expected)) !== 0) {
					this.send(u32(1));
					if (this.clientVersion === "3.8") this.send(withLength("Authentication failed"));
					this.flush();
					this.close();
					return false;
				}
				this.send(u32(0));
				this.state = "client-init";
				return true;
			}
			case "client-init": {
				if (!q.has(1)) return false;
				this.report.shared = q.u8() !== 0;
				this.sendServerInit();
				this.state = "messages";
				return true;
			}
			case "messages":
				return this.readClientMessage();
			case "dead":
				return false;
		}
	}

	private afterChoice(type: number): void {
		if (type === 2) {
			this.challenge = new Uint8Array(randomBytes(16));
			this.send(this.challenge);
			this.state = "vnc-response";
		} else if (type === 1) {
			if (this.clientVersion === "3.8") this.send(u32(0));
			this.state = "client-init";
		} else {
			// An unsupported type: a conforming client gives up here.
			this.state = "security";
		}
	}

	private sendServerInit(): void {
		const name = new TextEncoder().encode(this.server.options.name ?? "ikvm-mcp test server");
		const m = new Uint8Array(24 + name.length);
		const v = new DataView(m.buffer);
		v.setUint16(0, this.size.width);
		v.setUint16(2, this.size.height);
		writePixelFormat(SERVER_PIXEL_FORMAT, m, 4);
		v.setUint32(20, name.length);
		m.set(name, 24);
		this.send(m);
		if (this.server.options.inject) this.send(this.server.options.inject);
	}

	private readClientMessage(): boolean {
		const q = this.queue;
		if (!q.has(1)) return false;
		const type = q.peekU8();
		switch (type) {
			case 0: {
				if (!q.has(20)) return false;
				this.pixelFormat = readPixelFormat(q.take(20).subarray(4));
				this.report.pixelFormat = this.pixelFormat;
				return true;
			}
			case 2: {
				if (!q.has(4)) return false;
				const n = q.peekU16(2);
				if (!q.has(4 + n * 4)) return false;
				q.skip(4);
				this.encodings = [];
				for (let i = 0; i < n; i++) this.encodings.push(q.s32());
				this.report.encodings = [...this.encodings];
				// XVP_INIT: the client asked for XVP and this server does it.
				if (this.server.options.xvp && this.encodings.includes(Encoding.Xvp)) this.send(Uint8Array.of(250, 0, 1, 1));
				if (this.server.options.qemuKeys && this.encodings.includes(Encoding.QemuExtendedKeyEvent)) {
					const m = new Uint8Array(4 + 12);
					const v = new DataView(m.buffer);
					v.setUint16(2, 1);
					v.setInt32(4 + 8, Encoding.QemuExtendedKeyEvent);
					this.send(m);
				}
				return true;
			}
			case 3: {
				if (!q.has(10)) return false;
				q.skip(1);
				const incremental = q.u8() !== 0;
				q.skip(8);
				this.report.updateRequests++;
				if (this.server.options.stall === "frame") return true;
				if (this.report.updateRequests === 1 && this.server.options.answer === "ignore-first") return true;
				const answer = this.server.options.answer;
				if ((this.report.updateRequests === 1 && answer === "empty-first") || answer === "always-empty") {
					this.send(Uint8Array.of(0, 0, 0, 0));
					this.flush();
					return true;
				}
				if (incremental && this.sentVersion === this.server.imageVersion) return true;
				this.chain = this.chain.then(() => this.sendFrame()).catch(() => this.close());
				return true;
			}
			case 4: {
				if (!q.has(8)) return false;
				const m = q.take(8);
				const down = m[1] !== 0;
				const keysym = new DataView(m.buffer, m.byteOffset, 8).getUint32(4);
				this.report.keyEvents.push({ down, keysym });
				this.keys?.key(down, keysym);
				return true;
			}
			case 5: {
				if (!q.has(6)) return false;
				const m = q.take(6);
				const v = new DataView(m.buffer, m.byteOffset, 6);
				const event = { buttons: m[0 + 1] as number, x: v.getUint16(2), y: v.getUint16(4) };
				this.report.pointerEvents.push(event);
				this.server.options.shell?.pointer(event.x, event.y, event.buttons);
				return true;
			}
			case 250: {
				if (!q.has(4)) return false;
				const code = q.take(4)[3] as number;
				this.report.xvpCodes.push(code);
				const shell = this.server.options.shell;
				if (!this.server.options.xvp) this.send(Uint8Array.of(250, 0, 1, 0));
				else if (code === 2) shell?.powerOff();
				else if ((code === 3 || code === 4) && shell?.state === "off") shell.powerOn();
				else if (code === 3 || code === 4) shell?.reboot("reset");
				return true;
			}
			case 255: {
				// QEMU client message; only the extended key event (sub-type 0, 12 bytes) is known here.
				if (!q.has(2)) return false;
				if (q.peekU8(1) !== 0) throw new Error("unknown QEMU client message");
				if (!q.has(12)) return false;
				const m = q.take(12);
				const v = new DataView(m.buffer, m.byteOffset, 12);
				const down = v.getUint16(2) !== 0;
				const keysym = v.getUint32(4);
				this.report.keyEvents.push({ down, keysym, scancode: v.getUint32(8) });
				this.keys?.key(down, keysym);
				return true;
			}
			case 6: {
				if (!q.has(8)) return false;
				const n = q.peekU32(4);
				if (!q.has(8 + n)) return false;
				q.skip(8 + n);
				return true;
			}
			default:
				throw new Error(`unknown client message ${type}`);
		}
	}

	private async sendFrame(): Promise<void> {
		if (this.state === "dead") return;
		const opts = this.server.options;
		const image = this.server.image;
		this.sentVersion = this.server.imageVersion;
		const pic = this.server.cached(`wire:${JSON.stringify(this.pixelFormat)}`, () =>
			toWirePicture(image, this.pixelFormat),
		);
		const rects: EncodedRect[] = [];
		if (image.width !== this.size.width || image.height !== this.size.height) {
			const rect = this.resizeRect(image.width, image.height);
			if (!rect) {
				this.close();
				return;
			}
			rects.push(rect);
			this.size = { width: image.width, height: image.height };
		}
		if (this.framesSent === 0) rects.push(...this.stateRects());
		const bands = Math.max(1, Math.min(opts.updateBands ?? 1, image.height));
		const updates: EncodedRect[][] = [];
		for (let b = 0; b < bands; b++) {
			const y0 = Math.floor((b * image.height) / bands);
			const y1 = Math.floor(((b + 1) * image.height) / bands);
			const band = b === 0 ? [...rects] : [];
			band.push(...(await this.encodeArea(pic, y0, y1 - y0)));
			updates.push(band);
		}
		if (this.isDead()) return;
		if (opts.interleave) this.sendNoise();
		const lastRect = opts.lastRect && this.encodings.includes(Encoding.LastRect);
		for (const update of updates) {
			if (lastRect)
				update.push({ x: 0, y: 0, width: 0, height: 0, encoding: Encoding.LastRect, payload: new Uint8Array(0) });
			const header = new Uint8Array(4);
			new DataView(header.buffer).setUint16(2, lastRect ? 0xffff : update.length);
			const body = [header, ...update.map(rectMessage)];
			if (opts.closeMidFrame && this.framesSent === 0) {
				const all = Buffer.concat(body);
				this.send(all.subarray(0, all.length >> 1));
				this.flush();
				this.close();
				return;
			}
			for (const part of body) this.send(part);
			if (opts.interleave) this.send(Uint8Array.of(2));
		}
		this.framesSent++;
		this.flush();
	}

	/** Cursor, PointerPos and DesktopName rectangles for the first frame, as far as the client asked for them. */
	private stateRects(): EncodedRect[] {
		const opts = this.server.options;
		const rects: EncodedRect[] = [];
		const cursor = opts.cursor;
		if (cursor) {
			const alpha = this.encodings.includes(Encoding.CursorWithAlpha) && cursor.as !== "cursor";
			const plain = this.encodings.includes(Encoding.Cursor) && cursor.as !== "alpha";
			const { width, height, rgba } = cursor.image;
			const at = { x: cursor.hotX, y: cursor.hotY, width, height };
			if (alpha) {
				// Raw RGBA with premultiplied alpha.
				const payload = new Uint8Array(4 + width * height * 4);
				for (let i = 0; i < width * height * 4; i += 4) {
					const a = rgba[i + 3] as number;
					for (let c = 0; c < 3; c++) payload[4 + i + c] = Math.round(((rgba[i + c] as number) * a) / 255);
					payload[4 + i + 3] = a;
				}
				rects.push({ ...at, encoding: Encoding.CursorWithAlpha, payload });
				this.server.forms.add("pseudo:cursor-with-alpha");
			} else if (plain) {
				const pic = toWirePicture(cursor.image, this.pixelFormat);
				const maskRow = Math.ceil(width / 8);
				const payload = new Uint8Array(width * height * 4 + maskRow * height);
				payload.set(pic.wire);
				for (let j = 0; j < height; j++) {
					for (let i = 0; i < width; i++) {
						if ((rgba[(j * width + i) * 4 + 3] as number) >= 128) {
							const at = width * height * 4 + j * maskRow + (i >> 3);
							payload[at] = (payload[at] as number) | (0x80 >> (i & 7));
						}
					}
				}
				rects.push({ ...at, encoding: Encoding.Cursor, payload });
				this.server.forms.add("pseudo:cursor");
			}
		}
		if (opts.pointer && this.encodings.includes(Encoding.PointerPos)) {
			rects.push({ ...opts.pointer, width: 0, height: 0, encoding: Encoding.PointerPos, payload: new Uint8Array(0) });
			this.server.forms.add("pseudo:pointer-pos");
		}
		if (opts.renameTo !== undefined && this.encodings.includes(Encoding.DesktopName)) {
			rects.push({
				x: 0,
				y: 0,
				width: 0,
				height: 0,
				encoding: Encoding.DesktopName,
				payload: withLength(opts.renameTo),
			});
			this.server.forms.add("pseudo:desktop-name");
		}
		return rects;
	}

	/** Bell, ServerCutText and SetColourMapEntries: messages a client must read past. */
	private sendNoise(): void {
		this.send(Uint8Array.of(2));
		const text = new TextEncoder().encode("clipboard from the test server");
		const cut = new Uint8Array(8 + text.length);
		cut[0] = 3;
		new DataView(cut.buffer).setUint32(4, text.length);
		cut.set(text, 8);
		this.send(cut);
		const map = new Uint8Array(6 + 2 * 6);
		map[0] = 1;
		new DataView(map.buffer).setUint16(4, 2);
		map.fill(0xff, 6 + 6);
		this.send(map);
	}

	private resizeRect(width: number, height: number): EncodedRect | undefined {
		const extended =
			this.server.options.resizeWith === "extended-desktop-size" &&
			this.encodings.includes(Encoding.ExtendedDesktopSize);
		if (extended) {
			const payload = new Uint8Array(4 + 16);
			payload[0] = 1;
			const v = new DataView(payload.buffer);
			v.setUint32(4, 0x1234); // screen id
			v.setUint16(12, width);
			v.setUint16(14, height);
			return { x: 0, y: 0, width, height, encoding: Encoding.ExtendedDesktopSize, payload };
		}
		if (!this.encodings.includes(Encoding.DesktopSize)) return undefined;
		return { x: 0, y: 0, width, height, encoding: Encoding.DesktopSize, payload: new Uint8Array(0) };
	}

	private async encodeArea(pic: WirePicture, y: number, h: number): Promise<EncodedRect[]> {
		const wanted = ENCODING_NUMBER[this.server.options.encoding ?? "raw"];
		const encoding = this.encodings.includes(wanted) ? wanted : Encoding.Raw;
		const w = pic.width;
		const forms = this.server.forms;
		// Encoded pictures are cached per picture, pixel format and area: only ZRLE's compression is per connection.
		const key = `${encoding}:${JSON.stringify(this.pixelFormat)}:${y}:${h}`;
		switch (encoding) {
			case Encoding.CopyRect:
				return this.server.cached(key, () =>
					encodeCopyRectUpdate(sub(pic, y, h), forms).map((r) => ({ ...r, y: r.y + y })),
				);
			case Encoding.Hextile:
				return this.server.cached(key, () => [
					{ x: 0, y, width: w, height: h, encoding, payload: encodeHextile(pic, 0, y, w, h, forms) },
				]);
			case Encoding.ZRLE: {
				this.zrle ??= new ZrleStream();
				// Two rectangles, so the zlib stream is shown to carry over between them.
				const half = Math.max(1, h >> 1);
				const areas = this.server.cached(key, () =>
					(
						[
							[y, half],
							[y + half, h - half],
						] as const
					)
						.filter(([, hh]) => hh > 0)
						.map(([y0, hh]) => ({ y0, hh, tiles: zrleTiles(pic, 0, y0, w, hh, forms) })),
				);
				const out: EncodedRect[] = [];
				for (const { y0, hh, tiles } of areas) {
					out.push({ x: 0, y: y0, width: w, height: hh, encoding, payload: await compressZrle(this.zrle, tiles) });
				}
				return out;
			}
			case Encoding.ZLIB: {
				this.zlib ??= new ZrleStream();
				const raw = this.server.cached(key, () => encodeRaw(pic, 0, y, w, h));
				forms.add("zlib");
				return [{ x: 0, y, width: w, height: h, encoding, payload: await compressZlibRect(this.zlib, raw) }];
			}
			case Encoding.Tight:
			case Encoding.TightPNG: {
				const level = this.encodings.find((e) => e >= Encoding.QualityLevel0 && e <= Encoding.QualityLevel0 + 9);
				const quality = level === undefined ? undefined : level - Encoding.QualityLevel0;
				const png = encoding === Encoding.TightPNG;
				const plan = await this.server.cached(`${key}:${quality}`, () =>
					planTight(pic, 0, y, w, h, { quality, png, tile: this.server.options.tightTile, forms }),
				);
				if (!this.tight) this.tight = new TightStreams();
				else if (this.server.options.tightReset && y === 0) this.tight.reset(0);
				const out: EncodedRect[] = [];
				for (const r of plan) {
					out.push({
						x: r.x,
						y: r.y,
						width: r.width,
						height: r.height,
						encoding,
						payload: await this.tight.payload(r, forms),
					});
				}
				return out;
			}
			default:
				return this.server.cached(key, () => [
					{ x: 0, y, width: w, height: h, encoding: Encoding.Raw, payload: encodeRaw(pic, 0, y, w, h) },
				]);
		}
	}
}

/** The rows y..y+h of a picture as a picture of its own (CopyRect sources stay within one update). */
function sub(pic: WirePicture, y: number, h: number): WirePicture {
	return {
		...pic,
		height: h,
		wire: pic.wire.subarray(y * pic.width * 4, (y + h) * pic.width * 4),
		keys: pic.keys.subarray(y * pic.width, (y + h) * pic.width),
	};
}

interface WsData {
	conn?: RfbConnection;
	subprotocol?: string;
	headers: Record<string, string>;
}

class RfbServerImpl implements RfbTestServer {
	readonly host = "127.0.0.1";
	image: RgbaImage;
	imageVersion = 0;
	connections = 0;
	lastClient: ClientReport | undefined;
	readonly forms = new Set<string>();
	private readonly live = new Set<RfbConnection>();
	private readonly sockets = new Set<net.Socket>();
	private ws!: Server<WsData>;
	private tcp!: net.Server;

	constructor(readonly options: RfbServerOptions) {
		this.image = options.shell ? options.shell.render() : options.image;
		const shell = options.shell;
		if (shell) shell.onChange = () => this.setImage(shell.render());
	}

	get wsUrl(): string {
		return `${this.options.tls ? "wss" : "ws"}://${this.host}:${this.ws.port}/`;
	}

	get openConnections(): number {
		return this.live.size;
	}

	get tcpPort(): number {
		return (this.tcp.address() as net.AddressInfo).port;
	}

	setImage(image: RgbaImage): void {
		this.image = image;
		this.imageVersion++;
		this.cache.clear();
	}

	private readonly cache = new Map<string, unknown>();

	/** A value derived from the current picture, computed once per picture. */
	cached<T>(key: string, make: () => T): T {
		if (!this.cache.has(key)) this.cache.set(key, make());
		return this.cache.get(key) as T;
	}

	async start(): Promise<void> {
		const stall = this.options.stall === "connect";
		this.ws = Bun.serve<WsData>({
			hostname: this.host,
			port: 0,
			...(this.options.tls ? { tls: this.options.tls } : {}),
			fetch: (req, server) => {
				if (stall) return new Promise<Response>(() => {});
				const offered = (req.headers.get("sec-websocket-protocol") ?? "")
					.split(",")
					.map((p) => p.trim())
					.filter(Boolean);
				if (this.options.requireBinarySubprotocol && !offered.includes("binary")) {
					return new Response("Client must support 'binary' protocol", { status: 400 });
				}
				const headers: Record<string, string> = {};
				req.headers.forEach((value, key) => {
					headers[key] = value;
				});
				const subprotocol = offered.includes("binary") ? "binary" : undefined;
				const ok = server.upgrade(req, {
					data: { subprotocol, headers },
					headers: subprotocol ? { "Sec-WebSocket-Protocol": subprotocol } : undefined,
				});
				return ok ? undefined : new Response("expected a WebSocket upgrade", { status: 426 });
			},
			websocket: {
				backpressureLimit: 256 * 1024 * 1024,
				open: (ws: ServerWebSocket<WsData>) => {
					const report: ClientReport = {
						...emptyReport(),
						subprotocol: ws.data.subprotocol,
						headers: ws.data.headers,
					};
					ws.data.conn = this.accept(
						{
							write: (bytes) => {
								ws.send(bytes);
							},
							close: () => ws.close(),
						},
						report,
					);
				},
				message: (ws: ServerWebSocket<WsData>, message) => {
					if (typeof message === "string") return;
					ws.data.conn?.receive(new Uint8Array(message.buffer, message.byteOffset, message.byteLength));
				},
				close: (ws: ServerWebSocket<WsData>) => {
					if (ws.data.conn) this.forget(ws.data.conn);
				},
			},
		});
		this.tcp = net.createServer((socket) => {
			this.sockets.add(socket);
			socket.setNoDelay(true);
			const conn = this.accept(
				{
					write: (bytes) => {
						if (!socket.destroyed) socket.write(bytes);
					},
					close: () => socket.end(),
				},
				emptyReport(),
			);
			socket.on("data", (d: Buffer) => conn.receive(new Uint8Array(d.buffer, d.byteOffset, d.byteLength)));
			socket.on("error", () => conn.close());
			socket.on("close", () => {
				this.sockets.delete(socket);
				this.forget(conn);
			});
		});
		await new Promise<void>((resolve) => this.tcp.listen(0, this.host, resolve));
	}

	private accept(sink: Sink, report: ClientReport): RfbConnection {
		this.connections++;
		this.lastClient = report;
		const conn = new RfbConnection(this, sink, report);
		this.live.add(conn);
		return conn;
	}

	private forget(conn: RfbConnection): void {
		conn.close();
		this.live.delete(conn);
	}

	async close(): Promise<void> {
		for (const conn of this.live) conn.close();
		this.live.clear();
		for (const socket of this.sockets) socket.destroy();
		await new Promise<void>((resolve) => this.tcp.close(() => resolve()));
		await this.ws.stop(true);
	}
}

function emptyReport(): ClientReport {
	return { updateRequests: 0, keyEvents: [], pointerEvents: [], xvpCodes: [] };
}

/** Starts the server on loopback, WebSocket and TCP, each on a free port. */
export async function startRfbServer(options: RfbServerOptions): Promise<RfbTestServer> {
	const server = new RfbServerImpl(options);
	await server.start();
	return server;
}
