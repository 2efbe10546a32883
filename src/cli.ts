#!/usr/bin/env bun
/**
 * ikvm-mcp command line: serve MCP, or use the same providers directly.
 * Exit codes: 0 ok, 1 runtime failure, 2 usage error. Data goes to stdout,
 * progress and errors to stderr.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createApp } from "./app.ts";
import type { CallContext } from "./call-context.ts";
import { COMMON_OPTIONS, parse, parseRegion, processIo, UsageError } from "./cli/args.ts";
import { CLIENT_FILES, CLIENTS, type ClientName, renderClientConfig, targetsFileVars } from "./cli/client-config.ts";
import { decodeFrameCommand } from "./cli/decode-frame.ts";
import { doctorCommand } from "./cli/doctor/command.ts";
import { ovhCredentialsCommand } from "./cli/ovh-credentials.ts";
import { loadConfig } from "./config.ts";
import { watchScreen } from "./console/watch.ts";
import { isIkvmError } from "./errors.ts";
import { renderScreenshot } from "./image/render.ts";
import { configureLogging } from "./log.ts";
import { findConfigFile } from "./providers/static/config.ts";
import { serveFromEnvironment } from "./serve.ts";
import { readScreenText } from "./text/index.ts";
import { parsePattern } from "./text/pattern.ts";
import { VERSION } from "./version.ts";

const MAIN_USAGE = `ikvm-mcp ${VERSION} — console screenshots of bare-metal servers for LLM agents (MCP)

Usage:
  ikvm-mcp [serve] [--stdio] [--port N] [--host H] [--config FILE]   serve MCP (HTTP /mcp, or stdio)
  ikvm-mcp list [--config FILE]                                      list servers as JSON
  ikvm-mcp screenshot <serverId> [-o shot.png] [--raw] [--region x,y,w,h] [--config FILE]
  ikvm-mcp text <serverId> [--region x,y,w,h] [--json] [--config FILE]   the screen's text
  ikvm-mcp wait <serverId> [PATTERN] [--timeout S] [--interval S] [--json]   wait for text, or a still screen
  ikvm-mcp config <client> [--with-secrets] [--demo]                MCP client setup (${"claude-code, claude-desktop, cursor, windsurf"})
  ikvm-mcp ovh-credentials [--endpoint eu|ca|us] [--application-key AK]   ask OVH for a consumer key
  ikvm-mcp doctor [--config FILE]                                    check everything a screenshot needs
  ikvm-mcp decode-frame [--colors ami|bt601] <frame.bin> [...] <out.png>   decode captured AST2500 frames
  ikvm-mcp --version

Run "ikvm-mcp <command> --help" for a command's options. Configuration comes from the
environment (OVH_*, IKVM_CONFIG, ...); see README.`;

const SERVE_USAGE = `Usage: ikvm-mcp serve [--stdio] [--port N] [--host H] [--config FILE]

Serves MCP over Streamable HTTP at http://HOST:PORT/mcp (default 127.0.0.1:3001), or over
stdio with --stdio (for clients that launch the server as a command).`;

const LIST_USAGE = `Usage: ikvm-mcp list [--config FILE]

Prints every configured server as a JSON array of {id, name, provider, datacenter, ip}.`;

const SCREENSHOT_USAGE = `Usage: ikvm-mcp screenshot <serverId> [-o FILE.png] [--raw] [--region x,y,w,h] [--config FILE]

Captures the console of <serverId> as PNG, to FILE (-o) or to stdout when stdout is not a terminal.
--raw keeps the exact framebuffer pixels; --region crops to framebuffer pixels first.`;

const TEXT_USAGE = `Usage: ikvm-mcp text <serverId> [--region x,y,w,h] [--json] [--config FILE]

Reads the console text of <serverId> (as get_screen_text does) and prints its lines on stdout;
how it was read (bitmap font or OCR, confidence) goes to stderr. --json prints the whole result.`;

const WAIT_USAGE = `Usage: ikvm-mcp wait <serverId> [PATTERN] [--timeout SECONDS] [--interval SECONDS] [--json] [--config FILE]

Watches the console of <serverId> (as wait_for_screen does) until PATTERN (a JavaScript regular
expression, or /pattern/flags) appears, or, without PATTERN, until the screen stops changing.
Prints the screen's lines on stdout; exit 0 when it matched or settled, 1 on timeout (the last
screen is still printed). Defaults: --timeout 60, --interval 2.`;

const CONFIG_USAGE = `Usage: ikvm-mcp config <client> [--with-secrets] [--config FILE] [--demo] [--url URL]

Prints the MCP configuration for <client> (${CLIENTS.join(", ")}) that runs this checkout, with the
environment variables you have set (OVH_*, ...), the targets file (--config, IKVM_CONFIG or
./ikvm.config.json) as an absolute IKVM_CONFIG, and every variable that file names. Secrets are
printed as <NAME> placeholders unless --with-secrets is given. --demo prints the demo (simulated
hardware, no credentials) instead. --url is the HTTP endpoint (default http://localhost:3001/mcp).`;

type Command = (argv: string[]) => Promise<number>;

function stderr(line: string): void {
	process.stderr.write(`${line}\n`);
}

/** Aborted by Ctrl-C, so network waits end with a clear error instead of a hang. */
function interruptSignal(): AbortSignal {
	const controller = new AbortController();
	process.once("SIGINT", () => controller.abort(new Error("interrupted")));
	return controller.signal;
}

