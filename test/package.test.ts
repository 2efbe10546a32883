import { expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./support/ports.ts";
import { runProcess } from "./support/process.ts";

const ROOT = new URL("..", import.meta.url).pathname;

// A missing file in "files" only shows up once the package is installed somewhere else.
test(
	"npm pack produces a tarball that installs into an empty directory and runs",
	async () => {
		const dir = mkdtempSync(join(tmpdir(), "ikvm-pack-"));
		const packed = await runProcess(["npm", "pack", "--pack-destination", dir], { cwd: ROOT });
		expect(packed.code).toBe(0);
		const tarball = readdirSync(dir).find((f) => f.endsWith(".tgz"));
		expect(tarball).toBeDefined();

		const app = join(dir, "app");
		mkdirSync(app);
		writeFileSync(join(app, "package.json"), JSON.stringify({ name: "pack-check", private: true }));
		const installed = await runProcess([process.execPath, "add", join(dir, tarball as string)], { cwd: app });
		expect(installed.code).toBe(0);

		const bin = join(app, "node_modules/.bin/ikvm-mcp");
		const help = await runProcess([bin, "--help"], { cwd: app });
		expect(help.code).toBe(0);
		expect(help.stdout).toContain("Usage");

		const port = await freePort();
		const server = Bun.spawn([bin, "serve", "--port", String(port)], { cwd: app, stdout: "ignore", stderr: "pipe" });
		try {
			let health: unknown;
			for (let i = 0; i < 50 && !health; i++) {
				await Bun.sleep(200);
				health = await fetch(`http://127.0.0.1:${port}/health`)
					.then((r) => r.json())
					.catch(() => undefined);
			}
			expect(health).toMatchObject({ status: "ok" });
		} finally {
			server.kill();
			await server.exited;
		}
	},
	{ timeout: 120_000 },
);

test("README promises no registry package that does not exist, and says how to build one", async () => {
	const readme = await Bun.file(join(ROOT, "README.md")).text();
	expect(readme).not.toMatch(/bunx ikvm-mcp|published package/);
	expect(readme).toContain("npm pack");
	expect(readme).toContain("not published");
});
