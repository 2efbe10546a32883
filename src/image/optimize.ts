/**
 * The LLM image stage: makes a console frame as readable as possible for a vision
 * model within the size a model actually looks at.
 *
 *   crop (the asked-for region, or the screen's written part) → levels lift (only for
 *   dim / low-contrast captures) → resize to the vision budget (Lanczos3, integer factors
 *   where they fit) → PNG (palette when the colours allow it, exact either way)
 *
 * Every choice is measured by `bun run eval:readability` (OCR character error rate on
 * real console screenshots); see README.md, "Readability".
 */
import sharp from "sharp";
import { IkvmError } from "../errors.ts";
import type { Frame, Region } from "../frame.ts";
import { encodeImage } from "./encode.ts";

export interface VisionLimits {
	/** longest edge the model sees without the client shrinking it */
	maxLongEdge: number;
	/** pixel budget; larger pictures are shrunk by the client */
	maxPixels: number;
}

/**
 * Anthropic's vision guidance: long edge ≤ 1568 px and ≤ 1.15 megapixels. Their own
 * table of largest sizes (1092x1092, 951x1268, 896x1344, 819x1456, 784x1568) is about
 * 1.19 million pixels, i.e. binary megapixels: 1.15 × 2^20.
 */
export const VISION_LIMITS: VisionLimits = { maxLongEdge: 1568, maxPixels: Math.floor(1.15 * 1024 * 1024) };

export type Kernel = "nearest" | "linear" | "cubic" | "mitchell" | "lanczos2" | "lanczos3";

export interface ScalePlan {
	scale: number;
	width: number;
	height: number;
	kernel: Kernel;
}

/**
 * How the factor and kernel are chosen (each measured with `bun run eval:readability`):
 * - factor ≥ 2 allowed: the largest integer factor. A fractional factor just below it
 *   (1.998 for 720x400) spreads glyph pixels unevenly and made OCR fail on whole lines.
 * - between MIN_UPSCALE and 2: the largest factor allowed (640x480 → 1.98).
 * - below MIN_UPSCALE: no resampling at all (1024x768 → 1.24 read no better than 1x and
 *   turns an 11 KiB palette PNG into a 380 KiB truecolour one).
 * - larger than the budget: shrink to fit.
 * Lanczos3 beat nearest-neighbour at 2x on every VGA text screen (OCR reads the smooth
 * edges better: GRUB rescue 2.8% vs 8.5% CER, initramfs shell 2.8% vs 7.5%), and was as good
 * or better at 4x on zoomed regions; sharpening on top never helped.
 */
const MIN_UPSCALE = 1.3;

export function planScale(
	width: number,
	height: number,
	limits: VisionLimits = VISION_LIMITS,
	maxUpscale = Number.POSITIVE_INFINITY,
): ScalePlan {
	const max = Math.min(
		limits.maxLongEdge / Math.max(width, height),
		Math.sqrt(limits.maxPixels / (width * height)),
		maxUpscale,
	);
	if (max >= 2) {
		const n = Math.floor(max);
		return { scale: n, width: width * n, height: height * n, kernel: "lanczos3" };
	}
	if (max >= 1 && max < MIN_UPSCALE) return { scale: 1, width, height, kernel: "nearest" };
	// Fractional: round down so both limits still hold.
	const w = Math.max(1, Math.floor(width * max));
	const h = Math.max(1, Math.floor(height * max));
	return { scale: max, width: w, height: h, kernel: "lanczos3" };
}

export interface Lift {
	/** input level mapped to 0 */
	black: number;
	/** input level mapped to 255 */
	white: number;
	/**
	 * Per-channel shift of the background so a colour cast (a blue-ish black, say) goes to
	 * neutral: each channel's own background level stands in for `black` (`white` on light
	 * screens), with the same gain.
	 */
	offsets: [number, number, number];
}

/** What the picture's own luminance histogram says about background, text and noise. */
export interface ScreenStats {
	/** most common luminance: the background of a console screen */
	background: number;
	darkBackground: boolean;
	/** mean absolute deviation of the background (capture noise) */
	noise: number;
	/** the text level: a high (dark background) or low (light background) percentile */
	text: number;
	/** background level of each channel (R, G, B): a capture's colour cast */
	channels: [number, number, number];
}

