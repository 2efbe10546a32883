/**
 * Every targets-file error points users to README's "Configured targets": the section must
 * exist, document every field of every target type the drivers accept, and its examples must
 * be files the server accepts.
 */
import { describe, expect, test } from "bun:test";
import type { z } from "zod";
import { DRIVERS } from "../../../src/console/drivers.ts";
import type { IkvmError } from "../../../src/errors.ts";
import { parseStaticConfig } from "../../../src/providers/static/config.ts";

const readme = await Bun.file(new URL("../../../README.md", import.meta.url)).text();

function section(): string {
	const start = readme.indexOf("### Configured targets\n");
	expect(start).toBeGreaterThanOrEqual(0);
	const next = readme.indexOf("\n### ", start + 10);
	return readme.slice(start, next < 0 ? undefined : next);
}

describe("README, Configured targets", () => {
	test("config errors point to a section that exists", () => {
		let error: IkvmError | undefined;
		try {
			parseStaticConfig('{"servers": [{"id": "x", "type": "vnc"}]}', "t.json", {});
		} catch (e) {
			error = e as IkvmError;
		}
		expect(error?.hint).toContain("'Configured targets'");
		section();
		expect(readme).toContain("(#configured-targets)");
	});

	for (const driver of DRIVERS) {
		test(`documents every field of "type": "${driver.type}"`, () => {
			const text = section();
			expect(text).toContain(`**\`"type": "${driver.type}"\`**`);
			const shape = (driver.configSchema as unknown as z.ZodObject).shape;
			for (const field of Object.keys(shape)) expect(text).toContain(`| \`${field}\` |`);
		});
	}

	test("documents passwordEnv/usernameEnv and tls", () => {
		const text = section();
		for (const word of ["passwordEnv", "usernameEnv", '{ "insecure": true }']) expect(text).toContain(word);
	});

	test("each example is a file the server accepts, one per type at least", () => {
		const blocks = [...section().matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1] as string);
		const typesSeen = new Set<string>();
		for (const block of blocks) {
			let json: { servers?: Array<{ type: string }> };
			try {
				json = JSON.parse(block);
			} catch {
				continue; // the schematic outline
			}
			const env = Object.fromEntries(
				[...block.matchAll(/"(?:password|username)Env":\s*"(\w+)"/g)].map((m) => [m[1], "x-Long-Enough-9"]),
			);
			const servers = parseStaticConfig(block, "README example", env);
			expect(servers.length).toBe(json.servers?.length ?? -1);
			for (const s of json.servers ?? []) typesSeen.add(s.type);
		}
		for (const driver of DRIVERS) expect(typesSeen.has(driver.type)).toBe(true);
	});
});
