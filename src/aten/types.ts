/**
 * Types of the Supermicro ATEN/Insyde console path.
 */
import type { ConsoleLimits, ConsoleTarget, TlsOptions } from "../console/types.ts";
import type { AtenRect } from "./dialect.ts";

/** A Supermicro BMC logged into with a username and password (a targets-file entry of type "supermicro"). */
export interface SupermicroTarget extends ConsoleTarget {
	kind: "supermicro";
	/** Base URL of the BMC, e.g. https://10.0.0.9 */
	url: string;
	username: string;
	password: string;
	tls?: TlsOptions;
	/**
	 * Screenshots from the BMC's CGI preview snapshot instead of the KVM
	 * (read-only, of unknown freshness): for firmware whose HTML5 KVM cannot be used.
	 */
	preview?: boolean;
}

/**
 * A Supermicro HTML5 console reached through a viewer link that already holds a
 * web session (a provider's hand-off): the `SID` is the link's, not ours, so it
 * is never logged out by this path.
 */
export interface AtenViewerTarget extends ConsoleTarget {
	kind: "aten-viewer";
	/** `https://host[:port]` of the BMC. */
	origin: string;
	sid: string;
	tls?: TlsOptions;
}

export type AtenTarget = SupermicroTarget | AtenViewerTarget;

/** The whole current picture after a rectangle was painted; `rgba` may be the decoder's own (copy before keeping). */
export interface AtenPicture {
	width: number;
	height: number;
	rgba: Uint8Array;
	/** False while a resize has not yet been followed by a whole picture (not safe to show). Default true. */
	complete?: boolean;
}

/**
 * Video of one KVM connection: 0x57 (AST2100) and 0x59/0 (Hermon) rectangles
 * painted onto a persistent picture (incremental frames update parts of it).
 */
export interface AtenVideoDecoder {
	/** Paints one rectangle; undefined when it says the screen has no signal. Bad data throws. */
	decode(rect: AtenRect): AtenPicture | undefined;
}

export type AtenDecoderFactory = (limits: ConsoleLimits) => AtenVideoDecoder;

export interface AtenTimeouts {
	/** Each web request (login, token, logout, power status). */
	request: number;
	/** Opening the KVM WebSocket. */
	connect: number;
	/** From the open WebSocket to ServerInit. */
	handshake: number;
	/** From a FramebufferUpdateRequest to a decoded frame. */
	frame: number;
	/** Closing the WebSocket, then logging out. */
	close: number;
}

export const DEFAULT_ATEN_TIMEOUTS: AtenTimeouts = {
	request: 15_000,
	connect: 10_000,
	handshake: 10_000,
	frame: 15_000,
	close: 3_000,
};
