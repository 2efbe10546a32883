/**
 * Errors of the VNC path. Data a server sends that we cannot parse is a
 * PROTOCOL error: the stream cannot be resynchronised, so the connection ends.
 */
import { IkvmError, type Stage } from "../errors.ts";

export function protocolError(message: string, stage: Stage = "decode"): IkvmError {
	return new IkvmError("PROTOCOL", message, {
		stage,
		hint: "The VNC server sent data this client cannot parse; check that the target really is a VNC (RFB) server.",
	});
}

/** A printable, bounded excerpt of bytes that should have been text, for error messages. */
export function printable(bytes: Uint8Array, max = 40): string {
	let out = "";
	for (const b of bytes.subarray(0, max)) {
		out +=
			b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : b === 0x0a ? "\\n" : `\\x${b.toString(16).padStart(2, "0")}`;
	}
	return bytes.length > max ? `${out}…` : out;
}
