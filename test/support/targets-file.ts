/** Targets files (`{ "servers": [...] }`) in temp dirs that are removed when the test run ends. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dirs: string[] = [];

/** Called once after the last test file (test/setup.ts): bun test fires no process "exit" event. */
export function removeTempDirs(): void {
	for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A new empty directory, for a targets file and whatever else the test writes beside it. */
export function tempDir(prefix = "ikvm-test-"): string {
	const dir = mkdtempSync(join(tmpdir(), prefix));
	dirs.push(dir);
	return dir;
}

/** Writes the servers as a targets file; returns its path. */
export function writeTargets(servers: unknown[], dir = tempDir(), name = "targets.json"): string {
	const file = join(dir, name);
	writeFileSync(file, JSON.stringify({ servers }));
	return file;
}

/** A targets-file entry for a BMC reached by direct login (the mock's self-signed certificate accepted). */
export function amiLoginServer(id: string, bmc: { origin: string; username: string }, passwordEnv: string) {
	return { id, type: "ami", url: bmc.origin, username: bmc.username, passwordEnv, tls: { insecure: true } };
}
