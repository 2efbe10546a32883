/**
 * The RFB protocol state machine (RFC 6143), without any I/O: bytes go in
 * through `receive`, bytes to send come out through `events.send`. It owns the
 * handshake (version, security, ServerInit), our settings (pixel format,
 * encodings), and the server-message loop that hands rectangles to the
 * decoders. Every step checks that its whole unit is queued first, so a
 * message may be split anywhere and several may share one chunk.
 *
 * Errors are thrown from `receive` as IkvmError; after one the client is dead
 * and the caller closes the connection.
 */
import type { ConsoleLimits } from "../console/types.ts";
import { IkvmError, type Stage } from "../errors.ts";
import { vncAuthResponse } from "./auth.ts";
import { ByteQueue } from "./byte-queue.ts";
import { readScreenLayout } from "./decoders/pseudo.ts";
import {
	announcedEncodings,
	createDecoders,
	type DecodeResult,
	isPixelEncoding,
	preferredEncodings,
	type RectDecoder,
	type ServerState,
} from "./encodings.ts";
import { printable, protocolError } from "./errors.ts";
import { Framebuffer } from "./framebuffer.ts";
import {
	ANONYMOUS_TLS,
	CLIENT_PIXEL_FORMAT,
	ClientMessage,
	Encoding,
	encodingName,
	PIXEL_FORMAT_LENGTH,
	type PixelFormat,
	type RectHeader,
	type RfbVersion,
	readPixelFormat,
	SecurityType,
	type ServerInit,
	ServerMessage,
	securityTypeName,
	VeNCryptSubtype,
	veNCryptName,
	writePixelFormat,
	X509_SUBTYPES,
} from "./types.ts";

export interface RfbClientOptions {
	/** For VNC Authentication; only the first 8 characters count. */
	password?: string;
	limits: ConsoleLimits;
	/**
	 * Encodings to announce, in preference order (default: preferredEncodings(),
	 * lossless first); pixel encodings and settings such as a JPEG quality level.
	 * Raw and the pseudo-encodings are always added.
	 */
	encodings?: readonly number[];
	/** Ask the server to keep other viewers connected (default true: never kick the admin off). */
	shared?: boolean;
	/** For VeNCrypt X509Plain: the user name sent with the password inside TLS. */
	username?: string;
	/** VeNCrypt needs TLS on the stream; false (WebSocket streams today) refuses the VeNCrypt types. */
	canStartTls?: boolean;
}

export interface UpdateSummary {
	/** Rectangles painted in this update. */
	rects: number;
	/** The framebuffer changed size during this update. */
	resized: boolean;
	/** Encodings of the painted rectangles, each once. */
	encodings: number[];
}

export interface RfbClientEvents {
	send(bytes: Uint8Array): void;
	/** ServerInit arrived and our settings are sent: frames can be requested. */
	ready(init: ServerInit): void;
	/** A FramebufferUpdate has been applied completely. */
	updateEnd(summary: UpdateSummary): void;
	bell?(): void;
	cutText?(length: number): void;
	/**
	 * VeNCrypt agreed on a TLS sub-type: the caller wraps the stream in TLS and then calls
	 * `tlsStarted()`. Nothing more is read until then (the next bytes are the TLS handshake).
	 */
	startTls?(): void;
	/** A failure found after `receive` returned (an asynchronous JPEG/PNG decode); the client is dead. */
	error?(error: IkvmError): void;
	/** An asynchronous paint finished and queued bytes wait: call `pump` again. */
	resume?(): void;
	/** An XVP message from the server: code 1 (XVP_INIT) says power actions are supported, 0 (XVP_FAIL) that one failed. */
	xvp?(code: number): void;
}

type HandshakeState =
	| "version"
	| "security-types"
	| "security-type-3.3"
	| "vnc-challenge"
	| "vencrypt-version"
	| "vencrypt-version-ack"
	| "vencrypt-subtypes"
	| "vencrypt-subtype-ack"
	| "tls"
	| "security-result"
	| "failure-reason"
	| "server-init";

