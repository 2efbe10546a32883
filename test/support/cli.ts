/** Runs the real CLI as a subprocess with a clean environment (PATH and HOME only, plus `env`). */
const CLI = new URL("../../src/cli.ts", import.meta.url).pathname;

export async function runCli(args: string[], env: Record<string, string> = {}, cwd?: string) {
	const proc = Bun.spawn([process.execPath, CLI, ...args], {
		env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
		cwd,
		stdout: "pipe",
		stderr: "pipe",
		stdin: "ignore",
	});
	const [stdout, stderr, code] = await Promise.all([
		new Response(proc.stdout).text(),
		new Response(proc.stderr).text(),
		proc.exited,
	]);
	return { stdout, stderr, code };
}

/** A loopback port nothing listens on (taken from the OS, then released). */
export async function closedPort(): Promise<number> {
	const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
	const port = server.port as number;
	await server.stop(true);
	return port;
}
