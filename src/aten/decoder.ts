/**
 * The video decoder a Supermicro KVM session uses by default: the ATEN video
 * front end (0x57 through the shared ASPEED codec, 0x59/0 Hermon), one per
 * connection, so incremental frames paint over the previous picture.
 */
import type { AtenRect } from "./dialect.ts";
import type { AtenDecoderFactory, AtenPicture } from "./types.ts";
import { createAtenVideoDecoder } from "./video/index.ts";

export const defaultAtenDecoderFactory: AtenDecoderFactory = (limits) => {
	const video = createAtenVideoDecoder({ maxWidth: limits.maxWidth, maxHeight: limits.maxHeight });
	return {
		decode(rect: AtenRect): AtenPicture | undefined {
			const result = video.decodeRect({
				header: {
					x: rect.x,
					y: rect.y,
					width: rect.width,
					height: rect.height,
					encoding: rect.encoding,
					mode: rect.mode,
					dataLength: rect.payload.length,
				},
				payload: rect.payload,
			});
			if (result.kind === "no-signal") return undefined;
			return { ...result.picture, complete: result.complete };
		},
	};
};
