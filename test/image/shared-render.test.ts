import { expect, test } from "bun:test";
import { createFrame } from "../../src/frame.ts";
import { renderShared } from "../../src/image/shared-render.ts";

function frame() {
	return createFrame(64, 32, new Uint8Array(64 * 32 * 4).fill(200), new Date(0));
}

test("one rendering per frame and options, shared by every caller", async () => {
	const a = frame();
	const first = renderShared(a, { raw: false });
	expect(renderShared(a, { raw: false })).toBe(first);
	expect(renderShared(a, { raw: true })).not.toBe(first);
	expect(renderShared(a, { raw: false, region: { x: 0, y: 0, width: 8, height: 8 } })).not.toBe(first);
	// Another capture is another picture, even with the same pixels.
	expect(renderShared(frame(), { raw: false })).not.toBe(first);
	expect((await first).png.length).toBeGreaterThan(0);
});

test("a failed rendering is not kept", async () => {
	const a = frame();
	const outside = { x: 60, y: 0, width: 10, height: 10 };
	const failed = renderShared(a, { raw: true, region: outside });
	await expect(failed).rejects.toThrow();
	const again = renderShared(a, { raw: true, region: outside });
	expect(again).not.toBe(failed);
	await expect(again).rejects.toThrow();
});