const AWAITING: Record<HandshakeState, string> = {
	version: "the server's RFB version",
	"security-types": "the security types",
	"security-type-3.3": "the security type",
	"vnc-challenge": "the VNC authentication challenge",
	"vencrypt-version": "the VeNCrypt version",
	"vencrypt-version-ack": "the VeNCrypt version answer",
	"vencrypt-subtypes": "the VeNCrypt sub-types",
	"vencrypt-subtype-ack": "the VeNCrypt sub-type answer",
	tls: "the TLS handshake",
	"security-result": "the authentication result",
	"failure-reason": "the failure reason",
	"server-init": "ServerInit",
};

type MessageState = "message" | "rect-header" | "rect-body" | "cut-text";

/** Longest reason or desktop name we accept; anything longer is not a real server. */
const MAX_STRING = 64 * 1024;
/** ServerCutText beyond this is refused rather than skipped. */
const MAX_CUT_TEXT = 16 * 1024 * 1024;

/**
 * Size changes one FramebufferUpdate may carry. A real server sends one (two when an
 * ExtendedDesktopSize follows a DesktopSize); a hostile one can send 65,535 (issue 21).
 */
export const MAX_SIZE_CHANGES_PER_UPDATE = 16;

const textDecoder = new TextDecoder("utf-8", { fatal: false });

/** Maps a server's announced version to the one we speak (RFC 6143 §7.1.1, and the odd ones seen in the wild). */
export function negotiateVersion(major: number, minor: number): RfbVersion | undefined {
	if (major < 3) return undefined;
	// 4.x and 5.x are RealVNC/Intel AMT announcements that speak 3.8.
	if (major > 3) return "3.8";
	// 3.889 (Apple Remote Desktop) and any other minor above 8 speak 3.8.
	if (minor >= 8) return "3.8";
	if (minor === 7) return "3.7";
	// 3.3, 3.5 (unofficial), 3.6 (UltraVNC) and other unknown minors: RFC says treat as 3.3.
	return "3.3";
}

export class RfbClient {
	private readonly queue = new ByteQueue();
	private readonly decoders: Map<number, RectDecoder>;
	private readonly encodings: readonly number[];
	private readonly announced: readonly number[];
	/** What pseudo-encodings told us: cursor shape, desktop name, screen layout. */
	readonly server: ServerState = {};
	/** A rectangle being painted asynchronously; parsing waits for it. */
	private pending: Promise<void> | undefined;
	private handshake: HandshakeState | "done" = "version";
	private state: MessageState = "message";
	private failed = false;
	private version: RfbVersion = "3.8";
	private qemuKeys = false;
	private xvpVersion = 0;
	private failureKind: "refused" | "auth" = "refused";
	private fb: Framebuffer | undefined;
	private initInfo: ServerInit | undefined;

	// The FramebufferUpdate being read.
	private rectsLeft = 0;
	private rectsTotal = 0;
	private rectsPainted = 0;
	private resized = false;
	private updateEncodings = new Set<number>();
	private rect: RectHeader | undefined;
	private decoder: RectDecoder | undefined;
	private cutTextLeft = 0;
	/** A size change not yet applied: only the last of a message is allocated. */
	private pendingSize: { width: number; height: number } | undefined;
	private sizeChanges = 0;
	/** The security type chosen inside VeNCrypt, once TLS is up. */
	private vencryptSubtype = 0;

	constructor(
		private readonly options: RfbClientOptions,
		private readonly events: RfbClientEvents,
	) {
		const wanted = options.encodings ?? preferredEncodings();
		this.encodings = wanted.filter(isPixelEncoding);
		this.announced = announcedEncodings(wanted);
		this.decoders = createDecoders(this.encodings, this.server);
		if (this.decoders.size === 0) throw new RangeError("no supported pixel encoding requested");
	}

	/** The current framebuffer (after ServerInit). */
	get framebuffer(): Framebuffer | undefined {
		return this.fb;
	}

	get serverInit(): ServerInit | undefined {
		return this.initInfo;
	}

	get negotiatedVersion(): RfbVersion {
		return this.version;
	}

	/** The server announced the QEMU Extended Key Event pseudo-encoding: keys may go as XT scan codes. */
	get extendedKeyEvents(): boolean {
		return this.qemuKeys;
	}

	/** The server announced XVP (XVP_INIT): shutdown, reboot and reset may be asked for. */
	get xvpSupported(): boolean {
		return this.xvpVersion > 0;
	}

