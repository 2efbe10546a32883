/**
 * The console layer: a live connection to one machine's screen (VNC/RFB or an
 * AMI BMC's IVTP KVM) that yields frames. Providers describe *where* a console
 * is (a ConsoleTarget); the console layer knows *how* to talk to it.
 */

import type { CallContext } from "../call-context.ts";
import type { Frame } from "../frame.ts";
import type { InputOutcome, KeyStep, PointerStep } from "../input/types.ts";

export interface ConsoleSession {
	/** Label for logs and errors, without secrets, e.g. "vnc ws://127.0.0.1:5701/". */
	readonly description: string;
	/** True once the peer closed or an error made the session unusable. */
	readonly closed: boolean;
	/** A complete, current picture. On a warm session this costs one frame round trip. */
	capture(ctx: CallContext): Promise<Frame>;
	/**
	 * Types the strokes in order at the protocol's pace. Every key pressed is released again before
	 * this returns or throws (also on abort and timeout), so no modifier stays latched. Absent when the
	 * protocol has no keyboard.
	 */
	sendKeys?(steps: readonly KeyStep[], ctx: CallContext): Promise<InputOutcome>;
	/** Moves and clicks the pointer in framebuffer pixels; buttons are released on every exit. */
	pointer?(steps: readonly PointerStep[], ctx: CallContext): Promise<InputOutcome>;
	/** The framebuffer size once known (input coordinates are checked against it). */
	readonly screenSize?: { readonly width: number; readonly height: number };
	/** Closes cleanly (BMCs allow few KVM sessions; a leaked one locks the owner out). Never throws. */
	close(): Promise<void>;
}

/** Allocation bounds every console path enforces before allocating a framebuffer. */
export interface ConsoleLimits {
	maxWidth: number;
	maxHeight: number;
}

export interface TlsOptions {
	/** Accept a self-signed certificate for this host only (the norm for BMCs). */
	insecure?: boolean;
	/** PEM file of the CA that signed the console's certificate (instead of the system store). */
	caFile?: string;
	/** Accept exactly the certificate with this SHA-256 fingerprint (hex, colons optional). */
	fingerprint256?: string;
}

/** A VNC server: WebSocket (`url`, ws:// or wss://) or plain TCP (`host` + `port`). */
export interface VncTarget {
	kind: "vnc";
	url?: string;
	host?: string;
	port?: number;
	password?: string;
	/** For VeNCrypt X509Plain (user name and password inside TLS). */
	username?: string;
	/** Extra WebSocket handshake headers, e.g. cookies of a web console. */
	headers?: Record<string, string>;
	tls?: TlsOptions;
}

/** An AMI/ASRockRack HTML5 KVM reached through a viewer URL (`https://<bmc>/...?token=...`, as OVH hands out). */
export interface AmiViewerTarget {
	kind: "ami-viewer";
	viewerUrl: string;
	tls?: TlsOptions;
}

/** An AMI MegaRAC BMC logged into directly with a username and password. */
export interface AmiLoginTarget {
	kind: "ami-login";
	/** Base URL of the BMC, e.g. https://10.0.0.20 */
	url: string;
	username: string;
	password: string;
	tls?: TlsOptions;
}

export type ConsoleTarget = VncTarget | AmiViewerTarget | AmiLoginTarget;

/** Opens a session to a target: connects, authenticates, and is ready to capture. */
export type ConsoleOpener = (target: ConsoleTarget, ctx: CallContext, limits: ConsoleLimits) => Promise<ConsoleSession>;

/**
 * How a provider hands one server's console to the pool: the pool key (one warm
 * session per key), where the console is, and which failures mean the resolved
 * target went stale (e.g. OVH: the BMC refused a reused viewer URL → resolve again).
 */
export interface ConsoleHandle {
	readonly key: string;
	/** Where the console is; `fresh` asks to drop cached credentials (e.g. an expired viewer URL). */
	resolve(ctx: CallContext, fresh: boolean): Promise<ConsoleTarget>;
	/** True when `error`, met on a session opened from a resolved target, means "resolve afresh and try once more". */
	isStale?(error: unknown): boolean;
}
