import type { VideoDecoder, VideoDecoderFactory } from "../../src/ami/types.ts";

/**
 * A stand-in video decoder for plumbing tests: paints the whole picture in
 * the colour given by the first three data bytes, and counts calls. The real
 * AST2500 decoder is exercised by the end-to-end tests.
 */
export function solidColourDecoder(): { factory: VideoDecoderFactory; decoded: () => number } {
	let count = 0;
	const factory: VideoDecoderFactory = () => {
		const decoder: VideoDecoder = {
			decode(frame) {
				count++;
				const view = new DataView(frame.buffer, frame.byteOffset, frame.length);
				const width = view.getUint16(4, true);
				const height = view.getUint16(6, true);
				if (frame.length < 89) throw new Error("no colour in this frame");
				const rgba = new Uint8Array(width * height * 4);
				for (let i = 0; i < rgba.length; i += 4) {
					rgba[i] = frame[86] ?? 0;
					rgba[i + 1] = frame[87] ?? 0;
					rgba[i + 2] = frame[88] ?? 0;
					rgba[i + 3] = 255;
				}
				return { width, height, rgba };
			},
		};
		return decoder;
	};
	return { factory, decoded: () => count };
}