	/** Sends a client message (input, XVP) once the handshake is done. */
	sendMessage(bytes: Uint8Array): void {
		if (this.handshake !== "done") throw new Error("sendMessage before ServerInit");
		this.events.send(bytes);
	}

	get isReady(): boolean {
		return this.handshake === "done" && !this.failed;
	}

	/** What the handshake is waiting for, e.g. "the server's RFB version"; undefined once done. */
	get awaiting(): string | undefined {
		return this.handshake === "done" ? undefined : AWAITING[this.handshake];
	}

	/** Where the parser is, for "the server closed the connection …" messages. */
	describePosition(): string {
		if (this.handshake !== "done") return `during the handshake, while waiting for ${AWAITING[this.handshake]}`;
		if (this.state === "rect-header" || this.state === "rect-body") {
			const index = this.rectsTotal - this.rectsLeft + 1;
			const enc = this.rect ? `, ${encodingName(this.rect.encoding)}` : "";
			return `in the middle of a framebuffer update (rectangle ${index} of ${this.rectsTotal}${enc})`;
		}
		if (this.state === "cut-text") return "in the middle of a clipboard message";
		return "between messages";
	}

	/** Feeds bytes from the server and parses all of them. Throws IkvmError on anything we cannot accept. */
	receive(chunk: Uint8Array): void {
		this.push(chunk);
		this.pump(Number.POSITIVE_INFINITY);
	}

	/** Queues bytes from the server without parsing them (see `pump`). */
	push(chunk: Uint8Array): void {
		if (!this.failed) this.queue.push(chunk);
	}

	/**
	 * Parses queued bytes until they run out or `untilMs` (performance.now()) has passed,
	 * checked after every unit (a message, a rectangle). True means work is left: the caller
	 * yields to the event loop and pumps again, so one huge update cannot stall the process.
	 */
	pump(untilMs: number): boolean {
		// While a rectangle is being painted asynchronously, bytes only queue up.
		if (this.failed || this.pending) return false;
		try {
			while (this.step()) {
				if (this.failed) return false;
				if (performance.now() >= untilMs) return this.queue.length > 0;
			}
			return false;
		} catch (error) {
			this.failed = true;
			this.queue.clear();
			throw error;
		}
	}

	/** Resolves once no asynchronous paint is pending (tests, benchmarks). */
	async idle(): Promise<void> {
		while (this.pending) await this.pending.catch(() => {});
	}

	/** Asks for the whole screen, not just what changed. */
	requestFullUpdate(): void {
		this.requestUpdate(false);
	}

	/** Asks for what changed since the last update (the server may wait until something does). */
	requestIncrementalUpdate(): void {
		this.requestUpdate(true);
	}

	private requestUpdate(incremental: boolean): void {
		if (!this.fb) throw new Error("update request before ServerInit");
		const m = new Uint8Array(10);
		const v = new DataView(m.buffer);
		m[0] = ClientMessage.FramebufferUpdateRequest;
		m[1] = incremental ? 1 : 0;
		v.setUint16(6, this.fb.width);
		v.setUint16(8, this.fb.height);
		this.events.send(m);
	}

	/** The stream is now TLS (VeNCrypt): continue with the chosen sub-type's authentication. */
	tlsStarted(): void {
		if (this.handshake !== "tls") throw new Error("tlsStarted outside a VeNCrypt TLS handshake");
		const sub = this.vencryptSubtype;
		if (sub === VeNCryptSubtype.X509Vnc) {
			this.handshake = "vnc-challenge";
		} else if (sub === VeNCryptSubtype.X509Plain) {
			const user = new TextEncoder().encode(this.options.username ?? "");
			const pass = new TextEncoder().encode(this.options.password ?? "");
			const m = new Uint8Array(8 + user.length + pass.length);
			const v = new DataView(m.buffer);
			v.setUint32(0, user.length);
			v.setUint32(4, pass.length);
			m.set(user, 8);
			m.set(pass, 8 + user.length);
			this.events.send(m);
			this.handshake = "security-result";
		} else {
			this.handshake = "security-result";
		}
		this.pump(Number.POSITIVE_INFINITY);
	}

