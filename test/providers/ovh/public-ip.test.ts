import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cachedDiscovery, httpIpDiscovery } from "../../../src/providers/ovh/public-ip.ts";

let server: ReturnType<typeof Bun.serve>;
let base: string;
let hits = 0;

beforeAll(() => {
	server = Bun.serve({
		hostname: "127.0.0.1",
		port: 0,
		async fetch(req) {
			hits++;
			const path = new URL(req.url).pathname;
			if (path === "/text") return new Response("198.51.100.23\n");
			if (path === "/json") return Response.json({ ip: "198.51.100.24" });
			if (path === "/v6") return new Response("2001:db8::5");
			if (path === "/slow") {
				await Bun.sleep(2000);
				return new Response("198.51.100.25");
			}
			return new Response("nope", { status: 500 });
		},
	});
	base = `http://127.0.0.1:${server.port}`;
});
afterAll(() => server.stop(true));

const signal = () => new AbortController().signal;

describe("public IPv4 discovery", () => {
	test("reads plain text and JSON answers", async () => {
		expect(await httpIpDiscovery(`${base}/text`)(signal())).toBe("198.51.100.23");
		expect(await httpIpDiscovery(`${base}/json`)(signal())).toBe("198.51.100.24");
	});

	test("an IPv6 answer, an error status or a slow service give no address, quickly", async () => {
		expect(await httpIpDiscovery(`${base}/v6`)(signal())).toBeUndefined();
		expect(await httpIpDiscovery(`${base}/error`)(signal())).toBeUndefined();
		const started = Date.now();
		expect(await httpIpDiscovery(`${base}/slow`, 200)(signal())).toBeUndefined();
		expect(Date.now() - started).toBeLessThan(1000);
	});

	test("the answer is remembered, so the service is asked once", async () => {
		const before = hits;
		const discover = cachedDiscovery(httpIpDiscovery(`${base}/text`));
		expect(await discover(signal())).toBe("198.51.100.23");
		expect(await discover(signal())).toBe("198.51.100.23");
		expect(hits - before).toBe(1);
	});
});
