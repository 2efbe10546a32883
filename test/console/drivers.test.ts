/**
 * The driver list is the one place a console kind is named: a test-only kind
 * is one driver object plus one line (`drivers: [...]`), and the opener, the
 * targets-file schema and the doctor's descriptions all come from the list.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { z } from "zod";
import type { ConsoleDriver } from "../../src/console/driver.ts";
import { createOpener, DRIVERS, describeTarget } from "../../src/console/drivers.ts";
import type { ConsoleTarget } from "../../src/console/types.ts";
import { parseStaticConfig } from "../../src/providers/static/config.ts";
import { StaticProvider } from "../../src/providers/static/provider.ts";
import { testFrame } from "../support/fake-provider.ts";
import { imagePixels, inMemoryClient } from "../support/mcp.ts";

interface PatternTarget extends ConsoleTarget {
	kind: "pattern";
	width: number;
	height: number;
}

let opened = 0;
/** A console kind that exists only in this test: a picture of a given size. */
const patternDriver: ConsoleDriver<PatternTarget> = {
	type: "pattern",
	kinds: ["pattern"],
	title: "test pattern",
	label: "pattern",
	configSchema: z
		.object({ id: z.string(), name: z.string().optional(), type: z.literal("pattern"), size: z.number().int().min(1) })
		.strict(),
	fromConfig: (entry) => ({
		target: { kind: "pattern", width: entry.size as number, height: entry.size as number },
		ip: null,
	}),
	async open(target) {
		opened++;
		let closed = false;
		return {
			description: `pattern ${target.width}x${target.height}`,
			get closed() {
				return closed;
			},
			capture: async () => testFrame(target.width, target.height),
			async close() {
				closed = true;
			},
		};
	},
	describe: (target) => `pattern ${target.width}x${target.height}`,
	stages: ["connect"],
};

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
	await Promise.all(closers.splice(0).map((c) => c()));
});

describe("console drivers", () => {
	test("the built-in list names each kind once, with a schema, an opener and a description", () => {
		const types = DRIVERS.map((d) => d.type);
		expect(new Set(types).size).toBe(types.length);
		const kinds = DRIVERS.flatMap((d) => d.kinds);
		expect(new Set(kinds).size).toBe(kinds.length);
		for (const d of DRIVERS) {
			expect(d.configSchema.shape.type).toBeDefined();
			expect(d.stages.length).toBeGreaterThan(0);
		}
		expect(describeTarget({ kind: "vnc", host: "10.0.0.5", port: 5901 })).toBe("vnc 10.0.0.5:5901");
	});

	test("an unknown kind is a clear NOT_SUPPORTED naming what this build speaks", async () => {
		const error = await createOpener()(
			{ kind: "telepathy" },
			{ signal: new AbortController().signal, progress: () => {} },
			{
				maxWidth: 64,
				maxHeight: 64,
			},
		).catch((e) => e);
		expect(error.code).toBe("NOT_SUPPORTED");
		expect(error.hint).toContain("vnc");
	});

	test("a test-only kind takes one driver object and one line: targets file, pool and tools use it", async () => {
		const drivers = [...DRIVERS, patternDriver];
		const servers = parseStaticConfig(
			JSON.stringify({ servers: [{ id: "pat-1", type: "pattern", size: 24 }] }),
			"test.json",
			{},
			drivers,
		);
		expect(servers[0]?.target).toEqual({ kind: "pattern", width: 24, height: 24 });
		const c = await inMemoryClient({ providers: [new StaticProvider(servers)], drivers: [patternDriver] });
		closers.push(c.close);
		opened = 0;
		const shot = await c.client.callTool({ name: "get_screenshot", arguments: { serverId: "pat-1", raw: true } });
		expect(shot.isError).toBeFalsy();
		expect((await imagePixels(shot as never)).width).toBe(24);
		await c.client.callTool({ name: "get_screen_text", arguments: { serverId: "pat-1" } });
		expect(opened).toBe(1);
	});

	test("an entry of a type no driver has is refused, naming the types there are", () => {
		expect(() =>
			parseStaticConfig(JSON.stringify({ servers: [{ id: "x", type: "pattern", size: 2 }] }), "t.json", {}),
		).toThrow(/servers\[0\]\.type: type must be "vnc", "ami"/);
	});
});