	private step(): boolean {
		if (this.handshake !== "done") return this.stepHandshake();
		switch (this.state) {
			case "message":
				return this.readMessage();
			case "rect-header":
				return this.readRectHeader();
			case "rect-body":
				return this.readRectBody();
			case "cut-text":
				return this.skipCutText();
		}
	}

	// ---------------------------------------------------------------- handshake

	private stepHandshake(): boolean {
		const q = this.queue;
		switch (this.handshake) {
			case "version": {
				if (q.length >= 4 && q.peekU32() !== 0x52464220 /* "RFB " */) {
					throw protocolError(
						`This is not a VNC server: it greeted with "${printable(q.take(Math.min(q.length, 40)))}" instead of "RFB 003.00x".`,
						"handshake",
					);
				}
				if (!q.has(12)) return false;
				const text = new TextDecoder("latin1").decode(q.take(12));
				const m = /^RFB (\d{3})\.(\d{3})\n$/.exec(text);
				if (!m)
					throw protocolError(
						`Malformed RFB version greeting "${printable(new TextEncoder().encode(text))}".`,
						"handshake",
					);
				const version = negotiateVersion(Number(m[1]), Number(m[2]));
				if (!version) {
					throw new IkvmError("NOT_SUPPORTED", `The VNC server speaks RFB ${m[1]}.${m[2]}, older than 3.3.`, {
						stage: "handshake",
					});
				}
				this.version = version;
				this.events.send(new TextEncoder().encode(`RFB 003.00${version.slice(2)}\n`));
				this.handshake = version === "3.3" ? "security-type-3.3" : "security-types";
				return true;
			}
			case "security-types": {
				if (!q.has(1)) return false;
				const count = q.peekU8();
				if (count === 0) {
					q.skip(1);
					this.failureKind = "refused";
					this.handshake = "failure-reason";
					return true;
				}
				if (!q.has(1 + count)) return false;
				q.skip(1);
				const offered = [...q.take(count)];
				const chosen = this.chooseSecurity(offered);
				this.events.send(Uint8Array.of(chosen));
				this.afterSecurityChosen(chosen);
				return true;
			}
			case "security-type-3.3": {
				if (!q.has(4)) return false;
				const type = q.u32();
				if (type === SecurityType.Invalid) {
					this.failureKind = "refused";
					this.handshake = "failure-reason";
					return true;
				}
				this.afterSecurityChosen(this.chooseSecurity([type]));
				return true;
			}
			case "vnc-challenge": {
				if (!q.has(16)) return false;
				const challenge = q.takeCopy(16);
				this.events.send(vncAuthResponse(this.options.password ?? "", challenge));
				this.handshake = "security-result";
				return true;
			}
			case "vencrypt-version": {
				if (!q.has(2)) return false;
				const major = q.u8();
				const minor = q.u8();
				if (major === 0 && minor < 2) {
					throw new IkvmError(
						"NOT_SUPPORTED",
						`The VNC server speaks VeNCrypt ${major}.${minor}; this client needs 0.2.`,
						{
							stage: "handshake",
							hint: "Update the VNC server, or configure it for plain VNC authentication.",
						},
					);
				}
				this.events.send(Uint8Array.of(0, 2));
				this.handshake = "vencrypt-version-ack";
				return true;
			}
			case "vencrypt-version-ack": {
				if (!q.has(1)) return false;
				if (q.u8() !== 0) throw protocolError("The VNC server refused VeNCrypt version 0.2.", "handshake");
				this.handshake = "vencrypt-subtypes";
				return true;
			}
			case "vencrypt-subtypes": {
				if (!q.has(1)) return false;
				const count = q.peekU8();
				if (count === 0) throw protocolError("The VNC server offered VeNCrypt with no sub-types.", "handshake");
				if (!q.has(1 + count * 4)) return false;
				q.skip(1);
				const offered: number[] = [];
				for (let i = 0; i < count; i++) offered.push(q.u32());
				const chosen = this.chooseVeNCrypt(offered);
				const m = new Uint8Array(4);
				new DataView(m.buffer).setUint32(0, chosen);
				this.events.send(m);
				this.vencryptSubtype = chosen;
				this.handshake = "vencrypt-subtype-ack";
				return true;
			}
			case "vencrypt-subtype-ack": {
				if (!q.has(1)) return false;
				if (q.u8() !== 1) {
					throw new IkvmError(
						"ACCESS_DENIED",
						`The VNC server refused the VeNCrypt sub-type ${veNCryptName(this.vencryptSubtype)} it had offered.`,
						{ stage: "handshake", hint: "Check the VNC server's security settings and logs." },
					);
				}
				this.handshake = "tls";
				this.events.startTls?.();
				return false;
			}
			case "tls":
				// The stream is being wrapped in TLS; tlsStarted() continues.
				return false;
			case "security-result": {
				if (!q.has(4)) return false;
				const result = q.u32();
				if (result === 0) {
					this.sendClientInit();
					return true;
				}
				if (this.version === "3.8") {
					this.failureKind = "auth";
					this.handshake = "failure-reason";
					return true;
				}
				throw authFailed(result === 2 ? "too many attempts" : undefined);
			}
			case "failure-reason": {
				if (!q.has(4)) return false;
				const length = q.peekU32();
				if (length > MAX_STRING) {
					throw protocolError(`The VNC server sent a failure reason of ${length} bytes.`, "handshake");
				}
				if (!q.has(4 + length)) return false;
				q.skip(4);
				const reason = cleanText(textDecoder.decode(q.take(length)));
				if (this.failureKind === "auth") throw authFailed(reason);
				throw new IkvmError(
					"ACCESS_DENIED",
					`The VNC server refused the connection: ${sentence(reason || "no reason given")}`,
					{
						stage: "handshake",
						hint: "Another viewer may hold the console, or the server blocks this address after failed logins; try again later.",
						retryable: true,
					},
				);
			}
			case "server-init":
				return this.readServerInit();
		}
		return false;
	}

