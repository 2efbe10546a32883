/**
 * The ATEN RFB dialect state machine on its own: the handshake bytes it sends
 * for the bytes it gets, split at every position; server messages with their
 * exact lengths; the no-signal sentinel; resize; 0x39 readings; and fuzzing
 * (fast-check) with random, truncated and hostile input: it answers with
 * events or a typed IkvmError, never a crash, a hang or an oversized buffer.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
	AtenDialect,
	type AtenEvent,
	credentialBlock,
	keepAlive,
	keyEvent,
	pointerEvent,
	powerMessage,
	sessionCode,
	updateRequest,
} from "../../src/aten/dialect.ts";
import { IkvmError } from "../../src/errors.ts";
import { errorOf } from "../support/ikvm-error.ts";

const enc = (s: string) => [...new TextEncoder().encode(s)];
const u16 = (v: number) => [(v >> 8) & 255, v & 255];
const u32 = (v: number) => [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
const TOKEN = "k2Z9xQ0aT7pLmN4s";

function serverInit(km = 1): number[] {
	const pf = [32, 24, 0, 1, ...u16(255), ...u16(255), ...u16(255), 16, 8, 0, 0, 0, 0];
	const name = enc("ATEN iKVM Server");
	return [
		...u16(480),
		...u16(640),
		...pf,
		...u32(name.length),
		...name,
		0,
		0,
		0,
		0,
		0x5d,
		0xfd,
		0x43,
		0xd0,
		1,
		km,
		1,
		1,
	];
}

/** Everything the server sends up to and including ServerInit. */
function handshake(km = 1): number[] {
	return [...enc("RFB 055.008\n"), 1, 16, ...new Array(24).fill(0xa7), ...u32(0), ...serverInit(km)];
}

function fbu(width: number, height: number, payload: number[], encoding = 0x57): number[] {
	return [
		0,
		0,
		...u16(1),
		...u16(0),
		...u16(0),
		...u16(width),
		...u16(height),
		...u32(encoding),
		...u32(0),
		...u32(payload.length),
		...payload,
	];
}

function session(a: number, b: number, text: string): number[] {
	const body = new Array(256).fill(0);
	enc(text).forEach((c, i) => {
		body[i] = c;
	});
	return [0x39, ...u32(a), ...u32(b), ...body];
}

const newDialect = () => new AtenDialect({ token: TOKEN, maxWidth: 2048, maxHeight: 2048, maxPayloadBytes: 1 << 20 });

function feed(bytes: number[], cuts: number[] = []): { events: AtenEvent[]; dialect: AtenDialect } {
	const dialect = newDialect();
	const events: AtenEvent[] = [];
	let at = 0;
	for (const cut of [...cuts, bytes.length]) {
		events.push(...dialect.push(Uint8Array.from(bytes.slice(at, cut))));
		at = cut;
	}
	return { events, dialect };
}

const sent = (events: AtenEvent[]) =>
	events.filter((e): e is Extract<AtenEvent, { kind: "send" }> => e.kind === "send").map((e) => [...e.bytes]);

