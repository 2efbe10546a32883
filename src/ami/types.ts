/**
 * Types shared by the AMI/ASRockRack KVM path: BMC web session → one-time KVM
 * token → IVTP over `wss://<bmc>/kvm` → AST2500 frames → RGBA.
 */

import type { ConsoleLimits, TlsOptions } from "../console/types.ts";
import type { Picture } from "../frame.ts";

/** A BMC web session: what the KVM token request and the KVM WebSocket need. */
export interface BmcSession {
	/** `https://host[:port]`: scheme, host and port only, never a path or query. */
	readonly origin: string;
	/** `host[:port]`, for messages. */
	readonly host: string;
	/** The `QSESSIONID` cookie value. */
	readonly cookie: string;
	/** The CSRF token (`garc` on viewer pages, `CSRFToken` from a direct login); absent on some firmwares. */
	readonly csrfToken?: string;
	/** Viewer-URL sessions belong to whoever issued the URL; only direct logins are ended by us. */
	readonly kind: "viewer" | "login";
	readonly tls?: TlsOptions;
}

/** The answer of `/api/kvm/token`: a one-time token for one KVM WebSocket. */
export interface KvmToken {
	readonly token: string;
	readonly clientIp: string;
	readonly session?: string;
}

/** Per-stage time limits, in milliseconds. */
export interface KvmTimeouts {
	/** Each BMC HTTP request (stage "bmc-login"). */
	request: number;
	/** Opening the KVM WebSocket (stage "ws-connect"). */
	wsConnect: number;
	/** From the open WebSocket to a validated session with power on (stage "handshake"). */
	handshake: number;
	/** From GET_FULL_SCREEN to a complete decoded frame (stage "first-frame"). */
	frame: number;
	/** Closing the WebSocket and logging out; after this we stop waiting. */
	close: number;
}

export const DEFAULT_KVM_TIMEOUTS: KvmTimeouts = {
	request: 15_000,
	wsConnect: 10_000,
	handshake: 10_000,
	frame: 15_000,
	close: 3_000,
};

/** What a decoder returns: the whole current picture, in a buffer the caller owns (later decodes never write into it). */
export type DecodedPicture = Picture;

/**
 * An AST2500 decoder as the KVM session uses it: `frame` is the 86-byte video
 * header followed by the compressed data. It keeps the previous picture, so one
 * decoder serves one KVM session and partial updates apply over it.
 */
export interface VideoDecoder {
	decode(frame: Uint8Array): DecodedPicture;
}

export type VideoDecoderFactory = (limits: ConsoleLimits) => VideoDecoder;

/** One complete video frame as assembled from IVTP fragments. */
export interface AssembledFrame {
	/** Counts frames whose first fragment arrived on this connection, from 0. */
	readonly index: number;
	readonly width: number;
	readonly height: number;
	/** The 86-byte video header followed by exactly CompressSize bytes of data. */
	readonly bytes: Uint8Array;
}
