/**
 * Frame file(s) → PNG: the core of `bun run decode-frame` (and later of the
 * `ikvm-mcp decode-frame` CLI command). A frame file is the 86-byte video
 * header followed by the compressed data (the layout the decoder's own tests use).
 * Several files are decoded in order on one decoder, so a full frame followed
 * by partial updates gives the picture a viewer would show after the last one.
 */

import { readFile, writeFile } from "node:fs/promises";
import { IkvmError } from "../errors.ts";
import type { Picture } from "../frame.ts";
import { createFrame } from "../frame.ts";
import { encodePng } from "../image/encode.ts";
import type { ColorMatrix } from "./color.ts";
import { Ast2500Decoder } from "./decoder.ts";

export interface DecodeFileOptions {
	/** "ami" (default, the BMC viewer's colours) or "bt601" (standard BT.601). */
	colorMatrix?: ColorMatrix;
	maxWidth?: number;
	maxHeight?: number;
}

export interface DecodeFileResult {
	width: number;
	height: number;
	/** Frames decoded (one per input file). */
	frames: number;
	/** Blocks in the last frame. */
	blocks: number;
	/** Bytes of the PNG written. */
	pngBytes: number;
}

async function readInput(path: string): Promise<Uint8Array> {
	try {
		return new Uint8Array(await readFile(path));
	} catch (error) {
		const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message;
		throw new IkvmError("BAD_INPUT", `Cannot read frame file ${path}: ${reason}.`, { cause: error });
	}
}

/** Decodes the frame file(s) `inPaths` in order and writes the resulting picture to `outPath` as PNG. */
export async function decodeFrameFiles(
	inPaths: readonly string[],
	outPath: string,
	options: DecodeFileOptions = {},
): Promise<DecodeFileResult> {
	if (inPaths.length === 0) throw new IkvmError("BAD_INPUT", "No frame file given.");
	const decoder = new Ast2500Decoder(options);
	let picture: Picture | undefined;
	for (const path of inPaths) {
		const bytes = await readInput(path);
		try {
			picture = decoder.decode(bytes);
		} catch (error) {
			if (error instanceof IkvmError) {
				throw new IkvmError(error.code, `${path}: ${error.message}`, {
					stage: error.stage,
					hint: error.hint,
					cause: error,
				});
			}
			throw error;
		}
	}
	if (!picture) throw new IkvmError("INTERNAL", "No picture decoded.");
	const png = await encodePng(createFrame(picture.width, picture.height, picture.rgba));
	try {
		await writeFile(outPath, png);
	} catch (error) {
		throw new IkvmError("BAD_INPUT", `Cannot write ${outPath}: ${(error as Error).message}.`, { cause: error });
	}
	return {
		width: picture.width,
		height: picture.height,
		frames: inPaths.length,
		blocks: decoder.lastFrame?.blocks ?? 0,
		pngBytes: png.length,
	};
}

/** One frame file → PNG. */
export function decodeFrameFile(
	inPath: string,
	outPath: string,
	options: DecodeFileOptions = {},
): Promise<DecodeFileResult> {
	return decodeFrameFiles([inPath], outPath, options);
}
