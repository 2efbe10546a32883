/**
 * RFB (RFC 6143) wire constants and the shapes the client and its decoders share.
 */
import type { Picture } from "../frame.ts";

/** Encoding numbers sent in SetEncodings and found in rectangle headers. */
export const Encoding = {
	Raw: 0,
	CopyRect: 1,
	Hextile: 5,
	ZLIB: 6,
	Tight: 7,
	ZRLE: 16,
	TightPNG: -260,
	/** Pseudo-encodings: carry state, not pixels. */
	DesktopSize: -223,
	LastRect: -224,
	PointerPos: -232,
	Cursor: -239,
	DesktopName: -307,
	ExtendedDesktopSize: -308,
	CursorWithAlpha: -314,
	/** Tight JPEG quality 0..9: QualityLevel0 + level (-32..-23). Announcing one lets the server use JPEG. */
	QualityLevel0: -32,
	/** Tight/ZLIB compression 0..9: CompressLevel0 + level (-256..-247). */
	CompressLevel0: -256,
	/** QEMU Extended Key Event: the server takes key events with XT scan codes (announced as an empty rectangle). */
	QemuExtendedKeyEvent: -258,
	/** XVP: the server may shut down, reboot or reset the machine (announced with an XVP_INIT message). */
	Xvp: -309,
} as const;

export const ENCODING_NAMES: Record<number, string> = {
	0: "Raw",
	1: "CopyRect",
	2: "RRE",
	4: "CoRRE",
	5: "Hextile",
	6: "zlib",
	7: "Tight",
	8: "zlibhex",
	15: "TRLE",
	16: "ZRLE",
	17: "ZYWRLE",
	[-260]: "TightPNG",
	[-223]: "DesktopSize",
	[-224]: "LastRect",
	[-232]: "PointerPos",
	[-239]: "Cursor",
	[-307]: "DesktopName",
	[-308]: "ExtendedDesktopSize",
	[-314]: "CursorWithAlpha",
	[-258]: "QEMU Extended Key Event",
	[-309]: "XVP",
};

export function encodingName(encoding: number): string {
	const name = ENCODING_NAMES[encoding];
	if (name) return name;
	if (encoding >= Encoding.QualityLevel0 && encoding <= Encoding.QualityLevel0 + 9)
		return `JPEG quality ${encoding - Encoding.QualityLevel0}`;
	if (encoding >= Encoding.CompressLevel0 && encoding <= Encoding.CompressLevel0 + 9)
		return `compression level ${encoding - Encoding.CompressLevel0}`;
	return `encoding ${encoding}`;
}

/** Security types (RFC 6143 §7.1.2 and the IANA registry). */
export const SecurityType = {
	Invalid: 0,
	None: 1,
	VncAuth: 2,
	VeNCrypt: 19,
} as const;

/** VeNCrypt sub-types (sent as 32-bit numbers inside security type 19). */
export const VeNCryptSubtype = {
	Plain: 256,
	TLSNone: 257,
	TLSVnc: 258,
	TLSPlain: 259,
	X509None: 260,
	X509Vnc: 261,
	X509Plain: 262,
	TLSSASL: 263,
	X509SASL: 264,
} as const;

/** The sub-types that run TLS with a server certificate, which we verify like any TLS peer. */
export const X509_SUBTYPES: readonly number[] = [
	VeNCryptSubtype.X509None,
	VeNCryptSubtype.X509Vnc,
	VeNCryptSubtype.X509Plain,
];

/** The sub-types that need anonymous Diffie-Hellman TLS (no certificate). */
export const ANONYMOUS_TLS: readonly number[] = [
	VeNCryptSubtype.TLSNone,
	VeNCryptSubtype.TLSVnc,
	VeNCryptSubtype.TLSPlain,
];

export function veNCryptName(subtype: number): string {
	const name = Object.entries(VeNCryptSubtype).find(([, v]) => v === subtype)?.[0];
	return name ? `${name} (${subtype})` : `sub-type ${subtype}`;
}

