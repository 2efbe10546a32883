/**
 * Small helpers for the CLI: usage errors (exit 2) and option parsing.
 */
import { type ParseArgsConfig, parseArgs } from "node:util";

export class UsageError extends Error {
	constructor(
		message: string,
		readonly usage: string,
	) {
		super(message);
		this.name = "UsageError";
	}
}

export type Options = NonNullable<ParseArgsConfig["options"]>;

export const COMMON_OPTIONS = {
	config: { type: "string" },
	help: { type: "boolean", short: "h" },
} as const satisfies Options;

export function parse<O extends Options>(argv: string[], options: O, usage: string) {
	try {
		return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
	} catch (error) {
		throw new UsageError((error as Error).message, usage);
	}
}

/** `x,y,w,h` → region. */
export function parseRegion(value: string, usage: string): { x: number; y: number; width: number; height: number } {
	const parts = value.split(",").map((p) => Number(p.trim()));
	if (parts.length !== 4 || parts.some((n) => !Number.isInteger(n) || n < 0)) {
		throw new UsageError(`--region must be x,y,width,height in whole pixels, got "${value}"`, usage);
	}
	const [x, y, width, height] = parts as [number, number, number, number];
	if (width === 0 || height === 0) throw new UsageError("--region width and height must be at least 1", usage);
	return { x, y, width, height };
}

/** Where a command writes and what it reads, so its logic runs in tests without a subprocess. */
export interface CliIo {
	stdout(text: string): void;
	stderr(text: string): void;
	env: Record<string, string | undefined>;
	signal?: AbortSignal;
}

/** The process's own streams and environment. */
export function processIo(signal?: AbortSignal): CliIo {
	return {
		stdout: (text) => process.stdout.write(text),
		stderr: (text) => process.stderr.write(text),
		env: process.env,
		signal,
	};
}
