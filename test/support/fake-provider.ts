import { z } from "zod";
import type { CallContext } from "../../src/call-context.ts";
import type { ConsoleDriver } from "../../src/console/driver.ts";
import type { ConsoleHandle, ConsoleTarget } from "../../src/console/types.ts";
import { IkvmError } from "../../src/errors.ts";
import { createFrame, type Frame } from "../../src/frame.ts";
import type { Provider, ServerInfo } from "../../src/providers/types.ts";

/** A known picture: a gradient with a white box, so decoded pixels can be checked. */
export function testFrame(width = 64, height = 48): Frame {
	const rgba = new Uint8Array(width * height * 4);
	for (let y = 0; y < height; y++) {
		for (let x = 0; x < width; x++) {
			const i = (y * width + x) * 4;
			const box = x >= 8 && x < 24 && y >= 8 && y < 16;
			rgba[i] = box ? 255 : (x * 4) & 255;
			rgba[i + 1] = box ? 255 : (y * 5) & 255;
			rgba[i + 2] = box ? 255 : 40;
			rgba[i + 3] = 255;
		}
	}
	return createFrame(width, height, rgba, new Date("2026-01-02T03:04:05Z"));
}

/** An in-test provider: fixed servers, a known frame, optional failure. */
export class FakeProvider implements Provider {
	readonly name: string;
	calls = 0;
	constructor(
		readonly servers: ServerInfo[] = [
			{ id: "srv-1", name: "Test server 1", provider: "fake", datacenter: "lab1", ip: "192.0.2.1" },
		],
		readonly frame: Frame = testFrame(),
		name = "fake",
	) {
		this.name = name;
	}

	async listServers(_ctx: CallContext): Promise<ServerInfo[]> {
		return this.servers;
	}

	console(serverId: string): ConsoleHandle {
		return {
			key: `${this.name}:${serverId}`,
			resolve: async () => ({ kind: "test-frame", provider: this, serverId }) as FakeFrameTarget,
		};
	}

	/** What a capture of the fake console returns; tests replace it to inject delays and failures. */
	async getScreenshot(serverId: string, ctx: CallContext): Promise<Frame> {
		this.calls++;
		ctx.progress("connect", `Connecting to ${serverId}`);
		if (!this.servers.some((s) => s.id === serverId)) {
			throw new IkvmError("UNKNOWN_SERVER", `not mine: ${serverId}`);
		}
		return this.frame;
	}
}

/** The console of a FakeProvider server: each capture asks the provider's getScreenshot. */
export interface FakeFrameTarget extends ConsoleTarget {
	kind: "test-frame";
	provider: FakeProvider;
	serverId: string;
}

/** A test-only console kind: one driver object, added to an app with `drivers: [fakeFrameDriver]`. */
export const fakeFrameDriver: ConsoleDriver<FakeFrameTarget> = {
	type: "test-frame",
	kinds: ["test-frame"],
	title: "test frames",
	label: "test",
	configSchema: z.object({ id: z.string(), type: z.literal("test-frame") }),
	fromConfig() {
		throw new Error("fake consoles are not configured from a file");
	},
	async open(target) {
		let closed = false;
		return {
			description: `fake ${target.serverId}`,
			get closed() {
				return closed;
			},
			capture: (ctx) => target.provider.getScreenshot(target.serverId, ctx),
			async close() {
				closed = true;
			},
		};
	},
	describe: (target) => `fake ${target.serverId}`,
	stages: ["connect"],
};
