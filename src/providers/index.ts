/**
 * Builds the providers the configuration enables.
 */
import type { AppConfig } from "../config.ts";
import { log } from "../log.ts";
import { OvhProvider } from "./ovh/provider.ts";
import { findConfigFile, loadStaticConfig } from "./static/config.ts";
import { StaticProvider } from "./static/provider.ts";
import type { Provider } from "./types.ts";

export async function buildProviders(config: AppConfig): Promise<Provider[]> {
	const providers: Provider[] = [];
	if (config.ovh) {
		providers.push(
			new OvhProvider(config.ovh, {
				control: { servers: config.control.ovhServers, keyboardLayout: config.control.ovhKeyboardLayout },
			}),
		);
	}
	const file = findConfigFile(config.configPath);
	if (file) {
		const servers = loadStaticConfig(file);
		log.info(`loaded ${servers.length} configured target(s)`, { file });
		providers.push(new StaticProvider(servers));
	}
	return providers;
}
