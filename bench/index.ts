/**
 * `bun run bench`: speed and memory of the pipeline stages, with the targets
 * the issues set. Each area has a suite file that returns its rows.
 */

import { kvmSuite } from "./ami.ts";
import { ast2500Suite } from "./ast2500.ts";
import { atenSuite } from "./aten.ts";
import { printRows, type Row } from "./harness.ts";
import { imageSuite } from "./image.ts";
import { inputSuite } from "./input.ts";
import { pngSuite } from "./png.ts";
import { redfishSuite } from "./redfish.ts";
import { supermicroSuite } from "./supermicro.ts";
import { textSuite } from "./text.ts";
import { vncSuite } from "./vnc.ts";
import { vncServersSuite } from "./vnc-servers.ts";

const suites: Array<() => Promise<Row[]>> = [
	pngSuite,
	imageSuite,
	ast2500Suite,
	atenSuite,
	kvmSuite,
	supermicroSuite,
	vncSuite,
	vncServersSuite,
	redfishSuite,
	textSuite,
	inputSuite,
];

const rows: Row[] = [];
for (const suite of suites) rows.push(...(await suite()));

printRows(rows);
console.log(`\npeak RSS ${(process.memoryUsage().rss / 1048576).toFixed(0)} MiB`);
