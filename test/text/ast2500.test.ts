/**
 * Noise tolerance through the BMC video path: console screens encoded as AST2500 4:2:0 at the JPEG
 * table selectors BMCs use (4–7) by our test encoder, decoded by our decoder, must read exactly.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { ast2500RoundTrip } from "../../scripts/eval-text.ts";
import { recognizeBitmap } from "../../src/text/bitmap.ts";
import { loadFrame } from "../support/console-render.ts";

const FIXTURES = join(import.meta.dir, "../fixtures/text");
const roundTrip = await ast2500RoundTrip();
if (!roundTrip) console.log("skipping AST2500 4:2:0 text tests: this build has no AST2500 test encoder yet");

describe.skipIf(!roundTrip)("console text through AST2500 4:2:0", () => {
	for (const name of ["qemu-vga-panic-720x400", "qemu-fbcon-panic-1024x768"]) {
		test(`${name}: exact at selectors 4 to 7`, async () => {
			const truth = (await Bun.file(join(FIXTURES, `${name}.txt`)).text()).trimEnd().split("\n");
			const frame = await loadFrame(join(FIXTURES, `${name}.png`));
			for (const selector of [4, 5, 6, 7]) {
				const decoded = roundTrip?.(frame, selector);
				if (!decoded) throw new Error("no round trip");
				expect({ selector, lines: recognizeBitmap(decoded).lines }).toEqual({ selector, lines: truth });
			}
		}, 60_000);
	}
});
