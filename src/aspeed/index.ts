/**
 * ASPEED AST2500 video decoder (AMI / ASRockRack iKVM), written from the
 * clean-room description of the format. Public surface:
 * `new Ast2500Decoder(options).decode(frame)` where `frame` is the 86-byte
 * video header followed by the compressed data, as assembled from IVTP.
 */
export { type ColorMatrix, yccToRgb } from "./color.ts";
export {
	Ast2500Decoder,
	type Ast2500DecoderOptions,
	BlockCode,
	type DecodedPicture,
	type FrameInfo,
} from "./decoder.ts";
export { parseVideoHeader, VIDEO_HEADER_LENGTH, type VideoHeader, writeVideoHeader } from "./header.ts";
