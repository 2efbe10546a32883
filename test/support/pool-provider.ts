import type { CallContext } from "../../src/call-context.ts";
import type { ConsoleHandle, ConsoleOpener, ConsoleSession, ConsoleTarget } from "../../src/console/types.ts";
import type { Provider, ServerInfo } from "../../src/providers/types.ts";
import { testFrame } from "./fake-provider.ts";

/** A provider whose servers are console targets captured through the real ConsolePool. */
export class PoolProvider implements Provider {
	readonly name = "pool";
	constructor(private readonly targets: Record<string, ConsoleTarget>) {}

	async listServers(): Promise<ServerInfo[]> {
		return Object.keys(this.targets).map((id) => ({ id, name: id, provider: "pool", datacenter: null, ip: null }));
	}

	console(serverId: string): ConsoleHandle {
		const target = this.targets[serverId];
		if (!target) throw new Error(`no target ${serverId}`);
		return { key: serverId, resolve: async () => target };
	}
}

/** An opener whose sessions report each stage and take `stepMs` per stage; counts what happens. */
export function slowOpener(stepMs: number) {
	const stats = { opened: 0, closed: 0, aborted: 0 };
	const step = (ctx: CallContext) =>
		new Promise<void>((resolve, reject) => {
			const t = setTimeout(resolve, stepMs);
			ctx.signal.addEventListener(
				"abort",
				() => {
					clearTimeout(t);
					stats.aborted++;
					reject(ctx.signal.reason);
				},
				{ once: true },
			);
		});
	const opener: ConsoleOpener = async (_target, ctx) => {
		stats.opened++;
		ctx.progress("connect", "Connecting to the console");
		await step(ctx);
		ctx.progress("handshake", "Authenticating");
		await step(ctx);
		let closed = false;
		const session: ConsoleSession = {
			description: "slow",
			get closed() {
				return closed;
			},
			async capture(c) {
				c.progress("first-frame", "Waiting for the first frame");
				await step(c);
				return testFrame();
			},
			async close() {
				if (!closed) stats.closed++;
				closed = true;
			},
		};
		return session;
	};
	return { opener, stats };
}