/** Progress for steps that take seconds (OVH task polling, BMC login) goes to stderr. */
function cliContext(): CallContext {
	return {
		signal: interruptSignal(),
		progress: (stage, message) => stderr(`… ${stage}: ${message}`),
	};
}

async function withApp<T>(
	configPath: string | undefined,
	fn: (app: Awaited<ReturnType<typeof createApp>>) => Promise<T>,
) {
	const config = loadConfig(process.env, { configPath });
	configureLogging({ level: process.env.LOG_LEVEL ? config.logLevel : "warn" });
	const app = await createApp(config);
	try {
		return await fn(app);
	} finally {
		await app.close();
	}
}

const serve: Command = async (argv) => {
	const { values, positionals } = parse(
		argv,
		{ ...COMMON_OPTIONS, stdio: { type: "boolean" }, port: { type: "string" }, host: { type: "string" } },
		SERVE_USAGE,
	);
	if (values.help) return help(SERVE_USAGE);
	if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`, SERVE_USAGE);
	const port = values.port === undefined ? undefined : Number(values.port);
	if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
		throw new UsageError("--port must be a number between 0 and 65535", SERVE_USAGE);
	}
	await serveFromEnvironment({
		transport: values.stdio ? "stdio" : undefined,
		port,
		host: values.host,
		configPath: values.config,
	});
	// Keep running until a signal stops the server.
	return new Promise<number>(() => {});
};

const list: Command = async (argv) => {
	const { values, positionals } = parse(argv, COMMON_OPTIONS, LIST_USAGE);
	if (values.help) return help(LIST_USAGE);
	if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`, LIST_USAGE);
	return withApp(values.config, async (app) => {
		if (app.registry.isEmpty) {
			stderr("Nothing is configured: set OVH_* variables or IKVM_CONFIG (see README).");
		}
		const { servers, errors } = await app.registry.listServers(cliContext());
		for (const e of errors) stderr(`provider ${e.provider} failed: ${e.message}`);
		process.stdout.write(`${JSON.stringify(servers, null, 2)}\n`);
		return errors.length > 0 ? 1 : 0;
	});
};

