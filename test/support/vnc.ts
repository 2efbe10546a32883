import { afterEach, expect } from "bun:test";
import { type CallContext, standaloneContext } from "../../src/call-context.ts";
import type { ConsoleLimits } from "../../src/console/types.ts";
import { type RfbServerOptions, type RfbTestServer, startRfbServer } from "../../src/demo/rfb-server.ts";
import type { Frame } from "../../src/frame.ts";
import type { VncTarget } from "../../src/vnc/target.ts";
import type { RgbaImage } from "../../src/vnc/types.ts";

export const LIMITS: ConsoleLimits = { maxWidth: 8192, maxHeight: 8192 };

/** A context with a deadline, so a bug shows as a failed test rather than a hung one. */
export function testContext(ms = 10_000): CallContext {
	return standaloneContext(AbortSignal.timeout(ms));
}

/** A context that records the stages it was told about. */
export function recordingContext(ms = 10_000): CallContext & { stages: string[] } {
	const stages: string[] = [];
	return { signal: AbortSignal.timeout(ms), progress: (stage) => stages.push(stage), stages };
}

export function wsTarget(url: string, extra: Partial<VncTarget> = {}): VncTarget {
	return { kind: "vnc", url, ...extra };
}

export function tcpTarget(port: number, extra: Partial<VncTarget> = {}): VncTarget {
	return { kind: "vnc", host: "127.0.0.1", port, ...extra };
}

/** Number of pixels whose RGB differs, and the first one, for a readable failure. */
export function pixelDiff(
	a: { width: number; height: number; rgba: Uint8Array },
	b: { width: number; height: number; rgba: Uint8Array },
): { count: number; first?: string } {
	if (a.width !== b.width || a.height !== b.height) {
		return { count: a.width * a.height, first: `size ${a.width}x${a.height} vs ${b.width}x${b.height}` };
	}
	let count = 0;
	let first: string | undefined;
	for (let i = 0; i < a.width * a.height; i++) {
		const o = i * 4;
		if (a.rgba[o] !== b.rgba[o] || a.rgba[o + 1] !== b.rgba[o + 1] || a.rgba[o + 2] !== b.rgba[o + 2]) {
			count++;
			first ??= `(${i % a.width},${Math.floor(i / a.width)}): ${[...a.rgba.subarray(o, o + 3)]} vs ${[...b.rgba.subarray(o, o + 3)]}`;
		}
	}
	return { count, first };
}

/** The frame equals the picture pixel for pixel, and every alpha is 255. */
export function expectPixelExact(frame: Frame, image: RgbaImage): void {
	const diff = pixelDiff(frame, image);
	expect(diff.first ? `${diff.count} pixels differ, first at ${diff.first}` : "same").toBe("same");
	for (let i = 3; i < frame.rgba.length; i += 4) {
		if (frame.rgba[i] !== 255) throw new Error(`alpha ${frame.rgba[i]} at pixel ${(i - 3) / 4}`);
	}
}

/**
 * Call at the top of a test file: returns a function that starts an RFB test server showing `image`
 * (unless the options say otherwise), each closed after the test that started it.
 */
export function rfbServers(image: RgbaImage): (options?: Partial<RfbServerOptions>) => Promise<RfbTestServer> {
	const started: RfbTestServer[] = [];
	afterEach(async () => {
		await Promise.all(started.splice(0).map((server) => server.close()));
	});
	return async (options = {}) => {
		const server = await startRfbServer({ image, ...options });
		started.push(server);
		return server;
	};
}