	private chooseSecurity(offered: number[]): number {
		if (offered.includes(SecurityType.None)) return SecurityType.None;
		if (offered.includes(SecurityType.VncAuth)) {
			this.needPassword();
			return SecurityType.VncAuth;
		}
		// VeNCrypt only when it is all that is left: it adds a TLS round trip, and on a
		// loopback or tunnelled server None/VNC auth is what the operator configured.
		if (offered.includes(SecurityType.VeNCrypt) && this.version !== "3.3") {
			if (this.options.canStartTls === false) {
				throw new IkvmError(
					"NOT_SUPPORTED",
					`The VNC server offers ${offered.map(securityTypeName).join(", ")}; of these this client speaks VeNCrypt (TLS inside RFB), but over TCP only, not through a WebSocket.`,
					{
						stage: "handshake",
						hint: "Connect to the VNC server's TCP port (host and port) instead, or let the WebSocket proxy offer VNC authentication.",
					},
				);
			}
			return SecurityType.VeNCrypt;
		}
		const names = offered.map(securityTypeName).join(", ");
		throw new IkvmError(
			"NOT_SUPPORTED",
			`The VNC server offers only security types this client does not support: ${names}. Supported: None (1), VNC Authentication (2) and VeNCrypt (19) with X509None, X509Vnc or X509Plain.`,
			{
				stage: "handshake",
				hint: "Configure the VNC server for no authentication, a VNC password (for QEMU: -vnc …,password=on) or VeNCrypt with an X.509 certificate, or reach it through a WebSocket proxy that does.",
			},
		);
	}

	private needPassword(): void {
		if (!this.options.password) {
			throw new IkvmError("AUTH_FAILED", "The VNC server asks for a password, and none is configured for it.", {
				stage: "handshake",
				hint: "Set the VNC password for this server (e.g. passwordEnv in the config file).",
			});
		}
	}

