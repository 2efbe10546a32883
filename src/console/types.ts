/**
 * The console layer: a live connection to one machine's screen (VNC/RFB, an
 * AMI BMC's IVTP KVM, …) that yields frames and takes input. Providers describe
 * *where* a console is (a ConsoleTarget); the drivers know *how* to talk to it.
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
	/** PEM text of the certificates to trust, already read (Redfish targets; see src/net/tls.ts). */
	ca?: string;
	/** PEM file of the CA that signed the console's certificate, read when connecting (the config's `tls.ca`). */
	caFile?: string;
	/** Accept exactly the certificate with this SHA-256 fingerprint (hex, colons optional). */
	fingerprint256?: string;
}

/**
 * Where a console is. Each driver (src/console/drivers.ts) defines its own target kinds
 * on top of this (VncTarget in src/vnc/target.ts, the AMI ones in src/ami/target.ts, …).
 */
export interface ConsoleTarget {
	readonly kind: string;
	readonly tls?: TlsOptions;
	/** The rest is the driver's business. */
	readonly [field: string]: unknown;
}

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
