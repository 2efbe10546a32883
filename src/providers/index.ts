/**
 * Builds the providers the configuration enables.
 */
import type { AppConfig } from "../config.ts";
import type { ConsolePool } from "../console/pool.ts";
import type { Provider } from "./types.ts";

export async function buildProviders(_config: AppConfig, _consoles: ConsolePool): Promise<Provider[]> {
	return [];
}