describe("handshake", () => {
	test("echoes the banner unchanged, picks type 16, sends token + 24 zeros, then ClientInit; ServerInit's 12 extra bytes", () => {
		const { events, dialect } = feed(handshake());
		const out = sent(events);
		expect(out[0]).toEqual(enc("RFB 055.008\n"));
		expect(out[1]).toEqual([16]);
		expect(out[2]).toEqual([...enc(TOKEN), ...new Array(24 - TOKEN.length).fill(0), ...new Array(24).fill(0)]);
		expect(out[3]).toEqual([1]);
		expect(dialect.phase).toBe("streaming");
		expect(dialect.serverInit).toMatchObject({
			name: "ATEN iKVM Server",
			keyboardMouseEnabled: true,
			videoEnabled: true,
		});
		expect(dialect.pending).toBe(0);
	});

	test("the same events whatever way the bytes are split (every single cut)", () => {
		const bytes = [...handshake(), ...fbu(16, 16, [4, 7, 1, 0xa6, 9, 9, 9, 9])];
		const whole = feed(bytes).events;
		for (let cut = 1; cut < bytes.length; cut++) {
			expect(feed(bytes, [cut]).events).toEqual(whole);
		}
	});

	test("a Java-era 003.008 banner is echoed as it is too", () => {
		const bytes = [...enc("RFB 003.008\n"), 1, 16, ...new Array(24).fill(0), ...u32(0), ...serverInit()];
		expect(sent(feed(bytes).events)[0]).toEqual(enc("RFB 003.008\n"));
	});

	test("typed errors: not RFB (aten-banner), no type 16 (aten-auth), refused with a reason, token rejected", () => {
		const notRfb = errorOf(() => feed(enc("HTTP/1.1 400")));
		expect([notRfb.code, notRfb.stage]).toEqual(["PROTOCOL", "aten-banner"]);
		const noType16 = errorOf(() => feed([...enc("RFB 055.008\n"), 2, 1, 2]));
		expect([noType16.code, noType16.stage]).toEqual(["PROTOCOL", "aten-auth"]);
		const refused = errorOf(() => feed([...enc("RFB 055.008\n"), 0, ...u32(4), ...enc("busy")]));
		expect([refused.code, refused.stage]).toEqual(["ACCESS_DENIED", "aten-auth"]);
		expect(refused.message).toContain("busy");
		const rejected = errorOf(() => feed([...enc("RFB 055.008\n"), 1, 16, ...new Array(24).fill(0), ...u32(1)]));
		expect([rejected.code, rejected.stage]).toEqual(["AUTH_FAILED", "aten-auth"]);
	});

	test("a token that does not fit 23 ASCII characters is refused before anything is sent", () => {
		expect(errorOf(() => credentialBlock("x".repeat(24))).stage).toBe("aten-token");
		expect(errorOf(() => credentialBlock("")).stage).toBe("aten-token");
		expect(credentialBlock("x".repeat(23)).length).toBe(48);
	});

	test("need more bytes: a partial message waits, nothing is lost", () => {
		const dialect = newDialect();
		expect(dialect.push(Uint8Array.from(enc("RFB 05")))).toEqual([]);
		expect(dialect.pending).toBe(6);
		expect(sent(dialect.push(Uint8Array.from(enc("5.008\n"))))).toEqual([enc("RFB 055.008\n")]);
	});
});

describe("server messages", () => {
	const streaming = (more: number[]) =>
		feed([...handshake(), ...more]).events.filter((e) => e.kind !== "send" && e.kind !== "ready");

	test("status messages are consumed with their exact lengths (0x16, 0x33, 0x35, 0x37, 0x3C, cursor with bitmap)", () => {
		const cursor = [0x04, ...u32(0), ...u32(0), ...u32(2), ...u32(2), ...u32(1), ...u32(0), ...new Array(8).fill(0xaa)];
		const events = streaming([
			0x16,
			1,
			0x33,
			0,
			0,
			0,
			0,
			0x35,
			1,
			1,
			0,
			0,
			0,
			0x37,
			1,
			0,
			0x3c,
			...new Array(8).fill(0),
			...cursor,
			...fbu(16, 16, [4, 7, 1, 0xa6]),
		]);
		expect(events.map((e) => e.kind)).toEqual(["rect", "update-end"]);
	});

	test("0x37 with 3 bytes on later firmware is detected from what follows", () => {
		const events = streaming([0x37, 1, 0, 0, 0x3c, ...new Array(8).fill(0), ...fbu(16, 16, [4, 7, 1, 0xa6])]);
		expect(events.map((e) => e.kind)).toEqual(["rect", "update-end"]);
	});

	test("the rectangle: 20-byte header, payload exactly dataLen, nRects 0 accepted", () => {
		const events = streaming([...fbu(32, 16, [1, 2, 3, 4, 5]), 0, 0, 0, 0]);
		expect(events[0]).toEqual({
			kind: "rect",
			rect: { x: 0, y: 0, width: 32, height: 16, encoding: 0x57, mode: 0, payload: Uint8Array.from([1, 2, 3, 4, 5]) },
		});
		expect(events.slice(1)).toEqual([
			{ kind: "update-end", rects: 1 },
			{ kind: "update-end", rects: 0 },
		]);
	});

	test("no signal: the −640×−480 sentinel and an empty rectangle; neither resizes", () => {
		const events = streaming([...fbu(64, 48, [1]), ...fbu(0xfd80, 0xfe20, []), ...fbu(64, 48, [])]);
		expect(events.map((e) => e.kind)).toEqual([
			"rect",
			"update-end",
			"no-signal",
			"update-end",
			"no-signal",
			"update-end",
		]);
	});

	test("resolution change: a resize event before the rectangle of the new size", () => {
		const { events, dialect } = feed([...handshake(), ...fbu(64, 48, [1]), ...fbu(128, 96, [1])]);
		const kinds = events.filter((e) => e.kind !== "send").map((e) => e.kind);
		expect(kinds).toEqual(["ready", "rect", "update-end", "resize", "rect", "update-end"]);
		expect(dialect.screen).toEqual({ width: 128, height: 96 });
	});

	test("0x39: text and the code of b, read as values or ASCII digits", () => {
		const events = streaming([...session(1, 4, "3 ADMIN 10.0.0.5"), ...session(2, 0x30303033, "x")]);
		expect(events).toEqual([
			{ kind: "session", message: { a: 1, b: 4, code: 4, notice: "too-many-users", text: "3 ADMIN 10.0.0.5" } },
			{ kind: "session", message: { a: 2, b: 0x30303033, code: 3, notice: "web-logout", text: "x" } },
		]);
		expect(sessionCode(0x00000009)).toBe(9);
		expect(sessionCode(0x00000108)).toBe(18);
	});

	test("unknown type, unknown encoding, oversized rectangle and screen: typed errors", () => {
		expect(errorOf(() => streaming([0x77])).message).toContain("0x77");
		expect(errorOf(() => streaming(fbu(16, 16, [1], 0x58))).stage).toBe("aten-video");
		const huge = errorOf(() =>
			streaming([
				0,
				0,
				...u16(1),
				...u16(0),
				...u16(0),
				...u16(16),
				...u16(16),
				...u32(0x57),
				...u32(0),
				...u32(0x7fffffff),
			]),
		);
		expect(huge.code).toBe("TOO_LARGE");
		expect(errorOf(() => streaming(fbu(4000, 16, [1]))).code).toBe("TOO_LARGE");
	});
});

