/**
 * `ikvm-mcp doctor`: prints the checklist as the checks finish; exit 0 when nothing
 * failed (warnings allowed), 1 otherwise.
 */
import { configureLogging, parseLogLevel } from "../../log.ts";
import { type CliIo, COMMON_OPTIONS, parse, UsageError } from "../args.ts";
import { formatResult, formatSummary, summarize } from "./report.ts";
import { runDoctor } from "./run.ts";

export const DOCTOR_USAGE = `Usage: ikvm-mcp doctor [--config FILE]

Checks, step by step, what a screenshot needs and prints a checklist (✓ pass, ⚠ warning,
✗ failure with its fix, – skipped): the environment and the targets file, the OVH API, this
machine's clock, the OVH credentials and each access rule, each OVH server's IPMI, and whether
each configured VNC server and AMI BMC answers. Opens no console and leaves no session open.
Exit code 0 when nothing failed, 1 otherwise.`;

export async function doctorCommand(argv: string[], io: CliIo): Promise<number> {
	const { values, positionals } = parse(argv, COMMON_OPTIONS, DOCTOR_USAGE);
	if (values.help) {
		io.stdout(`${DOCTOR_USAGE}\n`);
		return 0;
	}
	if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`, DOCTOR_USAGE);
	// Library warnings would interleave with the checklist; every problem is a line of it anyway.
	configureLogging({ level: io.env.LOG_LEVEL ? parseLogLevel(io.env.LOG_LEVEL) : "error" });
	const results = await runDoctor({
		env: io.env,
		configPath: values.config,
		signal: io.signal,
		onResult: (result) => io.stdout(`${formatResult(result)}\n`),
	});
	const summary = summarize(results);
	io.stdout(`\n${formatSummary(summary)}\n`);
	return summary.exitCode;
}
