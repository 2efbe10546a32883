/** Runs the real CLI as a subprocess with a clean environment (PATH and HOME only, plus `env`). */
import { cleanEnv, type ProcessResult, runProcess } from "./process.ts";

const CLI = new URL("../../src/cli.ts", import.meta.url).pathname;

export function runCli(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<ProcessResult> {
	return runProcess([process.execPath, CLI, ...args], { env: cleanEnv(env), cwd });
}
