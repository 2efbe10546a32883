/**
 * Runs the MCP server over HTTP or stdio until a signal stops it.
 */
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { type App, type AppOptions, createApp } from "./app.ts";
import { standaloneContext } from "./call-context.ts";
import { type AppConfig, type ConfigOverrides, loadConfig } from "./config.ts";
import { IkvmError } from "./errors.ts";
import { isLoopbackHost } from "./http/guards.ts";
import { type RunningHttpServer, startHttpServer } from "./http/server.ts";
import { configureLogging, log } from "./log.ts";
import { createMcpServer } from "./mcp/server.ts";

/** How long start-up waits for provider listings to check that server ids are unique. */
const ID_CHECK_TIMEOUT_MS = 10_000;

export interface Running {
	readonly app: App;
	readonly http?: RunningHttpServer;
	stop(): Promise<void>;
}

/** Refuses configurations that would expose consoles to the network unauthenticated. */
function checkExposure(config: AppConfig): void {
	if (config.transport !== "http" || isLoopbackHost(config.host)) return;
	log.warn(`Listening on ${config.host}, which is reachable from other machines.`);
	if (!config.authToken) {
		throw new IkvmError("CONFIG_INVALID", `Refusing to listen on ${config.host} without MCP_AUTH_TOKEN.`, {
			hint: "Set MCP_AUTH_TOKEN to a long random value (clients send it as a Bearer token), or use HOST=127.0.0.1.",
		});
	}
}

export interface ServeOptions extends AppOptions {
	/** Called when the stdio connection fails for good (the process should exit non-zero). */
	onTransportFailure?: (error: Error) => void;
}

export async function startServing(config: AppConfig, options: ServeOptions = {}): Promise<Running> {
	configureLogging({ level: config.logLevel });
	checkExposure(config);
	const app = await createApp(config, options);
	try {
		await app.registry.checkUniqueIds(standaloneContext(AbortSignal.timeout(ID_CHECK_TIMEOUT_MS)));
	} catch (error) {
		await app.close();
		throw error;
	}

	if (config.transport === "stdio") {
		const server = createMcpServer(app.toolDeps);
		const transport = new StdioServerTransport();
		await server.connect(transport);
		watchStdio(transport, options.onTransportFailure ?? (() => {}));
		log.info("ikvm-mcp serving MCP over stdio", { providers: app.registry.providerNames });
		return {
			app,
			async stop() {
				await app.stopCalls();
				await server.close().catch(() => {});
				await app.close();
			},
		};
	}

	const http = startHttpServer({
		host: config.host,
		port: config.port,
		loopbackOnly: isLoopbackHost(config.host),
		allowedOrigins: config.allowedOrigins,
		allowedHosts: config.allowedHosts,
		authToken: config.authToken,
		maxBodyBytes: config.maxBodyBytes,
		maxSessions: 100,
		sessionIdleMs: 30 * 60_000,
		createMcpServer: () => createMcpServer(app.toolDeps),
		health: () => ({ providers: app.registry.providerNames }),
	});
	const providers = app.registry.providerNames;
	log.info(`ikvm-mcp listening on ${http.url}`, {
		providers: providers.length > 0 ? providers : "none configured",
	});
	return {
		app,
		http,
		async stop() {
			// Calls in progress get their "shutting down" error while their sessions are still open.
			await app.stopCalls();
			await http.stop();
			await app.close();
		},
	};
}

/** The SDK's stdio transport refuses a line longer than this (its ReadBuffer limit). */
const STDIO_MAX_LINE = "10 MiB";

/**
 * The SDK's stdio transport closes itself when stdin breaks its rules (a line over its buffer
 * limit) and says nothing; the process would then exit 0 as if the client had left. Say why
 * and report it as a failure.
 */
function watchStdio(transport: StdioServerTransport, onFailure: (error: Error) => void): void {
	let lastError: Error | undefined;
	const protocolError = transport.onerror;
	transport.onerror = (error) => {
		lastError = error;
		protocolError?.(error);
	};
	const protocolClose = transport.onclose;
	transport.onclose = () => {
		protocolClose?.();
		if (!lastError) return;
		const tooLong = /exceeded maximum size/i.test(lastError.message);
		const reason = tooLong
			? new Error(
					`a message on stdin was longer than ${STDIO_MAX_LINE} (the MCP stdio limit); the client must send smaller messages`,
				)
			: lastError;
		log.error("the stdio connection failed; exiting", { error: reason.message });
		onFailure(reason);
	};
}

/** Entry used by `bun start`, `bun run src/index.ts` and `ikvm-mcp serve`. */
export async function serveFromEnvironment(overrides: ConfigOverrides, options: ServeOptions = {}): Promise<Running> {
	const config = loadConfig(process.env, overrides);
	let running: Running | undefined;
	let failed = false;
	running = await startServing(config, {
		...options,
		onTransportFailure: () => {
			failed = true;
			void running?.stop().finally(() => process.exit(1));
		},
	});
	if (failed) {
		await running.stop().catch(() => {});
		process.exit(1);
	}
	installShutdown(running);
	return running;
}

const SHUTDOWN_DEADLINE_MS = 5000;

function installShutdown(running: Running): void {
	let stopping = false;
	const shutdown = (signal: string) => {
		if (stopping) return;
		stopping = true;
		log.info(`${signal} received, closing consoles and exiting`);
		const force = setTimeout(() => {
			log.warn("shutdown took too long; exiting anyway");
			process.exit(1);
		}, SHUTDOWN_DEADLINE_MS);
		force.unref?.();
		running.stop().then(
			() => process.exit(0),
			() => process.exit(1),
		);
	};
	process.on("SIGINT", () => shutdown("SIGINT"));
	process.on("SIGTERM", () => shutdown("SIGTERM"));
	if (running.app.config.transport === "stdio") process.stdin.on("end", () => shutdown("stdin closed"));
}
