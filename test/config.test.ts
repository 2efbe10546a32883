import { describe, expect, test } from "bun:test";
import { DEFAULT_MAX_FRAMEBUFFER, loadConfig } from "../src/config.ts";
import type { IkvmError } from "../src/errors.ts";
import { parseStaticConfig } from "../src/providers/static/config.ts";
import { runCli } from "./support/cli.ts";

function configError(env: Record<string, string>): IkvmError {
	try {
		loadConfig(env);
	} catch (error) {
		return error as IkvmError;
	}
	throw new Error(`expected a configuration error for ${JSON.stringify(env)}`);
}

describe("process configuration is refused at start-up when a value cannot be meant", () => {
	test("an unknown LOG_LEVEL is an error naming the valid levels, like PORT=abc", () => {
		expect(configError({ PORT: "abc" }).code).toBe("CONFIG_INVALID");
		const e = configError({ LOG_LEVEL: "verbose" });
		expect(e.code).toBe("CONFIG_INVALID");
		expect(e.message).toContain("LOG_LEVEL");
		expect(e.message).toContain("debug, info, warn, error, silent");
		expect(loadConfig({ LOG_LEVEL: "DEBUG" }).logLevel).toBe("debug");
		expect(loadConfig({}).logLevel).toBe("info");
	});

	test("MAX_FRAMEBUFFER must be a usable size; the default is 4096x2160", () => {
		for (const bad of ["0x0", "63x63", "8192x0", "99999x1080", "4096*2160"]) {
			const e = configError({ MAX_FRAMEBUFFER: bad });
			expect(e.code).toBe("CONFIG_INVALID");
			expect(e.message).toContain("MAX_FRAMEBUFFER");
		}
		expect(loadConfig({}).maxFramebuffer).toEqual({ width: 4096, height: 2160 });
		expect(DEFAULT_MAX_FRAMEBUFFER).toEqual({ width: 4096, height: 2160 });
		expect(loadConfig({ MAX_FRAMEBUFFER: "8192x8192" }).maxFramebuffer).toEqual({ width: 8192, height: 8192 });
	});

	test("a <NAME> placeholder left from `ikvm-mcp config` is an error, not a credential", () => {
		const e = configError({
			OVH_APPLICATION_KEY: "ak",
			OVH_APPLICATION_SECRET: "<OVH_APPLICATION_SECRET>",
			OVH_CONSUMER_KEY: "ck",
		});
		expect(e.code).toBe("CONFIG_INVALID");
		expect(e.message).toContain("OVH_APPLICATION_SECRET");
		expect(e.message).toContain("placeholder");
		expect(e.hint).toContain("--with-secrets");
		expect(configError({ MCP_AUTH_TOKEN: "<MCP_AUTH_TOKEN>" }).message).toContain("placeholder");
	});

	test("a placeholder in a variable the targets file names is an error too", () => {
		const file = JSON.stringify({
			servers: [{ id: "vm", type: "vnc", host: "127.0.0.1", passwordEnv: "VM_PASSWORD" }],
		});
		expect(() => parseStaticConfig(file, "ikvm.config.json", { VM_PASSWORD: "<VM_PASSWORD>" })).toThrow(
			/VM_PASSWORD is still the placeholder <VM_PASSWORD>/,
		);
	});

	test("the server refuses to start with such a value", async () => {
		const r = await runCli(["serve", "--port", "0"], { LOG_LEVEL: "loud" });
		expect(r.code).not.toBe(0);
		expect(r.stderr).toContain("LOG_LEVEL");
	});
});
