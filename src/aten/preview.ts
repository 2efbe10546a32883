/**
 * Read-only screenshots from the BMC's CGI preview, for firmware whose HTML5
 * KVM cannot be used: trigger a capture (`CapturePreview.cgi`, or `op.cgi
 * sys_preview` on newer firmware), give the BMC a moment, then download the
 * snapshot (`url_redirect.cgi?url_name=Snapshot&url_type=img`). The image may be
 * BMP (old firmware), JPEG or PNG; its magic bytes decide. It is the BMC's own
 * capture, of unknown age, so the session has no input and no power.
 */
import sharp from "sharp";
import type { CallContext } from "../call-context.ts";
import type { ConsoleLimits, ConsoleSession } from "../console/types.ts";
import { IkvmError } from "../errors.ts";
import { createFrame, type Frame } from "../frame.ts";
import { sleep } from "../timing.ts";
import { atenRequest } from "./http.ts";
import type { LoginLease } from "./logins.ts";
import type { AtenTimeouts } from "./types.ts";

const MAX_IMAGE_BYTES = 32 * 1024 * 1024;

export type ImageKind = "bmp" | "jpeg" | "png" | "unknown";

export function sniffImage(bytes: Uint8Array): ImageKind {
	if (bytes[0] === 0x42 && bytes[1] === 0x4d) return "bmp";
	if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "jpeg";
	if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return "png";
	return "unknown";
}

function previewError(message: string, hint?: string): IkvmError {
	return new IkvmError("PROTOCOL", message, { stage: "aten-preview", hint });
}

/**
 * Uncompressed BMP (BI_RGB 24/32-bit, or BI_BITFIELDS 32-bit in the usual
 * order; bottom-up or top-down) → RGBA. sharp has no BMP loader.
 */
export function decodeBmp(
	bytes: Uint8Array,
	limits: ConsoleLimits,
): { width: number; height: number; rgba: Uint8Array } {
	if (bytes.length < 54) throw previewError("The BMC's preview BMP is truncated.");
	const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
	const dataOffset = view.getUint32(10, true);
	const headerSize = view.getUint32(14, true);
	const width = view.getInt32(18, true);
	const rawHeight = view.getInt32(22, true);
	const bpp = view.getUint16(28, true);
	const compression = headerSize >= 40 ? view.getUint32(30, true) : 0;
	const height = Math.abs(rawHeight);
	if (width <= 0 || height <= 0 || width > limits.maxWidth || height > limits.maxHeight) {
		throw previewError(
			`The BMC's preview BMP is ${width}x${height}, outside 1..${limits.maxWidth}x${limits.maxHeight}.`,
		);
	}
	if ((bpp !== 24 && bpp !== 32) || !(compression === 0 || (compression === 3 && bpp === 32))) {
		throw previewError(
			`The BMC's preview BMP uses ${bpp}-bit pixels with compression ${compression}, which is not supported.`,
		);
	}
	const bytesPerPixel = bpp / 8;
	const stride = Math.ceil((width * bytesPerPixel) / 4) * 4;
	if (dataOffset + stride * height > bytes.length) throw previewError("The BMC's preview BMP is truncated.");
	const rgba = new Uint8Array(width * height * 4);
	const bottomUp = rawHeight > 0;
	for (let y = 0; y < height; y++) {
		const row = dataOffset + (bottomUp ? height - 1 - y : y) * stride;
		for (let x = 0; x < width; x++) {
			const s = row + x * bytesPerPixel;
			const d = (y * width + x) * 4;
			rgba[d] = bytes[s + 2] as number;
			rgba[d + 1] = bytes[s + 1] as number;
			rgba[d + 2] = bytes[s] as number;
			rgba[d + 3] = 255;
		}
	}
	return { width, height, rgba };
}

