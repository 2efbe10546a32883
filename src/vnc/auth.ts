/**
 * VNC Authentication (RFC 6143 §7.2.2): the server sends 16 random bytes, the
 * client returns them DES-encrypted with the password as key. The key is the
 * first 8 bytes of the password, zero-padded, with the bits of every byte
 * mirrored (a quirk of the original implementation that every server expects).
 * DES comes from node:crypto; we do not write ciphers.
 */
import { createCipheriv } from "node:crypto";

function reverseBits(byte: number): number {
	let out = 0;
	for (let i = 0; i < 8; i++) out |= ((byte >> i) & 1) << (7 - i);
	return out;
}

/** The DES key for a password: only its first 8 characters count. */
export function vncAuthKey(password: string): Uint8Array {
	const key = new Uint8Array(8);
	const bytes = new TextEncoder().encode(password);
	for (let i = 0; i < 8 && i < bytes.length; i++) key[i] = reverseBits(bytes[i] as number);
	return key;
}

export function vncAuthResponse(password: string, challenge: Uint8Array): Uint8Array {
	if (challenge.length !== 16) throw new RangeError("a VNC challenge is 16 bytes");
	const cipher = createCipheriv("des-ecb", vncAuthKey(password), null);
	cipher.setAutoPadding(false);
	return new Uint8Array(Buffer.concat([cipher.update(challenge), cipher.final()]));
}
