/**
 * The video decoder a KVM session uses by default: our own AST2500 decoder,
 * one per session so partial updates apply over the previous picture.
 */
import { Ast2500Decoder } from "../aspeed/index.ts";
import type { VideoDecoderFactory } from "./types.ts";

export const defaultDecoderFactory: VideoDecoderFactory = (limits) =>
	new Ast2500Decoder({ maxWidth: limits.maxWidth, maxHeight: limits.maxHeight });