export function screenStats(rgba: Uint8Array, channels: 3 | 4 = 4): ScreenStats {
	const hist = new Uint32Array(256);
	const perChannel = [new Uint32Array(256), new Uint32Array(256), new Uint32Array(256)] as const;
	// Every other pixel is plenty for a histogram and halves the cost.
	let total = 0;
	for (let i = 0; i < rgba.length; i += channels * 2) {
		const lum = luminance(rgba, i);
		hist[lum] = (hist[lum] as number) + 1;
		const [hr, hg, hb] = perChannel;
		hr[rgba[i] as number] = (hr[rgba[i] as number] as number) + 1;
		hg[rgba[i + 1] as number] = (hg[rgba[i + 1] as number] as number) + 1;
		hb[rgba[i + 2] as number] = (hb[rgba[i + 2] as number] as number) + 1;
		total++;
	}
	const modeOf = (h: Uint32Array) => {
		let m = 0;
		for (let v = 1; v < 256; v++) if ((h[v] as number) > (h[m] as number)) m = v;
		return m;
	};
	const background = modeOf(hist);
	let sum = 0;
	let count = 0;
	for (let v = Math.max(0, background - 16); v <= Math.min(255, background + 16); v++) {
		sum += (hist[v] as number) * Math.abs(v - background);
		count += hist[v] as number;
	}
	const percentile = (q: number) => {
		let acc = 0;
		for (let v = 0; v < 256; v++) {
			acc += hist[v] as number;
			if (acc >= q * total) return v;
		}
		return 255;
	};
	const darkBackground = background < 128;
	return {
		background,
		darkBackground,
		noise: count ? sum / count : 0,
		text: darkBackground ? percentile(0.999) : percentile(0.001),
		channels: [modeOf(perChannel[0]), modeOf(perChannel[1]), modeOf(perChannel[2])],
	};
}

function luminance(px: Uint8Array, i: number): number {
	return ((px[i] as number) * 77 + (px[i + 1] as number) * 150 + (px[i + 2] as number) * 29) >> 8;
}

/**
 * Decides a levels stretch from the picture's own statistics, or none.
 * Console screens are mostly background: the histogram's mode is the background level and
 * the noise around it tells how far "black" really reaches. Only a capture whose
 * text/background contrast is weak gets lifted, and the gain is capped so an empty or noisy
 * screen is not turned into noise. A normal screen (VGA grey 170 on black spans 170 levels)
 * is left exactly as it is.
 */
export function chooseLift(stats: ScreenStats): Lift | undefined {
	const { background, noise, text, darkBackground } = stats;
	const black = darkBackground ? Math.min(255, Math.ceil(background + 2 * noise + 1)) : text;
	const white = darkBackground ? text : Math.max(0, Math.floor(background - 2 * noise - 1));
	const range = white - black;
	if (range >= MIN_GOOD_RANGE || range < MIN_CONTENT_RANGE) return undefined;
	const gain = Math.min(MAX_GAIN, 255 / range);
	const offsets = stats.channels.map((c) => c - background) as [number, number, number];
	// Keep the background where it is on the far side; stretch towards the text.
	return darkBackground ? { black, white: black + 255 / gain, offsets } : { black: white - 255 / gain, white, offsets };
}

/**
 * The part of a screen that has anything on it, with a margin, in the picture's own
 * coordinates; undefined when trimming would not gain much (or the screen is empty).
 * Console text rarely fills a wide screen: a 1920x1080 console whose text ends at column 90
 * would otherwise be shrunk to fit the budget, when its written part fits without shrinking.
 */