	/** Picks a VeNCrypt sub-type we can speak: X.509 TLS only (see ANONYMOUS_TLS). */
	private chooseVeNCrypt(offered: number[]): number {
		const x509 = offered.filter((t) => X509_SUBTYPES.includes(t));
		// Prefer what needs no credentials, then a VNC password, then user + password.
		for (const sub of [VeNCryptSubtype.X509None, VeNCryptSubtype.X509Vnc, VeNCryptSubtype.X509Plain]) {
			if (!x509.includes(sub)) continue;
			if (sub === VeNCryptSubtype.X509Vnc && !this.options.password) continue;
			if (sub === VeNCryptSubtype.X509Plain && (!this.options.password || !this.options.username)) continue;
			return sub;
		}
		const names = offered.map(veNCryptName).join(", ");
		if (x509.includes(VeNCryptSubtype.X509Plain) && !this.options.username) {
			throw new IkvmError(
				"AUTH_FAILED",
				`The VNC server asks for a user name and password (VeNCrypt ${names}), and no username is configured for it.`,
				{ stage: "handshake", hint: 'Add "username" (or usernameEnv) and the password to this server\'s target.' },
			);
		}
		if (x509.length > 0) this.needPassword();
		if (offered.some((t) => ANONYMOUS_TLS.includes(t))) {
			throw new IkvmError(
				"NOT_SUPPORTED",
				`The VNC server offers VeNCrypt only with anonymous TLS (${names}), which needs anonymous Diffie-Hellman ciphers that Bun's TLS library (BoringSSL) does not have.`,
				{
					stage: "handshake",
					hint: "Give the VNC server a certificate so it offers the X509 sub-types (TigerVNC: -SecurityTypes X509Vnc -X509Cert cert.pem -X509Key key.pem; QEMU: tls-creds-x509), and set tls.ca, tls.fingerprint256 or tls.insecure for this target.",
				},
			);
		}
		throw new IkvmError(
			"NOT_SUPPORTED",
			`The VNC server offers only VeNCrypt sub-types this client does not support: ${names}. Supported: X509None, X509Vnc, X509Plain.`,
			{ stage: "handshake", hint: "Configure the VNC server for VeNCrypt X509Vnc or plain VNC authentication." },
		);
	}

	private afterSecurityChosen(type: number): void {
		if (type === SecurityType.VeNCrypt) {
			this.handshake = "vencrypt-version";
		} else if (type === SecurityType.VncAuth) {
			this.handshake = "vnc-challenge";
		} else if (this.version === "3.8") {
			// Only 3.8 sends a SecurityResult for None.
			this.handshake = "security-result";
		} else {
			this.sendClientInit();
		}
	}

	private sendClientInit(): void {
		this.events.send(Uint8Array.of(this.options.shared === false ? 0 : 1));
		this.handshake = "server-init";
	}

	private readServerInit(): boolean {
		const q = this.queue;
		if (!q.has(24)) return false;
		const nameLength = q.peekU32(20);
		if (nameLength > MAX_STRING) {
			throw protocolError(`The VNC server sent a desktop name of ${nameLength} bytes.`, "handshake");
		}
		if (!q.has(24 + nameLength)) return false;
		const width = q.u16();
		const height = q.u16();
		const pixelFormat = readPixelFormat(q.take(PIXEL_FORMAT_LENGTH));
		q.skip(4);
		const name = textDecoder.decode(q.take(nameLength));
		this.checkSize(width, height, "handshake");
		this.fb = new Framebuffer(width, height);
		this.initInfo = { width, height, pixelFormat, name };
		this.handshake = "done";
		this.events.send(setPixelFormatMessage(CLIENT_PIXEL_FORMAT));
		this.server.desktopName = name;
		this.events.send(setEncodingsMessage(this.announced));
		this.events.ready(this.initInfo);
		return true;
	}

	/** Refuses sizes outside the limits before anything is allocated. */
	private checkSize(width: number, height: number, stage: Stage): void {
		if (width === 0 || height === 0) {
			throw protocolError(`The VNC server reports an empty ${width}x${height} framebuffer.`, stage);
		}
		const { maxWidth, maxHeight } = this.options.limits;
		if (width > maxWidth || height > maxHeight) {
			throw new IkvmError(
				"TOO_LARGE",
				`The VNC framebuffer is ${width}x${height}, larger than the allowed ${maxWidth}x${maxHeight}.`,
				{ stage, hint: "Raise MAX_FRAMEBUFFER if this size is expected." },
			);
		}
	}

	// ---------------------------------------------------------------- messages

