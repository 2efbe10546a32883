/** Builds AMI video frames (86-byte header + compressed data) for IVTP tests. */
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

/** One IVTP message. */
export function ivtp(type: number, status: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
	const out = new Uint8Array(8 + payload.length);
	const view = new DataView(out.buffer);
	view.setUint16(0, type, true);
	view.setUint32(2, payload.length, true);
	view.setUint16(6, status, true);
	out.set(payload, 8);
	return out;
}

/** VIDEO_PACKETS payload: fragment number then bytes. */
export function fragment(n: number, bytes: Uint8Array): Uint8Array {
	const out = new Uint8Array(2 + bytes.length);
	new DataView(out.buffer).setUint16(0, n, true);
	out.set(bytes, 2);
	return out;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
	return new Uint8Array(Buffer.concat(parts));
}
