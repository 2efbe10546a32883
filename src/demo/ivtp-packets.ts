/**
 * IVTP messages as the mock BMC sends them, written from the AMI notes apart from src/ami/ivtp.ts
 * so that each checks the other. The IVTP parser's tests build their input with these too.
 */

/** One IVTP message: type u16, payload length u32, status u16 (little-endian), then the payload. */
export function ivtpPacket(type: number, status: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
	const out = new Uint8Array(8 + payload.length);
	const view = new DataView(out.buffer);
	view.setUint16(0, type, true);
	view.setUint32(2, payload.length, true);
	view.setUint16(6, status, true);
	out.set(payload, 8);
	return out;
}

/** A VIDEO_PACKETS payload: the fragment word (number, 0x8000 on the last fragment), then the bytes. */
export function videoFragment(word: number, bytes: Uint8Array): Uint8Array {
	const out = new Uint8Array(2 + bytes.length);
	new DataView(out.buffer).setUint16(0, word, true);
	out.set(bytes, 2);
	return out;
}
