/**
 * Hands on a real console: QEMU's VNC server in front of a busybox shell. Keys
 * go out as QEMU extended key events (XT scan codes) because QEMU announces
 * them; the screen text read from our own capture must show what the shell
 * answered. One VM for the file; Ctrl+Alt+Delete ends it, so that test is last.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { ConsoleSession } from "../../src/console/types.ts";
import { configureLogging } from "../../src/log.ts";
import { readScreenText } from "../../src/text/index.ts";
import { vncPower } from "../../src/vnc/power.ts";
import { createVncOpener } from "../../src/vnc/session.ts";
import { line } from "../support/keystrokes.ts";
import { inMemoryClient, texts } from "../support/mcp.ts";
import { bootShellVm, type ShellVm, shellVmMissing } from "../support/qemu-shell.ts";
import { tempDir, writeTargets } from "../support/targets-file.ts";
import { LIMITS, tcpTarget, testContext, wsTarget } from "../support/vnc.ts";

const unavailable = shellVmMissing();
if (unavailable) console.warn(`skipping QEMU keyboard tests: ${unavailable}`);

/** Captures until a screen row satisfies `match` (the shell answers within a few hundred ms under TCG). */
async function waitForLine(session: ConsoleSession, match: (line: string) => boolean, ms = 8000): Promise<string[]> {
	const until = Date.now() + ms;
	let lines: string[] = [];
	while (Date.now() < until) {
		lines = (await readScreenText(await session.capture(testContext()), { ocr: false })).lines;
		if (lines.some(match)) return lines;
		await Bun.sleep(150);
	}
	throw new Error(`no matching line; screen ends with: ${lines.slice(-4).join(" | ")}`);
}