const screenshot: Command = async (argv) => {
	const { values, positionals } = parse(
		argv,
		{ ...COMMON_OPTIONS, output: { type: "string", short: "o" }, raw: { type: "boolean" }, region: { type: "string" } },
		SCREENSHOT_USAGE,
	);
	if (values.help) return help(SCREENSHOT_USAGE);
	if (positionals.length !== 1) throw new UsageError("give exactly one <serverId>", SCREENSHOT_USAGE);
	const serverId = positionals[0] as string;
	const region = values.region === undefined ? undefined : parseRegion(values.region, SCREENSHOT_USAGE);
	if (!values.output && process.stdout.isTTY) {
		throw new UsageError("stdout is a terminal: give -o FILE.png (or redirect stdout)", SCREENSHOT_USAGE);
	}
	return withApp(values.config, async (app) => {
		const frame = await app.registry.capture(serverId, cliContext());
		const shot = await renderScreenshot(frame, { raw: values.raw ?? false, region });
		if (values.output) {
			writeFileSync(values.output, shot.png);
			stderr(`${values.output}: ${shot.width}x${shot.height} PNG (framebuffer ${frame.width}x${frame.height})`);
		} else {
			process.stdout.write(shot.png);
		}
		return 0;
	});
};

const text: Command = async (argv) => {
	const { values, positionals } = parse(
		argv,
		{ ...COMMON_OPTIONS, region: { type: "string" }, json: { type: "boolean" } },
		TEXT_USAGE,
	);
	if (values.help) return help(TEXT_USAGE);
	if (positionals.length !== 1) throw new UsageError("give exactly one <serverId>", TEXT_USAGE);
	const region = values.region === undefined ? undefined : parseRegion(values.region, TEXT_USAGE);
	return withApp(values.config, async (app) => {
		const ctx = cliContext();
		const frame = await app.registry.capture(positionals[0] as string, ctx);
		const screen = await readScreenText(frame, { region, signal: ctx.signal });
		if (values.json) {
			process.stdout.write(`${JSON.stringify(screen, null, 2)}\n`);
		} else {
			stderr(
				`… read by ${screen.method}, confidence ${screen.confidence.toFixed(2)}${screen.font ? `, font ${screen.font}` : ""}`,
			);
			process.stdout.write(screen.lines.map((l) => `${l}\n`).join(""));
		}
		return 0;
	});
};

const wait: Command = async (argv) => {
	const { values, positionals } = parse(
		argv,
		{ ...COMMON_OPTIONS, timeout: { type: "string" }, interval: { type: "string" }, json: { type: "boolean" } },
		WAIT_USAGE,
	);
	if (values.help) return help(WAIT_USAGE);
	if (positionals.length < 1 || positionals.length > 2) {
		throw new UsageError("give <serverId> and at most one PATTERN", WAIT_USAGE);
	}
	const number = (value: string | undefined, fallback: number, name: string, min: number, max: number) => {
		if (value === undefined) return fallback;
		const n = Number(value);
		if (!Number.isFinite(n) || n < min || n > max) {
			throw new UsageError(`--${name} must be a number of seconds from ${min} to ${max}`, WAIT_USAGE);
		}
		return n;
	};
	const timeoutS = number(values.timeout, 60, "timeout", 1, 3600);
	const intervalS = number(values.interval, 2, "interval", 0.5, 60);
	const pattern = positionals[1] === undefined ? undefined : parsePattern(positionals[1]);
	const serverId = positionals[0] as string;
	return withApp(values.config, async (app) => {
		const ctx = cliContext();
		const result = await watchScreen((c) => app.registry.capture(serverId, c), {
			pattern,
			timeoutMs: timeoutS * 1000,
			intervalMs: intervalS * 1000,
			captureTimeoutMs: app.config.toolTimeoutMs,
			signal: ctx.signal,
			report: (message) => stderr(`… ${message}`),
		});
		const seconds = Math.round(result.elapsedMs / 100) / 10;
		if (values.json) {
			const { frame: _frame, ...rest } = result;
			process.stdout.write(`${JSON.stringify({ ...rest, elapsedSeconds: seconds }, null, 2)}\n`);
		} else {
			const how =
				result.status === "matched"
					? `found ${pattern} on line ${result.found.line}`
					: result.status === "stable"
						? "the screen stopped changing"
						: `timed out: ${pattern ? `${pattern} did not appear` : "the screen kept changing"}`;
			stderr(`… ${how} after ${seconds} s (${result.polls} polls)`);
			process.stdout.write(result.text.lines.map((l) => `${l}\n`).join(""));
		}
		return result.status === "timeout" ? 1 : 0;
	});
};

