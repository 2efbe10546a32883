/**
 * Composition root: configuration → providers → registry → tool dependencies.
 * Transports (HTTP, stdio) and the CLI all start from here.
 */
import type { AppConfig } from "./config.ts";
import type { ToolDeps } from "./mcp/server.ts";
import { buildProviders } from "./providers/index.ts";
import { ProviderRegistry } from "./providers/registry.ts";
import type { Provider } from "./providers/types.ts";
import { registerSecret } from "./redact.ts";

export interface App {
	readonly config: AppConfig;
	readonly registry: ProviderRegistry;
	readonly toolDeps: ToolDeps;
	close(): Promise<void>;
}

export interface AppOptions {
	/** Providers to use instead of those the configuration enables (tests, demo). */
	providers?: Provider[];
	notice?: string;
}

export async function createApp(config: AppConfig, options: AppOptions = {}): Promise<App> {
	registerConfigSecrets(config);
	const providers = options.providers ?? (await buildProviders(config));
	const registry = new ProviderRegistry(providers);
	const toolDeps: ToolDeps = { registry, toolTimeoutMs: config.toolTimeoutMs, notice: options.notice };
	return {
		config,
		registry,
		toolDeps,
		close: () => registry.close(),
	};
}

function registerConfigSecrets(config: AppConfig): void {
	registerSecret(config.authToken);
	if (config.ovh) {
		registerSecret(config.ovh.applicationSecret);
		registerSecret(config.ovh.consumerKey);
	}
}