describe.skipIf(unavailable !== undefined)("typing into a busybox shell through QEMU's VNC server", () => {
	let vm: ShellVm;
	const open = createVncOpener();

	beforeAll(async () => {
		vm = await bootShellVm();
	}, 120_000);

	afterAll(async () => {
		await vm?.stop();
	});

	for (const transport of ["WebSocket", "TCP"] as const) {
		test(`over ${transport}: echo $((6*7)) answers 42, with QEMU key events`, async () => {
			const target = transport === "WebSocket" ? wsTarget(vm.wsUrl) : tcpTarget(vm.vncPort);
			const session = await open(target, testContext(), LIMITS);
			try {
				await session.capture(testContext());
				expect((session as unknown as { sendsScancodes: boolean }).sendsScancodes).toBe(true);
				const marker = transport === "TCP" ? 5 : 6;
				const steps = line(`echo $((${marker}*7))`);
				const outcome = await session.sendKeys?.(steps, testContext());
				expect(outcome).toEqual({ status: "delivered", sent: steps.length });
				const lines = await waitForLine(session, (l) => l === String(marker * 7));
				const at = lines.lastIndexOf(String(marker * 7));
				expect(lines[at - 1]).toEndWith(`echo $((${marker}*7))`);
			} finally {
				await session.close();
			}
		}, 30_000);
	}

	test("plain KeyEvents (keysyms, QEMU's own en-us keymap) work too: echo $((8*7)) answers 56", async () => {
		const session = await createVncOpener({ keysymsOnly: true })(tcpTarget(vm.vncPort), testContext(), LIMITS);
		try {
			await session.capture(testContext());
			expect((session as unknown as { sendsScancodes: boolean }).sendsScancodes).toBe(false);
			await session.sendKeys?.(line("echo $((8*7))"), testContext());
			const lines = await waitForLine(session, (l) => l === "56");
			expect(lines[lines.lastIndexOf("56") - 1]).toEndWith("echo $((8*7))");
		} finally {
			await session.close();
		}
	}, 30_000);

	test("a 60-character line of mixed printable characters comes back exactly", async () => {
		// Shifted and unshifted, every row of the keyboard; no single quote (it would end the quoting).
		const text = 'Az09!@#$%^&*()_+-=[]{};:",.<>/?|\\`~ The Quick Fox 42 jumps!!';
		expect(text.length).toBe(60);
		const session = await open(wsTarget(vm.wsUrl), testContext(), LIMITS);
		try {
			await session.capture(testContext());
			const outcome = await session.sendKeys?.(line(`echo '${text}'`), testContext(20_000));
			expect(outcome?.status).toBe("delivered");
			// The VGA font draws "|" with a gap, exactly like "¦": the text reader cannot tell them apart.
			const same = (l: string) => l.replaceAll("¦", "|") === text;
			const lines = await waitForLine(session, same);
			const at = lines.findIndex(same);
			expect(lines[at - 1]?.replaceAll("¦", "|")).toEndWith(`echo '${text}'`);
		} finally {
			await session.close();
		}
	}, 40_000);

	test("power over QEMU's VNC: not supported (QEMU does not announce XVP), said clearly", async () => {
		const session = await open(tcpTarget(vm.vncPort), testContext(), LIMITS);
		try {
			await session.capture(testContext());
			const error = await vncPower(tcpTarget(vm.vncPort), "reset", testContext(), (op) =>
				op(session, testContext()),
			).catch((e) => e);
			expect(error.code).toBe("NOT_SUPPORTED");
			expect(error.message).toContain("did not announce the XVP extension");
			expect(vm.exited).toBe(false);
		} finally {
			await session.close();
		}
	});

	describe("through the MCP tools (send_keys, get_screen_text), control on for these targets", () => {
		const LINE = 'Az09!@#$%^&*()_+-=[]{};:",.<>/?`~ The Quick Fox 42 jumps!!';
		let mcp: Awaited<ReturnType<typeof inMemoryClient>>;
		let auditPath: string;
		const logLines: string[] = [];
		const call = async (name: string, args: Record<string, unknown>) =>
			(await mcp.client.callTool({ name, arguments: args })) as CallToolResult;
		const screen = async (serverId: string) => {
			const r = await call("get_screen_text", { serverId });
			expect(r.isError).toBeFalsy();
			return texts(r).join("\n").split("\n");
		};
		const until = async (serverId: string, match: (l: string) => boolean) => {
			const end = Date.now() + 10_000;
			let lines: string[] = [];
			while (Date.now() < end) {
				lines = await screen(serverId);
				if (lines.some(match)) return lines;
				await Bun.sleep(200);
			}
			throw new Error(`not on screen; it ends with ${lines.slice(-3).join(" | ")}`);
		};

		beforeAll(async () => {
			auditPath = join(tempDir("ikvm-audit-"), "audit.jsonl");
			configureLogging({ level: "debug", sink: (l) => logLines.push(l) });
			const file = writeTargets([
				{ id: "qemu-ws", type: "vnc", url: vm.wsUrl, control: true },
				{ id: "qemu-tcp", type: "vnc", host: "127.0.0.1", port: vm.vncPort, control: true },
			]);
			mcp = await inMemoryClient({}, { IKVM_CONFIG: file, IKVM_CONTROL: "all", IKVM_AUDIT_LOG: auditPath });
		});

		afterAll(async () => {
			await mcp?.close();
			configureLogging({ level: "silent" });
		});

		for (const [serverId, n] of [
			["qemu-ws", 3],
			["qemu-tcp", 4],
		] as const) {
			test(`${serverId}: send_keys "echo $((${n}*7)){Enter}" → a line ${n * 7} in get_screen_text`, async () => {
				const r = await call("send_keys", { serverId, keys: `echo $((${n}*7)){Enter}`, then: "none" });
				expect(r.isError).toBeFalsy();
				const lines = await until(serverId, (l) => l === String(n * 7));
				expect(lines[lines.lastIndexOf(String(n * 7)) - 1]).toEndWith(`echo $((${n}*7))`);
			}, 30_000);
		}

		test("a 60-character mixed line typed inside echo '...' comes back exactly", async () => {
			const keys = `echo '${LINE.replaceAll("{", "{{").replaceAll("}", "}}")}'{Enter}`;
			const r = await call("send_keys", { serverId: "qemu-ws", keys, then: "none" });
			expect(r.isError).toBeFalsy();
			// The VGA font draws "|" like "¦"; this line has neither, so the text must be exact.
			const lines = await until("qemu-ws", (l) => l === LINE);
			expect(lines[lines.lastIndexOf(LINE) - 1]).toEndWith(`echo '${LINE}'`);
		}, 30_000);

		test("Ctrl+Alt+Delete: refused without confirmation (nothing sent), with it the guest reboots (QEMU exits)", async () => {
			const refused = await call("send_keys", { serverId: "qemu-tcp", keys: "{Ctrl+Alt+Delete}" });
			expect(refused.isError).toBe(true);
			await Bun.sleep(1000);
			expect(vm.exited).toBe(false);
			const done = await call("send_keys", {
				serverId: "qemu-tcp",
				keys: "{Ctrl+Alt+Delete}",
				confirm: "qemu-tcp",
				then: "none",
			});
			expect(done.isError).toBeFalsy();
			expect(await vm.waitForExit(15_000)).toBe(true);
		}, 30_000);

		test("nothing typed is in the server log or the audit file", () => {
			const audit = readFileSync(auditPath, "utf8");
			expect(audit).toContain('"outcome":"delivered"');
			for (const typed of ["6*7", "3*7", "4*7", "Quick Fox", LINE]) {
				expect(audit).not.toContain(typed);
				expect(logLines.join("\n")).not.toContain(typed);
			}
		});
	});
});
