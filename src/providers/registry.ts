/**
 * Routes serverIds to providers and merges their server lists.
 */

import type { CallContext } from "../call-context.ts";
import type { ConsoleOperation, ConsolePool, UseOptions } from "../console/pool.ts";
import { IkvmError, toIkvmError } from "../errors.ts";
import type { Frame } from "../frame.ts";
import { log } from "../log.ts";
import { registerPublic } from "../redact.ts";
import type { Provider, ServerInfo } from "./types.ts";

/** What to tell a user who has configured nothing. */
export const NOT_CONFIGURED_HELP =
	"No console provider is configured. For OVH dedicated servers set OVH_ENDPOINT (eu, ca, us), " +
	"OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET and OVH_CONSUMER_KEY. For VNC or AMI BMC targets " +
	"put them in a JSON file and set IKVM_CONFIG (or pass --config). To try it without hardware run `bun run demo`.";

export interface ListResult {
	servers: ServerInfo[];
	/** Providers that failed; their servers are missing from the list. */
	errors: Array<{ provider: string; message: string }>;
}

export class ProviderRegistry {
	private readonly providers: Provider[];
	/** serverId → provider, learned from the last listing. */
	private readonly owners = new Map<string, Provider>();

	constructor(
		providers: Provider[],
		private readonly consoles: ConsolePool,
	) {
		this.providers = [...providers];
	}

	get isEmpty(): boolean {
		return this.providers.length === 0;
	}

	get providerNames(): string[] {
		return this.providers.map((p) => p.name);
	}

	async listServers(ctx: CallContext): Promise<ListResult> {
		if (this.isEmpty) return { servers: [], errors: [] };
		const results = await Promise.allSettled(this.providers.map((p) => p.listServers(ctx)));
		const servers: ServerInfo[] = [];
		const errors: ListResult["errors"] = [];
		results.forEach((result, i) => {
			const provider = this.providers[i] as Provider;
			if (result.status === "fulfilled") {
				for (const server of result.value) {
					const owner = this.owners.get(server.id);
					if (owner && owner !== provider) {
						// Start-up refuses known clashes; one that appears later (a new OVH server) is reported.
						errors.push({ provider: provider.name, message: clashMessage(server.id, owner, provider) });
						continue;
					}
					this.owners.set(server.id, provider);
					// Ids and names are not secrets: output keeps them whole even when one contains a password.
					registerPublic(server.id);
					registerPublic(server.name);
					servers.push(server);
				}
			} else {
				errors.push({ provider: provider.name, message: toIkvmError(result.reason).toUserMessage() });
			}
		});
		// A single provider's failure is the whole answer: surface it as the error it is.
		if (servers.length === 0 && errors.length === this.providers.length) {
			const first = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
			throw toIkvmError(first.reason, "list-servers");
		}
		return { servers, errors };
	}

	/**
	 * Start-up check that no two providers claim one server id. A provider that cannot be
	 * listed now (network) is skipped with a warning; list_servers reports a later clash.
	 */
	async checkUniqueIds(ctx: CallContext): Promise<void> {
		if (this.providers.length < 2) return;
		const results = await Promise.allSettled(this.providers.map((p) => p.listServers(ctx)));
		const seen = new Map<string, Provider>();
		results.forEach((result, i) => {
			const provider = this.providers[i] as Provider;
			if (result.status === "rejected") {
				log.warn(`could not list ${provider.name} servers at start-up to check ids are unique`, {
					error: toIkvmError(result.reason).message,
				});
				return;
			}
			for (const server of result.value) {
				const owner = seen.get(server.id);
				if (owner && owner !== provider) {
					throw new IkvmError("CONFIG_INVALID", clashMessage(server.id, owner, provider), {
						hint: "Server ids must be unique across providers: rename the configured target.",
					});
				}
				seen.set(server.id, provider);
			}
		});
	}

	/** Finds the provider that owns `serverId`, listing again when it is not known yet. */
	async resolve(serverId: string, ctx: CallContext): Promise<Provider> {
		if (this.isEmpty) {
			throw new IkvmError("NOT_CONFIGURED", `Unknown server "${serverId}": nothing is configured.`, {
				hint: NOT_CONFIGURED_HELP,
			});
		}
		const known = this.owners.get(serverId);
		if (known) return known;
		const { servers } = await this.listServers(ctx);
		const found = this.owners.get(serverId);
		if (found) return found;
		const ids = servers.map((s) => s.id);
		const shown = ids.slice(0, 20).join(", ") + (ids.length > 20 ? `, … (${ids.length} in all)` : "");
		throw new IkvmError("UNKNOWN_SERVER", `Unknown server "${serverId}".`, {
			hint: ids.length > 0 ? `Known servers: ${shown}. Call list_servers for details.` : "No servers are listed.",
		});
	}

	/** A complete, current picture of the server's console (shared with concurrent captures of it). */
	async capture(serverId: string, ctx: CallContext): Promise<Frame> {
		const provider = await this.resolve(serverId, ctx);
		return this.consoles.capture(provider.console(serverId), ctx);
	}

	/** Runs `op` on the server's console session; see ConsolePool.use for `share` and `idempotent`. */
	async use<T>(serverId: string, ctx: CallContext, op: ConsoleOperation<T>, options: UseOptions): Promise<T> {
		const provider = await this.resolve(serverId, ctx);
		return this.consoles.use(provider.console(serverId), ctx, op, options);
	}

	async close(): Promise<void> {
		await Promise.allSettled(this.providers.map((p) => p.close?.()));
	}
}

function clashMessage(id: string, first: Provider, second: Provider): string {
	return `server id "${id}" is used by both the ${first.name} and the ${second.name} provider; the ${second.name} one is ignored`;
}
