/**
 * The ASPEED video codec, written from the clean-room description of the
 * format, with two front ends:
 * - AMI / ASRockRack (AST2500): `new Ast2500Decoder(options).decode(frame)`
 *   where `frame` is the 86-byte video header followed by the compressed
 *   data, as assembled from IVTP;
 * - ATEN / Supermicro RFB encoding 0x57: `createAtenDecoder(limits)
 *   .decode(payload, { width, height })` per rectangle (aten.ts), the same
 *   decoder in its ATEN dialect.
 */
export {
	ATEN_AST2100_ENCODING,
	type AtenDecodeResult,
	type AtenDecoder,
	type AtenDecoderLimits,
	type AtenPayloadHeader,
	type AtenRectSize,
	createAtenDecoder,
	parseAtenPayloadHeader,
	writeAtenPayloadHeader,
} from "./aten.ts";
export { type ColorMatrix, yccToRgb } from "./color.ts";
export {
	Ast2500Decoder,
	type Ast2500DecoderOptions,
	type BitstreamFormat,
	type BitstreamInfo,
	BlockCode,
	type CodecDialect,
	type DecodedPicture,
	type FrameInfo,
} from "./decoder.ts";
export { parseVideoHeader, VIDEO_HEADER_LENGTH, type VideoHeader, writeVideoHeader } from "./header.ts";
