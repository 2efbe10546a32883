import type { ConsoleTarget, TlsOptions } from "../console/types.ts";

/** A VNC server: WebSocket (`url`, ws:// or wss://) or plain TCP (`host` + `port`). */
export interface VncTarget extends ConsoleTarget {
	kind: "vnc";
	url?: string;
	host?: string;
	port?: number;
	password?: string;
	/** For VeNCrypt X509Plain (user name and password inside TLS). */
	username?: string;
	/** Exactly these WebSocket subprotocols (e.g. bmcweb's CSRF token); default: none, then "binary". */
	subprotocols?: string[];
	/** Extra WebSocket handshake headers, e.g. cookies of a web console. */
	headers?: Record<string, string>;
	tls?: TlsOptions;
	/** Tight JPEG quality 0..9: lets the server send JPEG (smaller, inexact). Unset: exact pixels only, for text. */
	quality?: number;
	/** Draw the pointer shape the server sent into screenshots (default off: it can hide a character). */
	cursor?: boolean;
	/**
	 * The server ignores this viewer's keyboard and mouse (a view-only password or server setting).
	 * RFB does not say so on the wire, so the operator does; input is then reported "not-delivered".
	 */
	viewOnly?: boolean;
}
