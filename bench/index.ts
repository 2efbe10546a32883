/**
 * `bun run bench`: speed and memory of the pipeline stages, with the targets
 * the issues set. Each area has a suite file that returns its rows.
 */
import { imageRows } from "./image.ts";
import type { Row } from "./lib.ts";

const rows: Row[] = [...(await imageRows())];

console.log("| stage | median ms | target ms | note |");
console.log("|---|---:|---:|---|");
for (const r of rows) console.log(`| ${r.name} | ${r.ms.toFixed(1)} | ${r.target ?? ""} | ${r.note ?? ""} |`);
console.log(`\npeak RSS ${(process.memoryUsage().rss / 1048576).toFixed(0)} MiB`);
