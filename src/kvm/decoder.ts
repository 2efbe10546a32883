/**
 * The video decoder a KVM session uses by default: our own AST2500 decoder.
 */
import { IkvmError } from "../errors.ts";
import type { VideoDecoderFactory } from "./types.ts";

// Replaced by the AST2500 decoder when it lands on main (src/kvm/ast2500/index.ts).
export const defaultDecoderFactory: VideoDecoderFactory = () => ({
	decode() {
		throw new IkvmError("NOT_SUPPORTED", "The AST2500 decoder is not available in this build.", { stage: "decode" });
	},
});