	private readMessage(): boolean {
		const q = this.queue;
		if (!q.has(1)) return false;
		const type = q.peekU8();
		switch (type) {
			case ServerMessage.FramebufferUpdate: {
				if (!q.has(4)) return false;
				q.skip(2);
				this.rectsTotal = q.u16();
				this.rectsLeft = this.rectsTotal;
				this.rectsPainted = 0;
				this.resized = false;
				this.sizeChanges = 0;
				this.updateEncodings = new Set();
				if (this.rectsLeft === 0) this.endUpdate();
				else this.state = "rect-header";
				return true;
			}
			case ServerMessage.SetColourMapEntries: {
				if (!q.has(6)) return false;
				const count = q.peekU16(4);
				if (!q.has(6 + count * 6)) return false;
				// We asked for true colour, so a colour map changes nothing we draw.
				q.skip(6 + count * 6);
				return true;
			}
			case ServerMessage.Xvp: {
				// padding, version, code
				if (!q.has(4)) return false;
				q.skip(2);
				const version = q.u8();
				const code = q.u8();
				if (code === 1) this.xvpVersion = version || 1;
				this.events.xvp?.(code);
				return true;
			}
			case ServerMessage.Bell:
				q.skip(1);
				this.events.bell?.();
				return true;
			case ServerMessage.ServerCutText: {
				if (!q.has(8)) return false;
				const length = q.peekU32(4);
				if (length > MAX_CUT_TEXT) {
					throw protocolError(`The VNC server sent a clipboard message of ${length} bytes.`);
				}
				q.skip(8);
				this.events.cutText?.(length);
				this.cutTextLeft = length;
				this.state = "cut-text";
				return true;
			}
			default:
				throw protocolError(`The VNC server sent an unknown message type ${type}.`);
		}
	}

	private skipCutText(): boolean {
		const n = Math.min(this.cutTextLeft, this.queue.length);
		this.queue.skip(n);
		this.cutTextLeft -= n;
		if (this.cutTextLeft > 0) return false;
		this.state = "message";
		return true;
	}

	private readRectHeader(): boolean {
		const q = this.queue;
		if (!q.has(12)) return false;
		const rect: RectHeader = { x: q.u16(), y: q.u16(), width: q.u16(), height: q.u16(), encoding: q.s32() };
		this.rect = rect;
		switch (rect.encoding) {
			case Encoding.LastRect:
				this.rectsLeft = 0;
				this.endUpdate();
				return true;
			case Encoding.DesktopSize:
				this.noteSize(rect.width, rect.height);
				this.nextRect();
				return true;
			case Encoding.ExtendedDesktopSize:
				this.decoder = undefined;
				this.state = "rect-body";
				return true;
			case Encoding.QemuExtendedKeyEvent:
				// No body: the rectangle itself is the announcement.
				this.qemuKeys = true;
				this.nextRect();
				return true;
		}
		this.applySize();
		const decoder = this.decoders.get(rect.encoding);
		if (decoder?.pseudo) {
			this.decoder = decoder;
			this.state = "rect-body";
			return true;
		}
		if (!decoder) {
			throw protocolError(
				`The VNC server used ${encodingName(rect.encoding)}, which this client did not ask for (asked: ${this.encodings.map(encodingName).join(", ")}).`,
			);
		}
		const fb = this.fb as Framebuffer;
		if (!fb.contains(rect.x, rect.y, rect.width, rect.height)) {
			throw protocolError(
				`The VNC server sent a ${rect.width}x${rect.height}+${rect.x}+${rect.y} rectangle outside the ${fb.width}x${fb.height} framebuffer.`,
			);
		}
		this.decoder = decoder;
		this.state = "rect-body";
		return true;
	}

	private readRectBody(): boolean {
		const rect = this.rect as RectHeader;
		if (!this.decoder) return this.readExtendedDesktopSize(rect);
		const fb = this.fb as Framebuffer;
		const result: DecodeResult = this.decoder.decodeRect(rect, this.queue, fb);
		if (result === false) return false;
		if (result !== true) {
			this.paintLater(result, rect, fb);
			return false;
		}
		this.rectDone(rect, fb);
		return true;
	}

	private rectDone(rect: RectHeader, fb: Framebuffer): void {
		if (!this.decoder?.pseudo) {
			fb.markPainted(rect.x, rect.y, rect.width, rect.height);
			fb.sources.add(rect.encoding);
			this.rectsPainted++;
			this.updateEncodings.add(rect.encoding);
		}
		this.nextRect();
	}

