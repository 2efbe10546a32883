/**
 * Input: keys per second with zero loss, and latency from sending keys to the
 * answer in the screen text.
 *
 * - QEMU (a busybox shell behind QEMU's VNC server, QEMU extended key events):
 *   an 80-character line of mixed printable characters is typed inside
 *   `echo '...'` at several key-event pauses; the line read back from QEMU's own
 *   screendump must equal it (zero loss). Then the latency of `echo $((N*7))`
 *   Enter until `N*7` is in the text of our capture.
 * - Mock BMC (IUSB HID reports to the demo shell): the same line at several
 *   report pauses, checked against what the shell received; latency to the
 *   answer in the text of the decoded AST2500 capture.
 * Rows report milliseconds per key (and keys/s in the name); skipped with a
 * note when QEMU or busybox is missing.
 */
import { createAmiOpener } from "../src/ami/session.ts";
import { standaloneContext } from "../src/call-context.ts";
import type { ConsoleSession } from "../src/console/types.ts";
import { startShellBmc } from "../src/demo/shell-bmc.ts";
import type { KeyStep } from "../src/input/types.ts";
import { readScreenText } from "../src/text/index.ts";
import { createVncOpener } from "../src/vnc/session.ts";
import { line, typed } from "../test/support/keystrokes.ts";
import { bootShellVm, shellVmMissing } from "../test/support/qemu-shell.ts";
import type { Row } from "./harness.ts";

const LIMITS = { maxWidth: 4096, maxHeight: 4096 };
// Mixed, shifted ones included; no quote (it would end the shell quoting) and no "|" (the VGA font draws it like "¦").
// 60 characters: the echoed command fits one row of an 80-column screen.
const LINE = 'Az09!@#$%^&*()_+-=[]{};:",.<>/?`~ The Quick Fox 42 jumps ok';

function ctx(ms = 60_000) {
	return standaloneContext(AbortSignal.timeout(ms));
}

async function timed(session: ConsoleSession, steps: KeyStep[]): Promise<number> {
	const t0 = performance.now();
	const outcome = await session.sendKeys?.(steps, ctx());
	if (outcome?.status !== "delivered") throw new Error(`not delivered: ${outcome?.reason}`);
	return performance.now() - t0;
}

async function untilText(session: ConsoleSession, want: string, ms = 10_000): Promise<boolean> {
	const until = performance.now() + ms;
	let last: string[] = [];
	while (performance.now() < until) {
		const text = await readScreenText(await session.capture(ctx()), { ocr: false });
		if (text.lines.includes(want)) return true;
		last = text.lines;
	}
	console.log(`input bench: "${want}" not on screen; it ends with: ${last.slice(-3).join(" | ")}`);
	return false;
}

function rateRow(where: string, pause: number, chars: number, ms: number, lost: boolean): Row {
	const perKey = ms / chars;
	const rate = (1000 / perKey).toFixed(0);
	return {
		name: `input ${where}: ${chars} chars at ${pause} ms/event → sent at ${rate} keys/s, ${lost ? "LOST KEYS" : "zero loss"}`,
		ms: perKey,
		cpuMs: 0,
	};
}