describe("client messages", () => {
	test("lengths and layouts", () => {
		expect([...updateRequest(false)]).toEqual([3, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
		expect([...updateRequest(true)][1]).toBe(1);
		expect([...keyEvent(0xe1, true)]).toEqual([4, 0, 1, 0, 0, 0, 0, 0, 0xe1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
		expect([...pointerEvent(5, 0x1234, 0x0102)]).toEqual([5, 0, 5, 0x12, 0x34, 0x01, 0x02, ...new Array(11).fill(0)]);
		expect([...keepAlive()]).toEqual([0x15, 0, 0, 0, 1, 0, 0, 0, 0]);
		expect([...powerMessage(3)]).toEqual([0x1a, 3]);
	});
});

describe("fuzz", () => {
	const message = fc.oneof(
		fc.constantFrom(
			[0x16, 1],
			[0x33, 0, 0, 0, 0],
			[0x35, 1, 1, 0, 0, 0],
			[0x37, 1, 0],
			[0x3c, 0, 0, 0, 0, 0, 0, 0, 0],
			session(1, 1, "1 ADMIN 127.0.0.1"),
			fbu(0xfd80, 0xfe20, []),
		),
		fc
			.record({
				w: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.constantFrom(0, 4096, 4097, 65535)),
				h: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.constantFrom(0, 4096, 65535)),
				encoding: fc.oneof(fc.constantFrom(0x57, 0x59, 0), fc.integer()),
				payload: fc.uint8Array({ maxLength: 64 }),
			})
			.map((r) => fbu(r.w, r.h, [...r.payload], r.encoding)),
		fc.uint8Array({ minLength: 1, maxLength: 40 }).map((a) => [...a]),
	);

	test("random and hostile input after the handshake: events or a typed error, bounded memory", () => {
		fc.assert(
			fc.property(
				fc.array(message, { maxLength: 12 }),
				fc.array(fc.nat(400), { maxLength: 6 }),
				(messages, cutsRaw) => {
					const bytes = [...handshake(), ...messages.flat()];
					const cuts = [...new Set(cutsRaw.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
					try {
						const { dialect } = feed(bytes, cuts);
						expect(dialect.pending).toBeLessThanOrEqual(bytes.length);
						const { width, height } = dialect.screen;
						expect(width).toBeLessThanOrEqual(2048);
						expect(height).toBeLessThanOrEqual(2048);
					} catch (error) {
						if (!(error instanceof IkvmError)) throw error;
						expect(error.stage).toMatch(/^aten-/);
					}
				},
			),
			{ numRuns: 400 },
		);
	});

	test("random handshake bytes never crash and never send credentials before type 16 was offered", () => {
		fc.assert(
			fc.property(fc.uint8Array({ maxLength: 120 }), (raw) => {
				const bytes = [...enc("RFB 055.008\n"), ...raw];
				try {
					const { events } = feed(bytes);
					const out = sent(events);
					if (out.length >= 3) expect(out[1]).toEqual([16]);
				} catch (error) {
					if (!(error instanceof IkvmError)) throw error;
				}
			}),
			{ numRuns: 400 },
		);
	});

	test("a failed dialect stays failed and ignores further bytes", () => {
		const dialect = newDialect();
		expect(() => dialect.push(Uint8Array.from(enc("garbage!!!!!")))).toThrow(IkvmError);
		expect(dialect.phase).toBe("failed");
		expect(dialect.push(Uint8Array.from(handshake()))).toEqual([]);
	});
});
