/**
 * Composition root: configuration → providers → registry → tool dependencies.
 * Transports (HTTP, stdio) and the CLI all start from here.
 */
import type { AppConfig } from "./config.ts";
import type { AnyConsoleDriver } from "./console/driver.ts";
import { createOpener, DRIVERS } from "./console/drivers.ts";
import { ConsolePool } from "./console/pool.ts";
import type { ConsoleOpener } from "./console/types.ts";
import { CallGate } from "./mcp/calls.ts";
import type { ToolDeps } from "./mcp/deps.ts";
import { buildProviders } from "./providers/index.ts";
import { ProviderRegistry } from "./providers/registry.ts";
import type { Provider } from "./providers/types.ts";
import { registerSecret } from "./redact.ts";
import { closeOcr } from "./text/index.ts";

export interface App {
	readonly config: AppConfig;
	readonly registry: ProviderRegistry;
	/** Warm console sessions shared by every provider. */
	readonly consoles: ConsolePool;
	readonly toolDeps: ToolDeps;
	/** Tool calls in progress. */
	readonly calls: CallGate;
	/**
	 * Stops every tool call in progress with a clear "shutting down" error, refuses
	 * new ones, and waits up to `graceMs` for those results to be sent.
	 */
	stopCalls(graceMs?: number): Promise<void>;
	/** Stops calls, then closes providers and every console session (KVM, VNC, BMC logins). */
	close(): Promise<void>;
}

/** How long shutdown waits for stopped calls to deliver their errors. */
const STOP_GRACE_MS = 1000;

export interface AppOptions {
	/** Providers to use instead of those the configuration enables (tests, demo). */
	providers?: Provider[] | (() => Provider[] | Promise<Provider[]>);
	/** Console kinds besides the built-in ones (tests add fake kinds this way). */
	drivers?: AnyConsoleDriver[];
	/** Replaces the real protocol dispatcher (tests). */
	opener?: ConsoleOpener;
	notice?: string;
	/** Runs after consoles are closed (e.g. stops the demo's simulated hardware). */
	onClose?: () => Promise<void>;
}

export async function createApp(config: AppConfig, options: AppOptions = {}): Promise<App> {
	registerConfigSecrets(config);
	const consoles = new ConsolePool({
		opener: options.opener ?? createOpener([...DRIVERS, ...(options.drivers ?? [])]),
		limits: { maxWidth: config.maxFramebuffer.width, maxHeight: config.maxFramebuffer.height },
		idleMs: config.consoleIdleMs,
		maxConcurrent: config.maxConcurrentConsoles,
		queueTimeoutMs: config.consoleQueueMs,
	});
	const providers =
		typeof options.providers === "function"
			? await options.providers()
			: (options.providers ?? (await buildProviders(config)));
	const registry = new ProviderRegistry(providers, consoles);
	const calls = new CallGate();
	const toolDeps: ToolDeps = { registry, toolTimeoutMs: config.toolTimeoutMs, notice: options.notice, calls };
	const stopCalls = async (graceMs = STOP_GRACE_MS) => {
		calls.close();
		await calls.drained(graceMs);
		// The SDK hands a result to its transport in the microtasks after the handler returns.
		await Bun.sleep(10);
	};
	return {
		config,
		registry,
		consoles,
		toolDeps,
		calls,
		stopCalls,
		async close() {
			await stopCalls();
			await registry.close();
			await consoles.closeAll();
			await options.onClose?.();
			await closeOcr();
		},
	};
}

function registerConfigSecrets(config: AppConfig): void {
	registerSecret(config.authToken);
	if (config.ovh) {
		registerSecret(config.ovh.applicationSecret);
		registerSecret(config.ovh.consumerKey);
	}
}
