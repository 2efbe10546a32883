/**
 * The real server as a subprocess (`bun run src/index.ts`, or another script such as the demo) on a
 * free loopback port, with every byte it writes to stdout and stderr kept.
 */
import { freePort } from "./ports.ts";
import { cleanEnv } from "./process.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

export interface ServerProcess {
	readonly proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
	/** http://127.0.0.1:<port>/mcp */
	readonly url: string;
	readonly origin: string;
	/** Everything written so far. */
	stdout(): string;
	stderr(): string;
	/** Sends `signal` and waits for the exit: code and milliseconds taken. */
	stop(signal?: NodeJS.Signals): Promise<{ code: number; ms: number }>;
}

function collect(stream: ReadableStream<Uint8Array>, into: { text: string }): Promise<void> {
	return (async () => {
		const decoder = new TextDecoder();
		for await (const chunk of stream) into.text += decoder.decode(chunk, { stream: true });
	})();
}

/**
 * Starts `bun run <script>` (src/index.ts unless told) with exactly `env` (plus PATH, HOME and the
 * port) and waits for /health.
 */
export async function spawnServer(
	env: Record<string, string>,
	args: string[] = [],
	script = "src/index.ts",
): Promise<ServerProcess> {
	const port = await freePort();
	const proc = Bun.spawn([process.execPath, "run", script, ...args], {
		cwd: ROOT,
		env: cleanEnv({ PORT: String(port), ...env }),
		stdin: "ignore",
		stdout: "pipe",
		stderr: "pipe",
	});
	const out = { text: "" };
	const err = { text: "" };
	const drained = Promise.all([collect(proc.stdout, out), collect(proc.stderr, err)]);
	const origin = `http://127.0.0.1:${port}`;
	const deadline = Date.now() + 15_000;
	for (;;) {
		if (proc.exitCode !== null) throw new Error(`the server exited with ${proc.exitCode}: ${err.text}`);
		const ok = await fetch(`${origin}/health`).then(
			(r) => r.ok,
			() => false,
		);
		if (ok) break;
		if (Date.now() > deadline) {
			proc.kill("SIGKILL");
			throw new Error(`the server did not answer /health within 15 s: ${err.text}`);
		}
		await Bun.sleep(50);
	}
	return {
		proc,
		url: `${origin}/mcp`,
		origin,
		stdout: () => out.text,
		stderr: () => err.text,
		async stop(signal = "SIGTERM") {
			const started = performance.now();
			if (proc.exitCode === null) proc.kill(signal);
			const killer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
			const code = await proc.exited;
			clearTimeout(killer);
			const ms = performance.now() - started;
			await drained;
			return { code, ms };
		},
	};
}
