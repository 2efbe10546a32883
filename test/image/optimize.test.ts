import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import sharp from "sharp";
import { IkvmError } from "../../src/errors.ts";
import { createFrame, type Frame } from "../../src/frame.ts";
import {
	chooseLift,
	isVgaTextMode,
	MAX_UPSCALE,
	optimizeFrame,
	planScale,
	screenStats,
	VISION_LIMITS,
} from "../../src/image/optimize.ts";

const FIXTURES = join(import.meta.dir, "..", "fixtures", "screens");

async function loadFixture(name: string): Promise<Frame> {
	const { data, info } = await sharp(join(FIXTURES, `${name}.png`))
		.ensureAlpha()
		.raw()
		.toBuffer({ resolveWithObject: true });
	return createFrame(info.width, info.height, new Uint8Array(data));
}

async function decode(png: Buffer) {
	const { data, info } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
	return { width: info.width, height: info.height, rgba: new Uint8Array(data) };
}

/** Console-like text everywhere: bright "glyph" strokes on a background, across the whole frame. */
function textScreen(width: number, height: number, fg = 170, bg = 0): Frame {
	const rgba = new Uint8Array(width * height * 4);
	for (let y = 0; y < height; y++) {
		for (let x = 0; x < width; x++) {
			const i = (y * width + x) * 4;
			const on = x % 9 < 7 && y % 16 > 2 && y % 16 < 14 && (x * 7 + y * 3) % 5 < 2;
			rgba.fill(on ? fg : bg, i, i + 3);
			rgba[i + 3] = 255;
		}
	}
	return createFrame(width, height, rgba);
}

function fitsBudget(w: number, h: number) {
	expect(Math.max(w, h)).toBeLessThanOrEqual(VISION_LIMITS.maxLongEdge);
	expect(w * h).toBeLessThanOrEqual(VISION_LIMITS.maxPixels);
}

describe("size rule", () => {
	// The largest size within long edge ≤ 1568 and ≤ 1.15 MP (1.15 × 2^20), at most 2x for a screen.
	const expected: Record<string, [number, number, number]> = {
		"720x400": [1440, 800, 2],
		"640x480": [1267, 950, 1.98],
		"800x600": [1267, 950, 1.58],
		"1024x768": [1024, 768, 1],
		"1280x1024": [1227, 982, 0.96],
		"1920x1080": [1464, 823, 0.76],
		"24x16": [48, 32, MAX_UPSCALE],
		"8192x4608": [1464, 823, 0.18],
	};
	for (const [size, [w, h, scale]] of Object.entries(expected)) {
		test(`${size} → ${w}x${h}`, async () => {
			const [fw, fh] = size.split("x").map(Number) as [number, number];
			const plan = planScale(fw, fh, VISION_LIMITS, MAX_UPSCALE);
			expect([plan.width, plan.height]).toEqual([w, h]);
			expect(plan.scale).toBeCloseTo(scale, 2);
			fitsBudget(plan.width, plan.height);
			if (fw * fh <= 2_000_000) {
				const out = await optimizeFrame(textScreen(fw, fh), { trim: false });
				// A whole VGA text-mode screen is never enlarged (test/image/text-mode.test.ts).
				const [ow, oh] = isVgaTextMode(fw, fh) ? [fw, fh] : [w, h];
				expect([out.width, out.height]).toEqual([ow, oh]);
				const png = await decode(out.png);
				expect([png.width, png.height]).toEqual([ow, oh]);
				expect(out.region).toEqual({ x: 0, y: 0, width: fw, height: fh });
				expect([out.frameWidth, out.frameHeight]).toEqual([fw, fh]);
			}
		});
	}

	test("every size from tiny to huge fits the budget and never upscales past the cap", () => {
		for (let w = 1; w <= 5000; w += 37) {
			for (const aspect of [0.25, 0.5625, 0.75, 1, 1.6, 4]) {
				const h = Math.max(1, Math.round(w * aspect));
				const plan = planScale(w, h, VISION_LIMITS, MAX_UPSCALE);
				fitsBudget(plan.width, plan.height);
				expect(plan.scale).toBeLessThanOrEqual(MAX_UPSCALE);
				expect(plan.width).toBeGreaterThanOrEqual(1);
				expect(plan.height).toBeGreaterThanOrEqual(1);
			}
		}
	});

	test("integer factors whenever 2x or more fits; no resampling for a factor below 1.3", () => {
		expect(planScale(100, 50, VISION_LIMITS, 8)).toMatchObject({ scale: 8, width: 800, height: 400 });
		expect(planScale(300, 200, VISION_LIMITS, 8)).toMatchObject({ scale: 4, kernel: "lanczos3" });
		expect(planScale(720, 400, VISION_LIMITS, 8)).toMatchObject({ scale: 2, kernel: "lanczos3" });
		expect(planScale(1024, 768)).toMatchObject({ scale: 1, width: 1024, height: 768 });
	});

	test("every fixture's optimised image fits the budget", async () => {
		for (const name of ["kernel-panic-720x400", "fbcon-1920x1080", "uefi-setup-640x480", "dim-bmc-1024x768"]) {
			const out = await optimizeFrame(await loadFixture(name));
			fitsBudget(out.width, out.height);
			const png = await decode(out.png);
			expect([png.width, png.height]).toEqual([out.width, out.height]);
		}
	});
});

