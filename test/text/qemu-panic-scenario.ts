/**
 * End to end on a real console: a Linux kernel panics in QEMU; the server reaches it through the VNC
 * path, waits for the panic with wait_for_screen, and get_screen_text must return the panic line
 * exactly as QEMU's own screendump and the kernel's serial log show it. Shared by the VGA text-mode
 * and framebuffer-console test files (one VM per file).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { standaloneContext } from "../../src/call-context.ts";
import { openConsole } from "../../src/console/drivers.ts";
import { isIkvmError } from "../../src/errors.ts";
import { recognizeBitmap } from "../../src/text/bitmap.ts";
import { inMemoryClient, texts } from "../support/mcp.ts";
import { PoolProvider } from "../support/pool-provider.ts";
import { freePort } from "../support/ports.ts";
import { bootPanicVm, type QemuVm, qemuMissing } from "../support/qemu.ts";

/** Whether this build has a VNC console path. */
async function vncMissing(): Promise<string | undefined> {
	try {
		const port = await freePort();
		const session = await openConsole(
			{ kind: "vnc", host: "127.0.0.1", port },
			standaloneContext(AbortSignal.timeout(2000)),
			{ maxWidth: 4096, maxHeight: 4096 },
		);
		await session.close();
	} catch (error) {
		if (isIkvmError(error) && error.code === "NOT_SUPPORTED") return "this build has no VNC console path yet";
	}
	return undefined;
}

export interface PanicScenario {
	name: string;
	/** Extra kernel command line. */
	append?: string;
	width: number;
	height: number;
	cols: number;
	rows: number;
}

export async function describePanicScenario(scenario: PanicScenario): Promise<void> {
	const skip = qemuMissing() ?? (await vncMissing());
	if (skip) console.log(`skipping the QEMU kernel-panic text test (${scenario.name}): ${skip}`);

	describe.skipIf(skip !== undefined)(`kernel panic in QEMU, ${scenario.name}, read through VNC`, () => {
		let vm: QemuVm;
		beforeAll(async () => {
			vm = await bootPanicVm({ append: scenario.append });
		});
		afterAll(async () => {
			await vm?.stop();
		});

		test("wait_for_screen sees the panic; get_screen_text returns the panic line as QEMU shows it", async () => {
			const c = await inMemoryClient({
				providers: () => [new PoolProvider({ "qemu-panic": { kind: "vnc", url: vm.wsUrl } })],
			});
			try {
				const waited = (await c.client.callTool(
					{
						name: "wait_for_screen",
						arguments: { serverId: "qemu-panic", text: "end Kernel panic", timeoutSeconds: 120, intervalSeconds: 1 },
					},
					undefined,
					{ timeout: 180_000 },
				)) as CallToolResult;
				expect(waited.isError).toBeFalsy();
				expect(waited.structuredContent).toMatchObject({ status: "matched", method: "bitmap-font" });

				const result = (await c.client.callTool({
					name: "get_screen_text",
					arguments: { serverId: "qemu-panic" },
				})) as CallToolResult;
				expect(result.isError).toBeFalsy();
				const { lines, method, grid } = result.structuredContent as {
					lines: string[];
					method: string;
					grid: { cols: number; rows: number };
				};
				expect(method).toBe("bitmap-font");
				expect(grid).toMatchObject({ cols: scenario.cols, rows: scenario.rows });

				// QEMU's own picture of the same screen, read the same way.
				const dump = await vm.screendump();
				expect([dump.width, dump.height]).toEqual([scenario.width, scenario.height]);
				const fromDump = recognizeBitmap(dump).lines;
				const panic = lines.find((l) => l.includes("Kernel panic - not syncing"));
				expect(panic).toBeDefined();
				expect(fromDump).toContain(panic as string);
				expect(lines).toEqual(fromDump);

				// And the kernel's own words from the serial port: the screen row is its first `cols` columns.
				const serial = vm
					.serialLog()
					.split("\n")
					.find((l) => l.includes("Kernel panic - not syncing") && !l.includes("end Kernel panic"));
				expect(serial).toBeDefined();
				expect(panic).toBe((serial as string).slice(0, scenario.cols).trimEnd());
				expect(texts(result).join("\n")).toContain(panic as string);
			} finally {
				await c.close();
			}
		}, 200_000);
	});
}
