/** Shared timing helper for the bench suites. */
export interface Row {
	name: string;
	ms: number;
	target?: number;
	note?: string;
}

/** Median of `runs` timed calls after one warm-up call. */
export async function time(
	name: string,
	fn: () => Promise<unknown> | unknown,
	runs = 10,
	target?: number,
	note?: string,
): Promise<Row> {
	await fn();
	const samples: number[] = [];
	for (let i = 0; i < runs; i++) {
		const t0 = performance.now();
		await fn();
		samples.push(performance.now() - t0);
	}
	samples.sort((a, b) => a - b);
	return { name, ms: samples[Math.floor(samples.length / 2)] ?? 0, target, note };
}
