import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeFrameFile } from "../../src/aspeed/decode-file.ts";
import { IkvmError } from "../../src/errors.ts";
import { Ast2500StreamEncoder, renderConsole, sampleConsolePicture } from "../support/ast2500-encoder.ts";
import { pixelAt, readPng } from "../support/pixels.ts";
import { runProcess } from "../support/process.ts";

const root = join(import.meta.dir, "../..");
const fixtures = join(root, "test/fixtures/ast2500");
const dir = mkdtempSync(join(tmpdir(), "ikvm-decode-frame-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]) {
	return runProcess(["bun", "run", "decode-frame", ...args], { cwd: root });
}

describe("decodeFrameFile", () => {
	test("writes the decoded picture as a PNG", async () => {
		const out = join(dir, "v3.png");
		const result = await decodeFrameFile(join(fixtures, "v3_jpeg_dc_8x8.bin"), out);
		expect(result).toMatchObject({ width: 8, height: 8, frames: 1, blocks: 1 });
		const png = await readPng(out);
		expect(pixelAt(png, 4, 4)).toEqual([133, 133, 133, 255]);
	});

	test("names the file in errors", async () => {
		const bad = join(dir, "bad.bin");
		writeFileSync(bad, new Uint8Array(40));
		const error = await decodeFrameFile(bad, join(dir, "bad.png")).catch((e) => e);
		expect(error).toBeInstanceOf(IkvmError);
		expect((error as IkvmError).code).toBe("PROTOCOL");
		expect((error as IkvmError).message).toContain("bad.bin: AST2500 frame too short");
		const missing = await decodeFrameFile(join(dir, "nope.bin"), join(dir, "x.png")).catch((e) => e);
		expect((missing as IkvmError).code).toBe("BAD_INPUT");
		expect((missing as IkvmError).message).toContain("no such file");
	});
});

describe("bun run decode-frame", () => {
	test("decodes a vector as the viewer does; --colors bt601 uses the standard Cr→G term", async () => {
		const out = join(dir, "v1.png");
		const ours = await cli(join(fixtures, "v1_vq1_8x8.bin"), out);
		expect(ours.code).toBe(0);
		expect(ours.stdout).toContain("8x8");
		expect(pixelAt(await readPng(out), 0, 0)).toEqual([255, 47, 0, 255]);
		const bt601 = await cli("--colors", "bt601", join(fixtures, "v1_vq1_8x8.bin"), out);
		expect(bt601.code).toBe(0);
		expect(pixelAt(await readPng(out), 0, 0)).toEqual([255, 0, 0, 255]);
		const ami = await cli(join(fixtures, "v4_console_444_q7.bin"), out);
		expect(ami.code).toBe(0);
		expect((await readPng(out)).rgba).toEqual((await readPng(join(fixtures, "v4_console_444_q7.png"))).rgba);
	});

	test("applies further frame files in order (full frame, then a partial update)", async () => {
		const encoder = new Ast2500StreamEncoder();
		const before = sampleConsolePicture(160, 96);
		const after = renderConsole(160, 96, [{ text: "login:" }]);
		after.rgba.set(before.rgba.subarray(160 * 16 * 4), 160 * 16 * 4);
		writeFileSync(join(dir, "f0.bin"), encoder.encode(before));
		writeFileSync(join(dir, "f1.bin"), encoder.encode(after));
		const out = join(dir, "seq.png");
		const run = await cli(join(dir, "f0.bin"), join(dir, "f1.bin"), out);
		expect(run.code).toBe(0);
		expect(run.stdout).toContain("2 frames");
		expect((await readPng(out)).rgba).toEqual(after.rgba);
	});

	test("usage errors exit 2 with the usage text; decode errors exit 1 with the reason", async () => {
		const none = await cli();
		expect(none.code).toBe(2);
		expect(none.stderr).toContain("Usage: ikvm-mcp decode-frame");
		const one = await cli("only.bin");
		expect(one.code).toBe(2);
		expect(one.stderr).toContain("missing the output PNG path");
		const badOption = await cli("--colors", "sepia", "a.bin", "b.png");
		expect(badOption.code).toBe(2);
		const help = await cli("--help");
		expect(help.code).toBe(0);
		expect(help.stdout).toContain("Usage:");

		const garbage = join(dir, "garbage.bin");
		writeFileSync(garbage, new TextEncoder().encode("this is not a frame file at all, just some text ".repeat(3)));
		const bad = await cli(garbage, join(dir, "g.png"));
		expect(bad.code).toBe(1);
		expect(bad.stderr).toContain("garbage.bin: AST2500 video header length");
		expect(bad.stderr).toContain("[stage: decode]");
		const missing = await cli(join(dir, "missing.bin"), join(dir, "m.png"));
		expect(missing.code).toBe(1);
		expect(missing.stderr).toContain("no such file");
	});
});