const clientConfig: Command = async (argv) => {
	const { values, positionals } = parse(
		argv,
		{
			help: COMMON_OPTIONS.help,
			"with-secrets": { type: "boolean" },
			demo: { type: "boolean" },
			config: COMMON_OPTIONS.config,
			url: { type: "string" },
			root: { type: "string" },
			bun: { type: "string" },
		},
		CONFIG_USAGE,
	);
	if (values.help) return help(CONFIG_USAGE);
	const client = positionals[0];
	if (positionals.length !== 1 || !CLIENTS.includes(client as ClientName)) {
		throw new UsageError(`give one client: ${CLIENTS.join(", ")}`, CONFIG_USAGE);
	}
	const demo = values.demo ?? false;
	// The targets file the server would read here, so the launched one reads it too, from anywhere.
	const targetsFile = demo ? undefined : findConfigFile(values.config ?? process.env.IKVM_CONFIG);
	const named = targetsFile && existsSync(targetsFile) ? targetsFileVars(readFileSync(targetsFile, "utf8")) : undefined;
	if (targetsFile && !existsSync(targetsFile)) stderr(`# warning: the targets file ${targetsFile} does not exist`);
	const text = renderClientConfig({
		client: client as ClientName,
		root: values.root ?? new URL("..", import.meta.url).pathname,
		bun: values.bun ?? process.execPath,
		env: process.env,
		withSecrets: values["with-secrets"] ?? false,
		url: values.url ?? "http://localhost:3001/mcp",
		targetsFile,
		extraVars: named?.vars,
		extraSecretVars: named?.secretVars,
		launch: demo ? "demo" : "server",
	});
	stderr(`# ${client}: ${CLIENT_FILES[client as ClientName]}`);
	process.stdout.write(`${text}\n`);
	return 0;
};

const COMMANDS: Record<string, Command> = {
	serve,
	list,
	screenshot,
	text,
	wait,
	config: clientConfig,
	"ovh-credentials": (argv) => ovhCredentialsCommand(argv, processIo(interruptSignal())),
	doctor: (argv) => doctorCommand(argv, processIo(interruptSignal())),
	"decode-frame": decodeFrameCommand,
};

function help(usage: string): number {
	process.stdout.write(`${usage}\n`);
	return 0;
}

export async function runCli(argv: string[]): Promise<number> {
	const [first, ...rest] = argv;
	if (first === "--help" || first === "-h" || first === "help") return help(MAIN_USAGE);
	if (first === "--version" || first === "-v") {
		process.stdout.write(`${VERSION}\n`);
		return 0;
	}
	if (first === undefined || first.startsWith("-")) return serve(argv);
	const command = COMMANDS[first];
	if (!command) throw new UsageError(`unknown command "${first}"`, MAIN_USAGE);
	return command(rest);
}

/** Runs the CLI and exits with its code. */
export function main(argv: string[]): void {
	runCli(argv).then(
		(code) => process.exit(code),
		(error) => {
			if (error instanceof UsageError) {
				stderr(`ikvm-mcp: ${error.message}\n\n${error.usage}`);
				process.exit(2);
			}
			stderr(`ikvm-mcp: ${isIkvmError(error) ? error.toUserMessage() : String(error)}`);
			process.exit(1);
		},
	);
}

if (import.meta.main) main(process.argv.slice(2));
