/**
 * ATEN (Supermicro) KVM video: FramebufferUpdate framing, the no-signal
 * cases, and the per-session decoder for 0x57 (the shared ASPEED codec) and
 * 0x59 Hermon. Pure: parsers return "need more bytes", decoders never wait.
 */
export {
	type AtenRectWithPayload,
	type AtenVideoDecoder,
	type AtenVideoLimits,
	type AtenVideoPicture,
	type AtenVideoResult,
	createAtenVideoDecoder,
} from "./decoder.ts";
export {
	ATEN_RECT_HEADER_LENGTH,
	type AtenRect,
	type AtenRectClass,
	type AtenRectHeader,
	classifyAtenRect,
	type FramebufferUpdateLimits,
	MAX_ATEN_DIMENSION,
	NO_SIGNAL_HEIGHT,
	NO_SIGNAL_WIDTH,
	type Parsed,
	parseAtenFramebufferUpdate,
	parseAtenRectHeader,
	writeAtenRectHeader,
} from "./framing.ts";
export {
	createHermonDecoder,
	HERMON_ENCODING,
	HERMON_HEADER_LENGTH,
	HERMON_TILE,
	HERMON_TILE_BYTES,
	type HermonDecodeResult,
	type HermonDecoder,
	type HermonDecoderLimits,
	type HermonPicture,
} from "./hermon.ts";
