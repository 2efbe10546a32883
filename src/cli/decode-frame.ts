/**
 * `ikvm-mcp decode-frame [--colors ami|bt601] <frame.bin> [<next.bin> ...] <out.png>`
 * (also `bun run decode-frame`): decodes captured AST2500 frame files to PNG.
 */
import { type ColorMatrix, DEFAULT_COLOR_MATRIX } from "../aspeed/color.ts";
import { decodeFrameFiles } from "../aspeed/decode-file.ts";
import { parse, UsageError } from "./args.ts";

export const DECODE_FRAME_USAGE = `Usage: ikvm-mcp decode-frame [--colors ami|bt601] <frame.bin> [<next.bin> ...] <out.png>

Decodes an ASPEED AST2500 frame file (the 86-byte video header followed by the
compressed data, as an AMI/ASRockRack BMC sends it) and writes a PNG. Further
frame files are applied in order over the first (partial updates).

  --colors ami     the BMC viewer's colour maths, matching its screenshots exactly (default)
  --colors bt601   standard BT.601 Cr→G term (OpenBMC/ASPEED reference decoders)`;

export async function decodeFrameCommand(argv: string[]): Promise<number> {
	const { values, positionals } = parse(
		argv,
		{ colors: { type: "string" }, help: { type: "boolean", short: "h" } },
		DECODE_FRAME_USAGE,
	);
	if (values.help) {
		process.stdout.write(`${DECODE_FRAME_USAGE}\n`);
		return 0;
	}
	const colors = values.colors ?? DEFAULT_COLOR_MATRIX;
	if (colors !== "ami" && colors !== "bt601") {
		throw new UsageError(`--colors must be ami or bt601, got ${colors}`, DECODE_FRAME_USAGE);
	}
	if (positionals.length < 2) {
		throw new UsageError(
			positionals.length === 0 ? "give a frame file and an output PNG" : "missing the output PNG path",
			DECODE_FRAME_USAGE,
		);
	}
	const out = positionals.at(-1) as string;
	const result = await decodeFrameFiles(positionals.slice(0, -1), out, { colorMatrix: colors as ColorMatrix });
	const frames = `${result.frames} frame${result.frames === 1 ? "" : "s"}`;
	const blocks = `${result.blocks} block${result.blocks === 1 ? "" : "s"} in the last`;
	process.stdout.write(`decode-frame: wrote ${out} (${result.width}x${result.height}, ${frames}, ${blocks})\n`);
	return 0;
}
