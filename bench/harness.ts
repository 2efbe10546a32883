/**
 * Bench rows: each suite returns rows timed by `time`, index.ts prints them.
 * Wall time is the median of the runs; CPU time (user + system of this
 * process) is reported too, as it stays meaningful on a busy machine.
 * Each stage is warmed up first for WARMUP_MS: until the JIT has compiled the
 * hot loops, its compiler threads add CPU time that steady use never pays.
 */

const WARMUP_MS = 300;
export interface Row {
	name: string;
	/** Median wall-clock milliseconds. */
	ms: number;
	/** Median CPU milliseconds of this process over the same runs. */
	cpuMs: number;
	target?: number;
	/** Which time the target applies to: "wall" (default; I/O-bound stages) or "cpu" (compute on one core). */
	targetOn?: "wall" | "cpu";
}

export async function time(
	name: string,
	fn: () => Promise<unknown> | unknown,
	runs = 10,
	target?: number,
	targetOn: "wall" | "cpu" = "wall",
	/** 0 for stages that can run only a fixed number of times (one warm-up run then). */
	warmupMs = WARMUP_MS,
): Promise<Row> {
	const warmUntil = performance.now() + warmupMs;
	do await fn();
	while (performance.now() < warmUntil);
	const wall: number[] = [];
	const cpu: number[] = [];
	for (let i = 0; i < runs; i++) {
		const c0 = process.cpuUsage();
		const t0 = performance.now();
		await fn();
		wall.push(performance.now() - t0);
		const c = process.cpuUsage(c0);
		cpu.push((c.user + c.system) / 1000);
	}
	const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
	return { name, ms: median(wall), cpuMs: median(cpu), target, targetOn };
}

export function printRows(rows: readonly Row[]): void {
	console.log("| stage | median ms | cpu ms | target ms |");
	console.log("|---|---:|---:|---:|");
	for (const r of rows) {
		const measured = r.targetOn === "cpu" ? r.cpuMs : r.ms;
		const verdict =
			r.target === undefined ? "" : `${measured <= r.target ? " ✓" : " ✗"}${r.targetOn === "cpu" ? " (cpu)" : ""}`;
		console.log(`| ${r.name} | ${r.ms.toFixed(1)} | ${r.cpuMs.toFixed(1)} | ${r.target ?? ""}${verdict} |`);
	}
}