export function contentBox(
	rgba: Uint8Array,
	width: number,
	height: number,
	stats: ScreenStats,
	channels: 3 | 4 = 4,
): Region | undefined {
	const contrast = Math.abs(stats.text - stats.background);
	const threshold = Math.max(3 * stats.noise + 2, Math.min(32, contrast / 3));
	if (contrast <= threshold) return undefined;
	let left = width;
	let right = -1;
	let top = height;
	let bottom = -1;
	const bg = stats.background;
	for (let y = 0; y < height; y++) {
		let i = y * width * channels;
		for (let x = 0; x < width; x++, i += channels) {
			if (Math.abs(luminance(rgba, i) - bg) > threshold) {
				if (x < left) left = x;
				if (x > right) right = x;
				if (y < top) top = y;
				if (y > bottom) bottom = y;
			}
		}
	}
	if (right < 0) return undefined;
	const margin = Math.max(8, Math.round(Math.min(width, height) * 0.02));
	const x = Math.max(0, left - margin);
	const y = Math.max(0, top - margin);
	const box = {
		x,
		y,
		width: Math.min(width, right + margin + 1) - x,
		height: Math.min(height, bottom + margin + 1) - y,
	};
	return box.width * box.height <= TRIM_WORTH * width * height ? box : undefined;
}

/** Trim only when the written part is at most this share of the screen. */
const TRIM_WORTH = 0.8;

/** Contrast (levels) below which a screen counts as dim. */
const MIN_GOOD_RANGE = 150;
/** Below this there is no text to lift, only noise. */
const MIN_CONTENT_RANGE = 12;
const MAX_GAIN = 8;

function applyLift(rgba: Uint8Array, lift: Lift, channels: 3 | 4 = 4): void {
	const gain = 255 / (lift.white - lift.black);
	const luts = lift.offsets.map((offset) => {
		const lut = new Uint8Array(256);
		for (let v = 0; v < 256; v++) lut[v] = Math.max(0, Math.min(255, Math.round((v - offset - lift.black) * gain)));
		return lut;
	});
	const [r, g, b] = luts as [Uint8Array, Uint8Array, Uint8Array];
	for (let i = 0; i < rgba.length; i += channels) {
		rgba[i] = r[rgba[i] as number] as number;
		rgba[i + 1] = g[rgba[i + 1] as number] as number;
		rgba[i + 2] = b[rgba[i + 2] as number] as number;
	}
}

/** Checks a region against the framebuffer; the error names the framebuffer size. */
export function checkRegion(region: Region, frameWidth: number, frameHeight: number): void {
	const { x, y, width, height } = region;
	const ok =
		[x, y, width, height].every(Number.isInteger) &&
		x >= 0 &&
		y >= 0 &&
		width >= 1 &&
		height >= 1 &&
		x + width <= frameWidth &&
		y + height <= frameHeight;
	if (!ok) {
		throw new IkvmError(
			"BAD_INPUT",
			`region {x: ${x}, y: ${y}, width: ${width}, height: ${height}} is outside the ${frameWidth}x${frameHeight} framebuffer.`,
			{
				hint: `Use framebuffer pixels: 0 ≤ x, x + width ≤ ${frameWidth}; 0 ≤ y, y + height ≤ ${frameHeight}; width and height ≥ 1.`,
			},
		);
	}
}

/** The region's pixels as packed RGB: a copy, so the frame itself is never modified. */
function cropRgb(frame: Frame, region: Region): Uint8Array {
	checkRegion(region, frame.width, frame.height);
	const out = new Uint8Array(region.width * region.height * 3);
	const src = frame.rgba;
	let o = 0;
	for (let r = 0; r < region.height; r++) {
		let i = ((region.y + r) * frame.width + region.x) * 4;
		for (let c = 0; c < region.width; c++, i += 4) {
			out[o++] = src[i] as number;
			out[o++] = src[i + 1] as number;
			out[o++] = src[i + 2] as number;
		}
	}
	return out;
}

/** A copy of the region's RGBA pixels (the frame itself is never modified). */
export function cropRgba(frame: Frame, region: Region): Uint8Array {
	checkRegion(region, frame.width, frame.height);
	const out = new Uint8Array(region.width * region.height * 4);
	const rowBytes = region.width * 4;
	for (let r = 0; r < region.height; r++) {
		const from = ((region.y + r) * frame.width + region.x) * 4;
		out.set(frame.rgba.subarray(from, from + rowBytes), r * rowBytes);
	}
	return out;
}

