/**
 * bun run decode-frame [--colors ami|bt601] <frame.bin> [<next.bin> ...] <out.png>
 * Decodes AST2500 frame files (86-byte video header + compressed data) to a PNG.
 * Exit codes: 0 ok, 1 the frame could not be decoded or written, 2 usage error.
 */
import { isIkvmError } from "../src/errors.ts";
import { type ColorMatrix, DEFAULT_COLOR_MATRIX } from "../src/kvm/ast2500/color.ts";
import { decodeFrameFiles } from "../src/kvm/ast2500/decode-file.ts";

const USAGE = `usage: bun run decode-frame [--colors ami|bt601] <frame.bin> [<next.bin> ...] <out.png>

Decodes an ASPEED AST2500 frame file (the 86-byte video header followed by the
compressed data, as an AMI/ASRockRack BMC sends it) and writes a PNG. Further
frame files are applied in order over the first (partial updates).

  --colors ami     the BMC viewer's colour maths, matching its screenshots exactly (default)
  --colors bt601   standard BT.601 Cr→G term (OpenBMC/ASPEED reference decoders)`;

function usage(message?: string): never {
	if (message) process.stderr.write(`decode-frame: ${message}\n`);
	process.stderr.write(`${USAGE}\n`);
	process.exit(2);
}

const args = process.argv.slice(2);
let colorMatrix: ColorMatrix = DEFAULT_COLOR_MATRIX;
const files: string[] = [];
for (let i = 0; i < args.length; i++) {
	const arg = args[i] ?? "";
	if (arg === "-h" || arg === "--help") {
		process.stdout.write(`${USAGE}\n`);
		process.exit(0);
	} else if (arg === "--colors" || arg.startsWith("--colors=")) {
		const value = arg.includes("=") ? arg.slice("--colors=".length) : args[++i];
		if (value !== "bt601" && value !== "ami") usage(`--colors must be bt601 or ami, got ${value ?? "nothing"}`);
		colorMatrix = value;
	} else if (arg.startsWith("--")) {
		usage(`unknown option ${arg}`);
	} else {
		files.push(arg);
	}
}
if (files.length < 2) usage(files.length === 0 ? undefined : "missing the output PNG path");

const out = files.pop() as string;
try {
	const result = await decodeFrameFiles(files, out, { colorMatrix });
	process.stdout.write(
		`decode-frame: wrote ${out} (${result.width}x${result.height}, ${result.frames} frame${result.frames === 1 ? "" : "s"}, ${result.blocks} block${result.blocks === 1 ? "" : "s"} in the last)\n`,
	);
} catch (error) {
	const message = isIkvmError(error) ? error.toUserMessage() : (error as Error).message;
	process.stderr.write(`decode-frame: ${message}\n`);
	process.exit(1);
}
