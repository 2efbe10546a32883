import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import sharp from "sharp";
import { createFrame, type Frame } from "../../src/frame.ts";
import { FakeProvider } from "../support/fake-provider.ts";
import { imagePixels, inMemoryClient, texts } from "../support/mcp.ts";

let closeAll: Array<() => Promise<void>> = [];
afterEach(async () => {
	await Promise.all(closeAll.map((c) => c()));
	closeAll = [];
});

async function fixture(name: string): Promise<Frame> {
	const { data, info } = await sharp(join(import.meta.dir, "..", "fixtures", "screens", `${name}.png`))
		.ensureAlpha()
		.raw()
		.toBuffer({ resolveWithObject: true });
	return createFrame(info.width, info.height, new Uint8Array(data), new Date("2026-01-02T03:04:05Z"));
}

async function shoot(frame: Frame, args: Record<string, unknown>): Promise<CallToolResult> {
	const provider = new FakeProvider(undefined, frame);
	const c = await inMemoryClient({ providers: [provider] });
	closeAll.push(c.close);
	return (await c.client.callTool({
		name: "get_screenshot",
		arguments: { serverId: "srv-1", ...args },
	})) as CallToolResult;
}

describe("get_screenshot image stage", () => {
	test("raw: true returns the framebuffer pixel for pixel", async () => {
		const frame = await fixture("dim-bmc-1024x768");
		const result = await shoot(frame, { raw: true });
		expect(result.isError).toBeFalsy();
		const image = await imagePixels(result);
		expect([image.width, image.height]).toEqual([1024, 768]);
		expect(Buffer.compare(image.rgba, Buffer.from(frame.rgba))).toBe(0);
		expect(texts(result).join("\n")).toContain("framebuffer 1024x768");
	});

	test("raw with a region returns exactly those framebuffer pixels", async () => {
		const frame = await fixture("grub-menu-720x400");
		const region = { x: 10, y: 40, width: 301, height: 77 };
		const result = await shoot(frame, { raw: true, region });
		const image = await imagePixels(result);
		expect([image.width, image.height]).toEqual([301, 77]);
		for (let r = 0; r < region.height; r++) {
			const from = ((region.y + r) * frame.width + region.x) * 4;
			const row = image.rgba.subarray(r * 301 * 4, (r + 1) * 301 * 4);
			expect(Buffer.compare(Buffer.from(row), Buffer.from(frame.rgba.subarray(from, from + 301 * 4)))).toBe(0);
		}
	});

	test("the default is the optimised image, with the numbers a model needs in the text", async () => {
		const frame = await fixture("kernel-panic-720x400");
		const result = await shoot(frame, {});
		expect(result.isError).toBeFalsy();
		const image = await imagePixels(result);
		// A whole VGA text-mode screen is sent at its own size (README, "Readability").
		expect([image.width, image.height]).toEqual([720, 400]);
		const text = texts(result).join("\n");
		expect(text).toContain("framebuffer 720x400");
		expect(text).toContain("image 720x400");
		expect(text).toContain("scale 1");
		expect(text).toContain("x=0 y=0 720x400");
		expect(text).toContain("2026-01-02T03:04:05.000Z");
	});

	test("a region zooms in and the text says which part it is", async () => {
		const frame = await fixture("kernel-panic-720x400");
		const result = await shoot(frame, { region: { x: 0, y: 64, width: 360, height: 48 } });
		expect(result.isError).toBeFalsy();
		const image = await imagePixels(result);
		expect([image.width, image.height]).toEqual([1440, 192]);
		const text = texts(result).join("\n");
		expect(text).toContain("region x=0 y=64 360x48");
		expect(text).toContain("scale 4");
	});

	test("a trimmed screen reports the area it shows", async () => {
		const result = await shoot(await fixture("login-1024x768"), {});
		const text = texts(result).join("\n");
		expect(text).toContain("framebuffer 1024x768");
		expect(text).toContain("the written part");
	});

	test("an out-of-range region is a tool error naming the framebuffer size", async () => {
		const result = await shoot(await fixture("kernel-panic-720x400"), {
			region: { x: 600, y: 0, width: 200, height: 100 },
		});
		expect(result.isError).toBe(true);
		const text = texts(result).join("\n");
		expect(text).toContain("BAD_INPUT");
		expect(text).toContain("720x400");
	});

	test("a malformed region is a tool error naming the parameter", async () => {
		for (const region of [
			{ x: -5, y: 0, width: 10, height: 10 },
			{ x: 0, y: 0, width: 0, height: 1 },
			{ x: 0 },
			"0,0,10,10",
		]) {
			const result = await shoot(await fixture("login-1024x768"), { region });
			expect(result.isError).toBe(true);
			expect(texts(result).join("\n")).toContain("region");
		}
	});
});