const SECURITY_NAMES: Record<number, string> = {
	0: "Invalid",
	1: "None",
	2: "VNC Authentication",
	5: "RA2",
	6: "RA2ne",
	16: "Tight",
	17: "Ultra",
	18: "TLS",
	19: "VeNCrypt",
	20: "GTK-VNC SASL",
	21: "MD5 hash",
	22: "Colin Dean xvp",
	30: "Apple Remote Desktop (Diffie-Hellman)",
	113: "UltraVNC MS-Logon II",
	129: "Unix Login",
};

export function securityTypeName(type: number): string {
	const name = SECURITY_NAMES[type];
	return name ? `${name} (${type})` : `type ${type}`;
}

/** Server → client message types. */
export const ServerMessage = {
	FramebufferUpdate: 0,
	SetColourMapEntries: 1,
	Bell: 2,
	ServerCutText: 3,
	/** XVP (power) replies: XVP_INIT when supported, XVP_FAIL when an action was refused. */
	Xvp: 250,
} as const;

/** Client → server message types. */
export const ClientMessage = {
	SetPixelFormat: 0,
	SetEncodings: 2,
	FramebufferUpdateRequest: 3,
	KeyEvent: 4,
	PointerEvent: 5,
	ClientCutText: 6,
} as const;

export interface PixelFormat {
	bitsPerPixel: number;
	depth: number;
	bigEndian: boolean;
	trueColour: boolean;
	redMax: number;
	greenMax: number;
	blueMax: number;
	redShift: number;
	greenShift: number;
	blueShift: number;
}

/** Bytes of PIXEL-FORMAT on the wire (RFC 6143 §7.4), as in ServerInit and SetPixelFormat. */
export const PIXEL_FORMAT_LENGTH = 16;

/** Reads PIXEL-FORMAT from the first 16 bytes of `b`. */
export function readPixelFormat(b: Uint8Array): PixelFormat {
	const v = new DataView(b.buffer, b.byteOffset, PIXEL_FORMAT_LENGTH);
	return {
		bitsPerPixel: v.getUint8(0),
		depth: v.getUint8(1),
		bigEndian: v.getUint8(2) !== 0,
		trueColour: v.getUint8(3) !== 0,
		redMax: v.getUint16(4),
		greenMax: v.getUint16(6),
		blueMax: v.getUint16(8),
		redShift: v.getUint8(10),
		greenShift: v.getUint8(11),
		blueShift: v.getUint8(12),
	};
}

/** Writes PIXEL-FORMAT into `out` at `offset` (the 3 padding bytes are left as they are). */
export function writePixelFormat(pf: PixelFormat, out: Uint8Array, offset: number): void {
	const v = new DataView(out.buffer, out.byteOffset + offset, PIXEL_FORMAT_LENGTH);
	v.setUint8(0, pf.bitsPerPixel);
	v.setUint8(1, pf.depth);
	v.setUint8(2, pf.bigEndian ? 1 : 0);
	v.setUint8(3, pf.trueColour ? 1 : 0);
	v.setUint16(4, pf.redMax);
	v.setUint16(6, pf.greenMax);
	v.setUint16(8, pf.blueMax);
	v.setUint8(10, pf.redShift);
	v.setUint8(11, pf.greenShift);
	v.setUint8(12, pf.blueShift);
}

/**
 * The format we ask every server for: 32 bits, little-endian, red in the
 * lowest byte. A pixel on the wire is then R, G, B, X in memory order, which
 * is RGBA once the fourth byte is forced to 255, and ZRLE's compact pixel is
 * the three bytes R, G, B.
 */
export const CLIENT_PIXEL_FORMAT: PixelFormat = {
	bitsPerPixel: 32,
	depth: 24,
	bigEndian: false,
	trueColour: true,
	redMax: 255,
	greenMax: 255,
	blueMax: 255,
	redShift: 0,
	greenShift: 8,
	blueShift: 16,
};

export interface ServerInit {
	width: number;
	height: number;
	pixelFormat: PixelFormat;
	name: string;
}

/** The header every rectangle of a FramebufferUpdate starts with. */
export interface RectHeader {
	x: number;
	y: number;
	width: number;
	height: number;
	encoding: number;
}

/** The RFB versions we speak; a server's announcement maps onto one of them. */
export type RfbVersion = "3.3" | "3.7" | "3.8";

/** What the test server serves. */
export type RgbaImage = Picture;