export interface OptimizeOptions {
	/** framebuffer pixels to show; the screen's written part when absent (see `trim`) */
	region?: Region;
	/** without a region, cut empty background margins away (default true) */
	trim?: boolean;
	limits?: VisionLimits;
	/** largest enlargement of a whole screen (default MAX_UPSCALE) */
	maxUpscale?: number;
	/** largest enlargement of an asked-for region (default MAX_ZOOM) */
	maxZoom?: number;
	/** resampling kernel for an enlargement instead of the planned one (measurements) */
	kernel?: Kernel;
}

/**
 * A whole screen is enlarged at most 2x: console glyphs (8x16, 9x16, 8x19) are then about
 * 32 px tall, where OCR read best; at 3x it lost whole lines of the 720x400 panic (33.7% vs
 * 12.2% CER) and the picture costs more tokens. A region is a deliberate zoom: up to 4x.
 */
export const MAX_UPSCALE = 2;
export const MAX_ZOOM = 4;

/**
 * VGA text mode (80x25 cells of 9x16 or 8x16): the whole screen is sent at its own size. Measured
 * with `bun run eval:readability --compare` on real text-mode screens, 2x Lanczos read worse than
 * the raw pixels on a real oops (31.1% → 59.2% CER, tesseract's page layout) and, read line by line
 * (`--psm=6`), on three of four others (GRUB rescue 4.5% → 9.3%); no enlargement is never worse
 * than raw and costs a quarter of the tokens. `region` still zooms up to MAX_ZOOM.
 */
export function isVgaTextMode(width: number, height: number): boolean {
	return height === 400 && (width === 720 || width === 640);
}

export interface OptimizedImage {
	png: Buffer;
	/** output size */
	width: number;
	height: number;
	/** output pixels per framebuffer pixel */
	scale: number;
	kernel: Kernel;
	/** the framebuffer area shown */
	region: Region;
	/** true when empty margins were cut away (no region was asked for) */
	trimmed: boolean;
	frameWidth: number;
	frameHeight: number;
	/** levels stretch applied to a dim capture, if any */
	lift?: Lift;
	palette: boolean;
}

export async function optimizeFrame(frame: Frame, options: OptimizeOptions = {}): Promise<OptimizedImage> {
	let region = options.region ?? { x: 0, y: 0, width: frame.width, height: frame.height };
	let pixels = cropRgb(frame, region);
	const stats = screenStats(pixels, 3);
	let trimmed = false;
	if (!options.region && options.trim !== false) {
		const box = contentBox(pixels, region.width, region.height, stats, 3);
		if (box) {
			region = box;
			pixels = cropRgb(frame, box);
			trimmed = true;
		}
	}
	const lift = chooseLift(stats);
	if (lift) applyLift(pixels, lift, 3);
	const wholeScreenMax = options.maxUpscale ?? (isVgaTextMode(frame.width, frame.height) ? 1 : MAX_UPSCALE);
	const planned = planScale(
		region.width,
		region.height,
		options.limits,
		options.region ? (options.maxZoom ?? MAX_ZOOM) : wholeScreenMax,
	);
	const plan = options.kernel && planned.scale > 1 ? { ...planned, kernel: options.kernel } : planned;
	const rgb =
		plan.width === region.width && plan.height === region.height
			? pixels
			: await sharp(pixels, { raw: { width: region.width, height: region.height, channels: 3 } })
					.resize(plan.width, plan.height, { kernel: plan.kernel, fit: "fill" })
					.raw()
					.toBuffer();
	const encoded = await encodeImage({ width: plan.width, height: plan.height, data: rgb, channels: 3 });
	return {
		png: encoded.png,
		width: plan.width,
		height: plan.height,
		scale: plan.scale,
		kernel: plan.kernel,
		region,
		trimmed,
		frameWidth: frame.width,
		frameHeight: frame.height,
		lift,
		palette: encoded.palette,
	};
}