describe("region", () => {
	test("crops first, then enlarges (up to 4x for a zoom)", async () => {
		const frame = await loadFixture("kernel-panic-720x400");
		const region = { x: 9, y: 16 * 3, width: 360, height: 64 };
		const out = await optimizeFrame(frame, { region });
		expect(out.region).toEqual(region);
		expect(out.trimmed).toBe(false);
		expect(out.scale).toBe(4);
		expect([out.width, out.height]).toEqual([1440, 256]);
		// The picture is the region enlarged: shrunk back by 4 it matches the region's pixels.
		const back = await sharp(Buffer.from((await decode(out.png)).rgba), {
			raw: { width: 1440, height: 256, channels: 4 },
		})
			.resize(360, 64, { kernel: "cubic" })
			.raw()
			.toBuffer();
		let diff = 0;
		for (let r = 0; r < 64; r++) {
			for (let c = 0; c < 360; c++) {
				const src = ((region.y + r) * frame.width + region.x + c) * 4;
				diff += Math.abs((back[(r * 360 + c) * 4] ?? 0) - (frame.rgba[src] ?? 0));
			}
		}
		expect(diff / (360 * 64)).toBeLessThan(12);
	});

	test("out-of-range regions are BAD_INPUT errors naming the framebuffer size", async () => {
		const frame = textScreen(720, 400);
		for (const region of [
			{ x: 700, y: 0, width: 100, height: 10 },
			{ x: 0, y: 390, width: 10, height: 11 },
			{ x: -1, y: 0, width: 10, height: 10 },
			{ x: 0, y: 0, width: 0, height: 10 },
			{ x: 1.5, y: 0, width: 10, height: 10 },
		]) {
			const error = await optimizeFrame(frame, { region }).catch((e) => e);
			expect(error).toBeInstanceOf(IkvmError);
			expect((error as IkvmError).code).toBe("BAD_INPUT");
			expect((error as IkvmError).message).toContain("720x400");
		}
	});

	test("a screen whose text fills a corner is trimmed to its written part, and the region says where", async () => {
		const frame = await loadFixture("login-1024x768");
		const out = await optimizeFrame(frame);
		expect(out.trimmed).toBe(true);
		expect(out.region.x).toBeLessThan(20);
		expect(out.region.y).toBeLessThan(20);
		expect(out.region.width).toBeLessThan(600);
		expect(out.region.height).toBeLessThan(200);
		expect(out.scale).toBe(2);
		// Nothing written is cut off: everything outside the region is background.
		const bg = frame.rgba.subarray(frame.rgba.length - 4, frame.rgba.length - 1).join();
		for (let y = 0; y < frame.height; y += 3) {
			for (let x = 0; x < frame.width; x += 3) {
				const inside =
					x >= out.region.x &&
					x < out.region.x + out.region.width &&
					y >= out.region.y &&
					y < out.region.y + out.region.height;
				if (!inside)
					expect(frame.rgba.subarray((y * frame.width + x) * 4, (y * frame.width + x) * 4 + 3).join()).toBe(bg);
			}
		}
	});

	test("trim: false and an empty screen keep the whole frame", async () => {
		const login = await loadFixture("login-1024x768");
		expect((await optimizeFrame(login, { trim: false })).region).toEqual({ x: 0, y: 0, width: 1024, height: 768 });
		const black = createFrame(800, 600, new Uint8Array(800 * 600 * 4).fill(0));
		expect((await optimizeFrame(black)).region).toEqual({ x: 0, y: 0, width: 800, height: 600 });
	});
});

