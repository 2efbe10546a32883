/**
 * Structured logging to stderr only: in stdio mode stdout belongs to the
 * protocol. Every line passes through the redaction layer.
 */
import { redact } from "./redact.ts";

export const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export type LogSink = (line: string) => void;

const stderrSink: LogSink = (line) => {
	process.stderr.write(`${line}\n`);
};

let threshold: number = ORDER.info;
let sink: LogSink = stderrSink;
let format: "text" | "json" = "text";

export function configureLogging(options: { level?: LogLevel; format?: "text" | "json"; sink?: LogSink }): void {
	if (options.level) threshold = ORDER[options.level];
	if (options.format) format = options.format;
	if (options.sink) sink = options.sink;
}

export function parseLogLevel(value: string | undefined): LogLevel {
	const v = (value ?? "info").toLowerCase();
	return v in ORDER ? (v as LogLevel) : "info";
}

type Fields = Record<string, unknown>;

function render(level: LogLevel, scope: string, message: string, fields?: Fields): string {
	const time = new Date().toISOString();
	if (format === "json") {
		return JSON.stringify({ time, level, scope, msg: message, ...fields });
	}
	const extra = fields && Object.keys(fields).length > 0 ? ` ${formatFields(fields)}` : "";
	return `${time} ${level.toUpperCase().padEnd(5)} [${scope}] ${message}${extra}`;
}

function formatFields(fields: Fields): string {
	return Object.entries(fields)
		.filter(([, v]) => v !== undefined)
		.map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
		.join(" ");
}

export interface Logger {
	debug(message: string, fields?: Fields): void;
	info(message: string, fields?: Fields): void;
	warn(message: string, fields?: Fields): void;
	error(message: string, fields?: Fields): void;
	child(scope: string): Logger;
}

export function createLogger(scope: string): Logger {
	const emit = (level: LogLevel, message: string, fields?: Fields) => {
		if (ORDER[level] < threshold) return;
		sink(redact(render(level, scope, message, fields)));
	};
	return {
		debug: (m, f) => emit("debug", m, f),
		info: (m, f) => emit("info", m, f),
		warn: (m, f) => emit("warn", m, f),
		error: (m, f) => emit("error", m, f),
		child: (sub) => createLogger(`${scope}:${sub}`),
	};
}

export const log = createLogger("ikvm");
