/**
 * Builds the providers the configuration enables.
 */
import type { AppConfig } from "../config.ts";
import type { ConsolePool } from "../console/pool.ts";
import { OvhProvider } from "./ovh/provider.ts";
import type { Provider } from "./types.ts";

export async function buildProviders(config: AppConfig, consoles: ConsolePool): Promise<Provider[]> {
	const providers: Provider[] = [];
	if (config.ovh) providers.push(new OvhProvider(config.ovh, consoles));
	return providers;
}
