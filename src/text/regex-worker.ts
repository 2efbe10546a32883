/**
 * Runs one regular expression over screen text off the main thread, so a pattern
 * with catastrophic backtracking costs this worker, never the server's event loop.
 * The caller terminates the worker when its time budget runs out.
 */
declare const self: Worker;

self.onmessage = (event: MessageEvent<{ id: number; source: string; flags: string; text: string }>) => {
	const { id, source, flags, text } = event.data;
	try {
		const started = performance.now();
		const found = new RegExp(source, flags).exec(text);
		// The engine gives up on runaway backtracking after a while and answers "no match": the time tells.
		const ms = performance.now() - started;
		self.postMessage({ id, ms, found: found ? { index: found.index, match: found[0] } : null });
	} catch (error) {
		self.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
	}
};

self.postMessage({ id: 0, ready: true });
