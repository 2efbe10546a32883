/**
 * bun run decode-frame [--colors ami|bt601] <frame.bin> [<next.bin> ...] <out.png>
 * Same as `ikvm-mcp decode-frame`. Exit codes: 0 ok, 1 decode/file error, 2 usage error.
 */
import { main } from "../src/cli.ts";

main(["decode-frame", ...process.argv.slice(2)]);
