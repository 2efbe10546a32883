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
		// JSON.stringify escapes C0 controls but not C1 or U+2028/2029; those become \u escapes too.
		return escapeControl(JSON.stringify({ time, level, scope, msg: message, ...fields }));
	}
	const extra = fields && Object.keys(fields).length > 0 ? ` ${formatFields(fields)}` : "";
	return `${time} ${level.toUpperCase().padEnd(5)} [${escapeControl(scope)}] ${escapeControl(message)}${extra}`;
}

/**
 * C0/C1 control characters (newline, ESC, …) and Unicode line separators as visible escapes: a
 * server id, desktop name or BMC answer must not start a forged log line or drive the terminal.
 */
function isControl(code: number): boolean {
	return code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029;
}

const NAMED: Record<number, string> = { 10: "\\n", 13: "\\r", 9: "\\t" };

export function escapeControl(text: string): string {
	let out = "";
	let from = 0;
	for (let i = 0; i < text.length; i++) {
		const code = text.charCodeAt(i);
		if (!isControl(code)) continue;
		out += text.slice(from, i) + (NAMED[code] ?? `\\u${code.toString(16).padStart(4, "0")}`);
		from = i + 1;
	}
	return from === 0 ? text : out + text.slice(from);
}

function formatFields(fields: Fields): string {
	return Object.entries(fields)
		.filter(([, v]) => v !== undefined)
		.map(([k, v]) => `${escapeControl(k)}=${formatValue(v)}`)
		.join(" ");
}

/** Plain words stay bare; anything with blanks, quotes, `=` or controls is quoted, so no value poses as another field. */
function formatValue(value: unknown): string {
	if (typeof value !== "string") return escapeControl(JSON.stringify(value) ?? String(value));
	const bare = value !== "" && /^[^\s"=]*$/.test(value) && escapeControl(value) === value;
	return bare ? value : escapeControl(JSON.stringify(value));
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
