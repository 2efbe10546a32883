/**
 * `bun run bench`: speed and memory of the pipeline stages, with the targets
 * the issues set. Each area has a suite file that returns its rows.
 */
import { imageSuite } from "./image.ts";
import type { Row, Suite } from "./lib.ts";
import { vncSuite } from "./vnc.ts";

const suites: Array<[string, Suite]> = [
	["image", imageSuite],
	["vnc", vncSuite],
];

const rows: Row[] = [];
for (const [, suite] of suites) rows.push(...(await suite()));

console.log("| stage | median ms | target ms |");
console.log("|---|---:|---:|");
for (const r of rows) {
	const verdict = r.target === undefined ? "" : r.ms <= r.target ? " ✓" : " ✗";
	console.log(`| ${r.name} | ${r.ms.toFixed(1)} | ${r.target ?? ""}${verdict} |`);
}
console.log(`\npeak RSS ${(process.memoryUsage().rss / 1048576).toFixed(0)} MiB`);