async function qemuRows(): Promise<Row[]> {
	const missing = shellVmMissing();
	if (missing) {
		console.log(`input bench: QEMU rows skipped (${missing})`);
		return [];
	}
	const vm = await bootShellVm();
	const rows: Row[] = [];
	// A tag per run, so a line left on screen by an earlier run never counts.
	let run = 100;
	const tagged = () => `${run++} ${LINE.slice(4)}`;
	/** Waits (QEMU's screendump) until the echo of `want` follows its command line; true when it does. */
	const echoed = async (want: string, ms: number) => {
		const until = performance.now() + ms;
		while (performance.now() < until) {
			const lines = await vm.screenLines();
			const at = lines.lastIndexOf(want);
			if (at > 0 && (lines[at - 1]?.endsWith(`echo '${want}'`) ?? false)) return true;
			await Bun.sleep(100);
		}
		return false;
	};
	try {
		for (const pause of [0, 2, 10]) {
			const session = await createVncOpener({ keyEventDelayMs: pause })(
				{ kind: "vnc", host: "127.0.0.1", port: vm.vncPort },
				ctx(),
				LIMITS,
			);
			try {
				await session.capture(ctx());
				const want = tagged();
				const t0 = performance.now();
				const sendMs = await timed(session, line(`echo '${want}'`));
				const ok = await echoed(want, 20_000);
				const onScreenMs = performance.now() - t0;
				const keys = want.length + 8;
				rows.push(rateRow("QEMU VNC (QEMU key events)", pause, keys, sendMs, !ok));
				rows.push({
					name: `input QEMU VNC: the same ${keys} keys at ${pause} ms/event until the echo is on screen → ${((1000 * keys) / onScreenMs).toFixed(0)} keys/s end to end`,
					ms: onScreenMs / keys,
					cpuMs: 0,
				});
				// The prompt is back before the next run types (typing ahead of a shell is another test).
				await Bun.sleep(500);
			} finally {
				await session.close();
			}
		}
		const session = await createVncOpener()({ kind: "vnc", url: vm.wsUrl }, ctx(), LIMITS);
		try {
			await session.capture(ctx());
			const latencies: number[] = [];
			for (const n of [11, 12, 13]) {
				const t0 = performance.now();
				await session.sendKeys?.(line(`echo $((${n}*7))`), ctx());
				if (!(await untilText(session, String(n * 7)))) throw new Error("no answer on screen");
				latencies.push(performance.now() - t0);
				await Bun.sleep(300);
			}
			latencies.sort((a, b) => a - b);
			rows.push({
				name: "input QEMU VNC: send_keys `echo $((N*7))` Enter → answer in our capture's screen text (default pace)",
				ms: latencies[1] ?? 0,
				cpuMs: 0,
			});
		} finally {
			await session.close();
		}
	} finally {
		await vm.stop();
	}
	return rows;
}

async function bmcRows(): Promise<Row[]> {
	const rows: Row[] = [];
	const { bmc, shell } = await startShellBmc({ bootMs: 10 });
	try {
		while (shell.state !== "login") await Bun.sleep(10);
		let loggedIn = false;
		for (const pause of [0, 1, 4, 12]) {
			const session = await createAmiOpener({ keepAliveMs: 0, keyReportDelayMs: pause })(
				{ kind: "ami-viewer", viewerUrl: bmc.viewerUrl(), tls: { insecure: true } },
				ctx(),
				LIMITS,
			);
			try {
				await session.capture(ctx());
				if (!loggedIn) await timed(session, [...line("root"), ...line("pw")]);
				loggedIn = true;
				const ms = await timed(session, typed(LINE));
				const got = shell.screenLines().at(-1)?.endsWith(`${LINE}_`) ?? false;
				await timed(session, line(""));
				rows.push(rateRow("mock BMC (IUSB reports)", pause, LINE.length, ms, !got));
			} finally {
				await session.close();
				// The BMC frees the master slot once the connection is gone.
				while (bmc.stats.kvmSessions > 0) await Bun.sleep(10);
			}
		}
		const session = await createAmiOpener({ keepAliveMs: 0 })(
			{ kind: "ami-viewer", viewerUrl: bmc.viewerUrl(), tls: { insecure: true } },
			ctx(),
			LIMITS,
		);
		try {
			await session.capture(ctx());
			const latencies: number[] = [];
			for (const n of [11, 12, 13]) {
				const t0 = performance.now();
				await session.sendKeys?.(line(`echo ${n * 7}`), ctx());
				if (!(await untilText(session, String(n * 7)))) throw new Error("no answer on the BMC screen");
				latencies.push(performance.now() - t0);
			}
			latencies.sort((a, b) => a - b);
			rows.push({
				name: "input mock BMC: send_keys `echo N` Enter → answer in screen text (default pace, AST2500 decode)",
				ms: latencies[1] ?? 0,
				cpuMs: 0,
			});
		} finally {
			await session.close();
		}
	} finally {
		shell.stop();
		await bmc.stop();
	}
	return rows;
}

export async function inputSuite(): Promise<Row[]> {
	return [...(await bmcRows()), ...(await qemuRows())];
}

if (import.meta.main) {
	const { printRows } = await import("./harness.ts");
	printRows(await inputSuite());
}
