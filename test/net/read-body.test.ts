import { afterAll, describe, expect, test } from "bun:test";
import { readBodyPrefix, readBodyWithin } from "../../src/net/read-body.ts";

/** Sends `chunk` forever, and counts what the client made it send before cancelling. */
const endless = (() => {
	let sent = 0;
	let cancelled = 0;
	const server = Bun.serve({
		hostname: "127.0.0.1",
		port: 0,
		fetch: () =>
			new Response(
				new ReadableStream({
					async pull(controller) {
						await Bun.sleep(1);
						sent += 1024;
						controller.enqueue(new Uint8Array(1024).fill(0x61));
					},
					cancel() {
						cancelled++;
					},
				}),
			),
	});
	return {
		url: `http://127.0.0.1:${server.port}/`,
		sent: () => sent,
		cancelled: () => cancelled,
		stop: () => server.stop(true),
	};
})();
afterAll(() => endless.stop());

function chunked(...parts: string[]): Response {
	const bytes = parts.map((p) => new TextEncoder().encode(p));
	return new Response(
		new ReadableStream({
			pull(controller) {
				const next = bytes.shift();
				if (next) controller.enqueue(next);
				else controller.close();
			},
		}),
	);
}

describe("readBodyWithin", () => {
	test("the whole body when it fits, up to exactly the cap", async () => {
		expect(await readBodyWithin(chunked("ab", "cd", "é"), 6)).toBe("abcdé");
		expect(await readBodyWithin(new Response(null), 6)).toBe("");
	});

	test("undefined one byte past the cap", async () => {
		expect(await readBodyWithin(chunked("ab", "cd", "efg"), 6)).toBeUndefined();
	});

	test("a declared Content-Length past the cap is refused before reading", async () => {
		let pulled = false;
		const body = new ReadableStream({
			pull(controller) {
				pulled = true;
				controller.enqueue(new TextEncoder().encode("abcdefg"));
				controller.close();
			},
		});
		const response = new Response(body, { headers: { "content-length": "7" } });
		expect(await readBodyWithin(response, 6)).toBeUndefined();
		expect(pulled).toBe(false);
	});

	test("an endless body over a socket: cut at the cap, the stream cancelled", async () => {
		expect(await readBodyWithin(await fetch(endless.url), 64 * 1024)).toBeUndefined();
		await Bun.sleep(50);
		expect(endless.cancelled()).toBeGreaterThan(0);
		const sent = endless.sent();
		await Bun.sleep(100);
		expect(endless.sent() - sent).toBeLessThan(16 * 1024);
	});
});

describe("readBodyPrefix", () => {
	test("the first maxBytes, the rest not read", async () => {
		expect(await readBodyPrefix(chunked("abc", "def", "ghi"), 5)).toBe("abcde");
		expect(await readBodyPrefix(chunked("abc"), 5)).toBe("abc");
		expect(await readBodyPrefix(new Response(null), 5)).toBe("");
	});

	test("an endless body over a socket gives its start", async () => {
		expect(await readBodyPrefix(await fetch(endless.url), 3000)).toBe("a".repeat(3000));
	});
});
