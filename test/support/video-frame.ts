/**
 * Input for the IVTP tests. IVTP messages come from the mock BMC's own builder (independent of
 * src/ami); the video header is written here by hand, not with src/aspeed/header.ts, so the
 * parser's offsets are checked against the notes rather than against themselves.
 */
export { ivtpPacket as ivtp, videoFragment as fragment } from "../../src/demo/ivtp-packets.ts";

/** An AMI video frame (86-byte header + compressed data). */
export function videoFrame(width: number, height: number, data: Uint8Array = new Uint8Array(8)): Uint8Array {
	const out = new Uint8Array(86 + data.length);
	const view = new DataView(out.buffer);
	view.setUint16(2, 86, true);
	view.setUint16(4, width, true);
	view.setUint16(6, height, true);
	view.setUint16(13, width, true);
	view.setUint16(15, height, true);
	view.setUint32(69, data.length, true);
	out.set(data, 86);
	return out;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
	return new Uint8Array(Buffer.concat(parts));
}