	/** Parsing resumes, in order, once the asynchronous paint is done; a failure ends the client. */
	private paintLater(paint: Promise<void>, rect: RectHeader, fb: Framebuffer): void {
		const done = paint.then(
			() => {
				if (this.failed) return;
				this.pending = undefined;
				this.rectDone(rect, fb);
				// The session pumps in slices; without one, parse the rest now.
				if (this.events.resume) this.events.resume();
				else this.receive(new Uint8Array(0));
			},
			(error: unknown) => {
				if (this.failed) return;
				this.pending = undefined;
				this.failed = true;
				this.queue.clear();
				this.events.error?.(
					error instanceof IkvmError ? error : protocolError(`VNC decoder failure: ${(error as Error).message}`),
				);
			},
		);
		this.pending = done.catch((error: unknown) => {
			// A later synchronous step failed inside the resumed receive.
			this.failed = true;
			this.queue.clear();
			this.events.error?.(error instanceof IkvmError ? error : protocolError(String(error)));
		});
	}

	/** ExtendedDesktopSize: x = reason, y = status, then a screen count and 16 bytes per screen. */
	private readExtendedDesktopSize(rect: RectHeader): boolean {
		const screens = readScreenLayout(this.queue);
		if (!screens) return false;
		// A non-zero status answers a resize request of ours; we never send one.
		if (rect.y === 0) {
			this.server.screens = screens;
			this.noteSize(rect.width, rect.height);
		}
		this.nextRect();
		return true;
	}

	private nextRect(): void {
		this.rectsLeft--;
		this.decoder = undefined;
		if (this.rectsLeft > 0) {
			this.state = "rect-header";
		} else {
			this.endUpdate();
		}
	}

	private endUpdate(): void {
		this.applySize();
		this.state = "message";
		this.rect = undefined;
		this.events.updateEnd({ rects: this.rectsPainted, resized: this.resized, encodings: [...this.updateEncodings] });
	}

	/**
	 * A size change is checked at once but allocated only when a pixel rectangle or the end
	 * of the update needs it, so a run of size changes costs one framebuffer, not one each.
	 */
	private noteSize(width: number, height: number): void {
		this.checkSize(width, height, "decode");
		if (++this.sizeChanges > MAX_SIZE_CHANGES_PER_UPDATE) {
			throw protocolError(
				`The VNC server changed the screen size more than ${MAX_SIZE_CHANGES_PER_UPDATE} times in one framebuffer update.`,
			);
		}
		this.pendingSize = { width, height };
	}

	private applySize(): void {
		const size = this.pendingSize;
		if (!size) return;
		this.pendingSize = undefined;
		const fb = this.fb as Framebuffer;
		if (size.width === fb.width && size.height === fb.height) return;
		this.fb = new Framebuffer(size.width, size.height);
		if (this.initInfo) this.initInfo = { ...this.initInfo, width: size.width, height: size.height };
		this.resized = true;
	}
}

function authFailed(reason: string | undefined): IkvmError {
	return new IkvmError(
		"AUTH_FAILED",
		reason
			? `VNC authentication failed: ${sentence(reason)}`
			: "VNC authentication failed (the server gave no reason).",
		{ stage: "handshake", hint: "Check the VNC password for this server (only its first 8 characters count)." },
	);
}

/** Server text without control characters (QEMU ends its reasons with a NUL). */
function cleanText(text: string): string {
	let out = "";
	for (const ch of text) out += ch < " " || ch === "\u007f" ? " " : ch;
	return out.replace(/ {2,}/g, " ").trim();
}

function sentence(text: string): string {
	return /[.!?]$/.test(text) ? text : `${text}.`;
}

export function setPixelFormatMessage(pf: PixelFormat): Uint8Array {
	const m = new Uint8Array(4 + PIXEL_FORMAT_LENGTH);
	m[0] = ClientMessage.SetPixelFormat;
	writePixelFormat(pf, m, 4);
	return m;
}

export function setEncodingsMessage(encodings: readonly number[]): Uint8Array {
	const m = new Uint8Array(4 + encodings.length * 4);
	const v = new DataView(m.buffer);
	m[0] = ClientMessage.SetEncodings;
	v.setUint16(2, encodings.length);
	encodings.forEach((e, i) => {
		v.setInt32(4 + i * 4, e);
	});
	return m;
}
