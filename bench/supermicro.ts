/**
 * Supermicro path against the mock Supermicro BMC on loopback: CGI login →
 * entry_value → ATEN dialect over WSS → 0x57 decode → PNG, cold (login, token,
 * socket, handshake, first frame, close, logout) and warm (one update request
 * round trip), and typing speed at the default key pacing with the loss the
 * mock measured (every key event decoded and counted).
 */
import { AtenLogins } from "../src/aten/logins.ts";
import { createAtenOpener } from "../src/aten/open.ts";
import type { AtenConsoleSession } from "../src/aten/session.ts";
import type { SupermicroTarget } from "../src/aten/types.ts";
import { standaloneContext } from "../src/call-context.ts";
import { sampleConsolePicture } from "../src/demo/console-picture.ts";
import { MockSupermicroBmc, screenFrames } from "../src/demo/supermicro-bmc.ts";
import { encodePng } from "../src/image/encode.ts";
import type { KeyStroke } from "../src/input/types.ts";
import { type Row, time } from "./harness.ts";

const LIMITS = { maxWidth: 8192, maxHeight: 8192 };

export async function supermicroSuite(): Promise<Row[]> {
	const rows: Row[] = [];
	for (const [w, h] of [
		[1024, 768],
		[1920, 1080],
	] as const) {
		const picture = sampleConsolePicture(w, h);
		const bmc = await new MockSupermicroBmc({ frames: screenFrames(() => picture, { mode: "420" }) }).start();
		const open = createAtenOpener({ logins: new AtenLogins() });
		const target: SupermicroTarget = {
			kind: "supermicro",
			url: bmc.origin,
			username: bmc.username,
			password: bmc.password,
			tls: { insecure: true },
		};
		rows.push(
			await time(`Supermicro login → PNG, cold ${w}x${h}`, async () => {
				const session = await open(target, standaloneContext(), LIMITS);
				await encodePng(await session.capture(standaloneContext()));
				await session.close();
			}),
		);
		const warm = await open(target, standaloneContext(), LIMITS);
		await warm.capture(standaloneContext());
		rows.push(
			await time(
				`Supermicro → PNG, warm ${w}x${h}`,
				async () => encodePng(await warm.capture(standaloneContext())),
				20,
				150,
			),
		);
		if (w === 1024) rows.push(await typing(warm as AtenConsoleSession, bmc));
		await warm.close();
		await bmc.stop();
	}
	return rows;
}

/** 100 shifted and plain characters at the default pacing; the row's name carries keys/s and the loss. */
async function typing(session: AtenConsoleSession, bmc: MockSupermicroBmc): Promise<Row> {
	const strokes: KeyStroke[] = Array.from({ length: 100 }, (_, i) => ({
		kind: "stroke",
		usage: 0x04 + (i % 26),
		modifiers: i % 3 === 0 ? [0xe1] : [],
		keysym: 0,
		modifierKeysyms: [],
		label: "char",
	}));
	const events = strokes.reduce((n, s) => n + 2 + 2 * s.modifiers.length, 0);
	const before = bmc.keyEvents.length;
	const t0 = performance.now();
	const c0 = process.cpuUsage();
	await session.sendKeys(strokes, standaloneContext());
	const wall = performance.now() - t0;
	const cpu = process.cpuUsage(c0);
	const until = Date.now() + 2000;
	while (bmc.keyEvents.length - before < events && Date.now() < until) await Bun.sleep(5);
	const lost = events - (bmc.keyEvents.length - before);
	const rate = Math.round((strokes.length / wall) * 1000);
	return {
		name: `Supermicro send_keys 100 chars: ${rate} keys/s, ${lost} of ${events} key events lost`,
		ms: wall,
		cpuMs: (cpu.user + cpu.system) / 1000,
	};
}