/** Mean luminance of the brightest 1% and of the darkest half: text and background levels. */
function levels(rgba: Uint8Array): { text: number; background: number } {
	const lum: number[] = [];
	for (let i = 0; i < rgba.length; i += 4)
		lum.push(0.299 * (rgba[i] ?? 0) + 0.587 * (rgba[i + 1] ?? 0) + 0.114 * (rgba[i + 2] ?? 0));
	lum.sort((a, b) => a - b);
	const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
	return { background: mean(lum.slice(0, lum.length / 2)), text: mean(lum.slice(Math.floor(lum.length * 0.99))) };
}

/** Mean luminance and the share of clipped-white pixels. */
function brightness(rgba: Uint8Array): { mean: number; saturated: number } {
	let sum = 0;
	let saturated = 0;
	const n = rgba.length / 4;
	for (let i = 0; i < rgba.length; i += 4) {
		const l = 0.299 * (rgba[i] ?? 0) + 0.587 * (rgba[i + 1] ?? 0) + 0.114 * (rgba[i + 2] ?? 0);
		sum += l;
		if (l >= 250) saturated++;
	}
	return { mean: sum / n, saturated: saturated / n };
}

describe("levels lift", () => {
	test("a dim capture (text at 50 on 12) gets a strong contrast", async () => {
		const frame = textScreen(720, 400, 50, 12);
		const before = levels(frame.rgba);
		const out = await optimizeFrame(frame, { trim: false });
		expect(out.lift).toBeDefined();
		const after = levels((await decode(out.png)).rgba);
		expect(before.text - before.background).toBeLessThan(40);
		expect(after.text - after.background).toBeGreaterThan(200);
	});

	test("the dim BMC fixture is lifted to the contrast of the clean screen it came from", async () => {
		const dim = await loadFixture("dim-bmc-1024x768");
		const clean = await loadFixture("kernel-panic-1024x768");
		const out = await optimizeFrame(dim, { trim: false });
		expect(out.lift).toBeDefined();
		const lifted = levels((await decode(out.png)).rgba);
		const original = levels(clean.rgba);
		const raw = levels(dim.rgba);
		expect(raw.text - raw.background).toBeLessThan(60);
		expect(lifted.text - lifted.background).toBeGreaterThanOrEqual(original.text - original.background);
		// The blue cast of the capture's black is gone: the background is neutral black again.
		expect(lifted.background).toBeLessThan(3);
	});

	test("normal screens are left alone (not blown out)", async () => {
		for (const name of ["kernel-panic-720x400", "grub-menu-720x400", "uefi-setup-640x480", "kernel-panic-1024x768"]) {
			const frame = await loadFixture(name);
			expect(chooseLift(screenStats(frame.rgba))).toBeUndefined();
			const out = await optimizeFrame(frame, { trim: false });
			expect(out.lift).toBeUndefined();
			const before = brightness(frame.rgba);
			const after = brightness((await decode(out.png)).rgba);
			expect(Math.abs(after.mean - before.mean)).toBeLessThan(1.5);
			expect(after.saturated).toBeLessThanOrEqual(before.saturated + 0.002);
		}
	});

	test("a light screen with dim dark text is lifted towards dark text on white", async () => {
		const frame = textScreen(640, 480, 150, 200);
		const out = await optimizeFrame(frame, { trim: false });
		expect(out.lift).toBeDefined();
		const px = (await decode(out.png)).rgba;
		let min = 255;
		let max = 0;
		for (let i = 0; i < px.length; i += 4) {
			min = Math.min(min, px[i] ?? 0);
			max = Math.max(max, px[i] ?? 0);
		}
		expect(min).toBeLessThan(40);
		expect(max).toBeGreaterThan(240);
	});

	test("an almost empty noisy screen is not amplified into noise", () => {
		const rgba = new Uint8Array(320 * 200 * 4);
		for (let i = 0; i < rgba.length; i += 4) {
			rgba.fill(10 + ((i * 2654435761) >>> 30), i, i + 3);
			rgba[i + 3] = 255;
		}
		expect(chooseLift(screenStats(rgba))).toBeUndefined();
	});
});