/** Any preview image → RGBA within the limits. */
export async function decodePreviewImage(bytes: Uint8Array, limits: ConsoleLimits): Promise<Frame> {
	const kind = sniffImage(bytes);
	if (kind === "bmp") {
		const { width, height, rgba } = decodeBmp(bytes, limits);
		return createFrame(width, height, rgba);
	}
	if (kind === "unknown") {
		throw previewError(
			"The BMC's preview snapshot is not an image (no BMP, JPEG or PNG signature).",
			'The preview may need a CSRF token or be missing on this firmware; use the KVM path (remove "preview").',
		);
	}
	try {
		const image = sharp(bytes, { limitInputPixels: limits.maxWidth * limits.maxHeight });
		const meta = await image.metadata();
		if (!meta.width || !meta.height || meta.width > limits.maxWidth || meta.height > limits.maxHeight) {
			throw previewError(`The BMC's preview image is ${meta.width}x${meta.height}, outside the console limits.`);
		}
		const { data, info } = await image.ensureAlpha().raw().toBuffer({ resolveWithObject: true });
		return createFrame(info.width, info.height, new Uint8Array(data.buffer, data.byteOffset, data.length));
	} catch (error) {
		if (error instanceof IkvmError) throw error;
		throw previewError(`The BMC's preview ${kind.toUpperCase()} could not be decoded: ${(error as Error).message}`);
	}
}

export class PreviewSession implements ConsoleSession {
	readonly description: string;
	private isClosed = false;
	private closing: Promise<void> | undefined;

	constructor(
		private readonly lease: LoginLease,
		private readonly limits: ConsoleLimits,
		private readonly settings: { timeouts: AtenTimeouts; delayMs: number },
	) {
		this.description = `supermicro preview ${lease.session.host}`;
	}

	get closed(): boolean {
		return this.isClosed;
	}

	async capture(ctx: CallContext): Promise<Frame> {
		if (this.isClosed)
			throw new IkvmError("CONNECTION", "The preview session is closed.", { stage: "aten-preview", retryable: true });
		const session = this.lease.session;
		const request = { signal: ctx.signal, timeoutMs: this.settings.timeouts.request };
		const headers = { Cookie: `SID=${session.sid}`, "Content-Type": "application/x-www-form-urlencoded" };
		const stamp = encodeURIComponent(new Date().toString());
		ctx.progress("aten-preview", `Asking the BMC at ${session.host} for a preview snapshot`);
		let trigger = await atenRequest(
			new URL("/cgi/CapturePreview.cgi", session.origin),
			{ method: "POST", headers, body: `IKVM_PREVIEW.XML=${encodeURIComponent("(0,0)")}&time_stamp=${stamp}` },
			session.tls,
			request,
			"the preview trigger",
			"aten-preview",
		);
		if (trigger.status === 404) {
			trigger = await atenRequest(
				new URL("/cgi/op.cgi", session.origin),
				{ method: "POST", headers, body: `op=sys_preview&r=${encodeURIComponent("(0,0)")}` },
				session.tls,
				request,
				"the preview trigger",
				"aten-preview",
			);
		}
		if (trigger.status !== 200) {
			throw new IkvmError(
				"NOT_SUPPORTED",
				`The BMC at ${session.host} refused the preview capture (HTTP ${trigger.status}).`,
				{
					stage: "aten-preview",
					hint: 'This firmware has no CGI preview; use the KVM path (remove "preview" from the target).',
				},
			);
		}
		await sleep(this.settings.delayMs, ctx.signal, "aten-preview");
		const image = await atenRequest(
			new URL(`/cgi/url_redirect.cgi?url_name=Snapshot&url_type=img&time_stamp=${stamp}`, session.origin),
			{ headers: { Cookie: `SID=${session.sid}` }, maxBytes: MAX_IMAGE_BYTES },
			session.tls,
			request,
			"the preview download",
			"aten-preview",
		);
		if (image.status === 404) {
			throw new IkvmError(
				"NOT_SUPPORTED",
				`The BMC at ${session.host} has no preview snapshot to download (HTTP 404).`,
				{
					stage: "aten-preview",
					hint: 'This firmware has no CGI preview; use the KVM path (remove "preview" from the target).',
				},
			);
		}
		if (image.status !== 200 || image.body.length === 0) {
			throw new IkvmError("UPSTREAM", `The BMC at ${session.host} had no preview snapshot (HTTP ${image.status}).`, {
				stage: "aten-preview",
				hint: "The host screen may be off; try again, or use the KVM path.",
				retryable: true,
			});
		}
		return decodePreviewImage(image.body, this.limits);
	}

	close(): Promise<void> {
		this.isClosed = true;
		this.closing ??= this.lease.release(this.settings.timeouts.close);
		return this.closing;
	}
}
