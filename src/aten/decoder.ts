/**
 * The video decoder a Supermicro KVM session uses by default: one per
 * connection, so incremental frames paint over the previous picture.
 */
import { IkvmError } from "../errors.ts";
import type { AtenDecoderFactory } from "./types.ts";

export const defaultAtenDecoderFactory: AtenDecoderFactory = () => ({
	decode(rect) {
		throw new IkvmError(
			"NOT_SUPPORTED",
			`No decoder for ATEN video encoding 0x${(rect.encoding >>> 0).toString(16)} is built in yet.`,
			{ stage: "aten-video" },
		);
	},
});
