/** Subprocesses under test: the environment they get and running one to its end. */

/** PATH and HOME only, plus `env`: the developer's own OVH_*, IKVM_* or LOG_* settings never leak in. */
export function cleanEnv(env: Record<string, string> = {}): Record<string, string> {
	return { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env };
}

export interface ProcessResult {
	stdout: string;
	stderr: string;
	code: number;
}

/** Runs `cmd` with no stdin until it exits; `env` replaces the environment when given. */
export async function runProcess(
	cmd: string[],
	options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<ProcessResult> {
	const proc = Bun.spawn(cmd, { cwd: options.cwd, env: options.env, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
	const [stdout, stderr, code] = await Promise.all([
		new Response(proc.stdout).text(),
		new Response(proc.stderr).text(),
		proc.exited,
	]);
	return { stdout, stderr, code };
}
