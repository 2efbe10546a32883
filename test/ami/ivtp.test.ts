import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
	buildAuthBundle,
	buildValidatePayload,
	IvtpParser,
	IvtpProtocol,
	type IvtpStep,
	IvtpType,
	VideoAssembler,
} from "../../src/ami/ivtp.ts";
import { IkvmError } from "../../src/errors.ts";
import { concat, fragment, ivtp, videoFrame } from "../support/video-frame.ts";

const LIMITS = { maxWidth: 1920, maxHeight: 1200, maxFrameBytes: 64 * 1024 * 1024 };

function feedAll(parser: IvtpParser, chunks: Uint8Array[]) {
	return chunks.flatMap((c) => parser.push(c));
}

/** Splits `bytes` at the given offsets. */
function splitAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
	const points = [...new Set(cuts.map((c) => Math.min(Math.max(c, 0), bytes.length)))].sort((a, b) => a - b);
	const out: Uint8Array[] = [];
	let prev = 0;
	for (const p of [...points, bytes.length]) {
		out.push(bytes.subarray(prev, p));
		prev = p;
	}
	return out;
}

describe("IvtpParser", () => {
	const stream = concat(
		ivtp(0x17, 0),
		ivtp(0x13, 2, new Uint8Array([1, 5])),
		ivtp(0x22, 1),
		ivtp(0x19, 0, fragment(0x8000, new Uint8Array([1, 2, 3, 4, 5]))),
	);

	test("parses several packets from one chunk, with types, statuses and payloads", () => {
		const packets = new IvtpParser({ maxPayloadBytes: 1024 }).push(stream);
		expect(packets.map((p) => [p.type, p.status, [...p.payload]])).toEqual([
			[0x17, 0, []],
			[0x13, 2, [1, 5]],
			[0x22, 1, []],
			[0x19, 0, [0, 0x80, 1, 2, 3, 4, 5]],
		]);
	});

	test("gives the same packets whatever the chunking, byte by byte included", () => {
		const whole = new IvtpParser({ maxPayloadBytes: 1024 }).push(stream);
		const bytewise = feedAll(
			new IvtpParser({ maxPayloadBytes: 1024 }),
			[...stream].map((b) => new Uint8Array([b])),
		);
		expect(bytewise).toEqual(whole);
		// Inside a header, at a header/payload boundary, inside a payload.
		const split = feedAll(new IvtpParser({ maxPayloadBytes: 1024 }), splitAt(stream, [3, 8, 12, 17, 18, 30]));
		expect(split).toEqual(whole);
	});

	test("skips unwanted types without buffering them and stays in step", () => {
		const parser = new IvtpParser({ maxPayloadBytes: 1024, keep: (t) => t !== 0x20 });
		const packets = parser.push(
			concat(ivtp(0x20, 2, new Uint8Array(134).fill(0xff)), ivtp(0x17, 0), ivtp(0x99, 0, new Uint8Array(3))),
		);
		expect(packets.map((p) => p.type)).toEqual([0x17, 0x99]);
		expect(parser.skipped).toBe(1);
	});

	test("refuses an absurd size as soon as the header is complete, before any payload arrives", () => {
		const parser = new IvtpParser({ maxPayloadBytes: 1_000_000 });
		const header = ivtp(0x19, 0).slice(0, 8);
		new DataView(header.buffer).setUint32(2, 0xffffffff, true);
		expect(parser.push(header.subarray(0, 7))).toEqual([]);
		expect(() => parser.push(header.subarray(7))).toThrow(/4294967295 bytes/);
	});

	test("refuses an absurd size even for a type it would skip", () => {
		const parser = new IvtpParser({ maxPayloadBytes: 1000, keep: () => false });
		expect(() => parser.push(ivtp(0x55, 0, new Uint8Array(1001)))).toThrow(IkvmError);
	});

	test("reports a packet in progress", () => {
		const parser = new IvtpParser({ maxPayloadBytes: 1024 });
		parser.push(ivtp(0x19, 0, new Uint8Array(10)).subarray(0, 12));
		expect(parser.partial).toEqual({ type: 0x19, received: 4, size: 10 });
	});
});

describe("VideoAssembler", () => {
	test("assembles a header fragment and data fragments into one frame", () => {
		const data = new Uint8Array(100).map((_, i) => i);
		const frame = videoFrame(64, 48, data);
		const asm = new VideoAssembler(LIMITS);
		expect(asm.push(fragment(0, frame.subarray(0, 86 + 10)))).toBeUndefined();
		expect(asm.progress).toEqual({ received: 10, expected: 100 });
		expect(asm.push(fragment(1, frame.subarray(96, 150)))).toBeUndefined();
		const done = asm.push(fragment(0x8002, frame.subarray(150)));
		expect(done?.width).toBe(64);
		expect(done?.height).toBe(48);
		expect(done?.index).toBe(0);
		expect([...(done?.bytes ?? [])]).toEqual([...frame]);
		expect(asm.framesStarted).toBe(1);
		expect(asm.progress).toBeUndefined();
	});

	test("a frame whose first fragment holds all of it completes at once; bytes past CompressSize are dropped", () => {
		const frame = videoFrame(8, 8, new Uint8Array([9, 9, 9, 9]));
		const asm = new VideoAssembler(LIMITS);
		const done = asm.push(fragment(0x8000, concat(frame, new Uint8Array([7, 7]))));
		expect(done?.bytes.length).toBe(90);
		expect(asm.push(fragment(0x8000, frame))?.index).toBe(1);
	});

	test("a longer declared header is skipped and the frame normalised to 86 bytes", () => {
		const frame = videoFrame(8, 8, new Uint8Array([1, 2, 3, 4]));
		const long = concat(frame.subarray(0, 86), new Uint8Array(10), frame.subarray(86));
		new DataView(long.buffer).setUint16(2, 96, true);
		const done = new VideoAssembler(LIMITS).push(fragment(0x8000, long));
		expect([...(done?.bytes.subarray(86) ?? [])]).toEqual([1, 2, 3, 4]);
		expect(new DataView(done?.bytes.buffer ?? new ArrayBuffer(4)).getUint16(2, true)).toBe(86);
	});

	test("refuses frames beyond the size limits before allocating", () => {
		const asm = new VideoAssembler({ maxWidth: 640, maxHeight: 480, maxFrameBytes: 1 << 20 });
		expect(() => asm.push(fragment(0, videoFrame(641, 480)))).toThrow(/641x480, larger than the 640x480 limit/);
		const huge = videoFrame(64, 64);
		new DataView(huge.buffer).setUint32(69, 0x7fffffff, true);
		expect(() => asm.push(fragment(0, huge))).toThrow(/announced 2147483647 bytes/);
		expect(() => asm.push(fragment(0, videoFrame(0, 480)))).toThrow(/0x480/);
		expect(() => asm.push(fragment(0, new Uint8Array(40)))).toThrow(/less than the 86-byte video header/);
		expect(() => asm.push(new Uint8Array(1))).toThrow(/fragment number/);
	});
});

describe("IvtpProtocol", () => {
	const credentials = { token: "t0k3n-one-time", clientIp: "192.0.2.7" };
	const proto = () => new IvtpProtocol({ ...LIMITS, credentials });
	const sends = (steps: IvtpStep[]) => steps.flatMap((s) => (s.kind === "send" ? [s.bytes] : []));
	const types = (bytes: Uint8Array) =>
		new IvtpParser({ maxPayloadBytes: 4096 }).push(bytes).map((p) => [p.type, p.status]);

	test("the validate payload is 373 bytes: flag 0, token, client ip, user, MAC, NUL-padded", () => {
		const p = buildValidatePayload(credentials);
		expect(p.length).toBe(373);
		expect(p[0]).toBe(0);
		const text = (from: number, len: number) =>
			new TextDecoder().decode(p.subarray(from, from + len)).replace(/\0+$/, "");
		expect(text(1, 129)).toBe("t0k3n-one-time");
		expect(text(130, 65)).toBe("192.0.2.7");
		expect(text(195, 129)).toBe("domain/username");
		expect(text(324, 49)).toBe("00-00-00-00-00-00");
		expect(p[1 + 14]).toBe(0);
		expect(() => buildValidatePayload({ ...credentials, token: "x".repeat(129) })).toThrow(/longer than IVTP allows/);
	});

	test("runs the handshake: allowed → auth bundle → validated → power → resume + full screen → frames", () => {
		const p = proto();
		expect(p.state).toBe("awaiting-allowed");
		const bundle = sends(p.handle({ type: 0x17, status: 0, payload: new Uint8Array(0) }));
		expect(bundle.length).toBe(1);
		expect(types(bundle[0] as Uint8Array)).toEqual([
			[0x3a, 1],
			[0x12, 1],
			[0x06, 0],
		]);
		expect(bundle[0]).toEqual(buildAuthBundle(credentials));
		expect(p.state).toBe("awaiting-validation");

		const power = sends(p.handle({ type: 0x13, status: 2, payload: new Uint8Array([1, 3]) }));
		expect(types(power[0] as Uint8Array)).toEqual([[0x22, 0]]);

		const steps = p.handle({ type: 0x22, status: 1, payload: new Uint8Array(0) });
		expect(types(sends(steps)[0] as Uint8Array)).toEqual([
			[0x06, 0],
			[0x0b, 0],
		]);
		expect(steps.find((s) => s.kind === "ready")).toEqual({ kind: "ready", fullScreenFrom: 0 });
		expect(p.state).toBe("streaming");

		const frame = videoFrame(16, 8, new Uint8Array(8));
		const got = p.handle({ type: 0x19, status: 0, payload: fragment(0x8000, frame) });
		expect(got[0]?.kind).toBe("frame");
		expect(p.requestFullScreen().from).toBe(1);
	});

	test("unknown packets change nothing", () => {
		const p = proto();
		expect(p.handle({ type: 0x20, status: 2, payload: new Uint8Array(134) })).toEqual([]);
		expect(p.handle({ type: 0x35, status: 1, payload: new Uint8Array(0) })).toEqual([]);
		expect(p.state).toBe("awaiting-allowed");
	});

	const validated = (result: number[]) => {
		const p = proto();
		p.handle({ type: 0x17, status: 0, payload: new Uint8Array(0) });
		return () => p.handle({ type: 0x13, status: 0, payload: new Uint8Array(result) });
	};

	test("a rejected validation is a clear 'session rejected' error", () => {
		expect(validated([0, 0])).toThrow(/session rejected: invalid session/);
		expect(validated([3])).toThrow(/session rejected: invalid session information/);
		expect(validated([])).toThrow(/session rejected/);
		expect(validated([2])).toThrow(/KVM access is disabled/);
	});

	test("power status 0 is a 'powered off' error, not a wait", () => {
		const p = proto();
		p.handle({ type: 0x17, status: 0, payload: new Uint8Array(0) });
		p.handle({ type: 0x13, status: 0, payload: new Uint8Array([1]) });
		let error: unknown;
		try {
			p.handle({ type: IvtpType.POWER_STATUS, status: 0, payload: new Uint8Array(0) });
		} catch (e) {
			error = e;
		}
		expect(error).toBeInstanceOf(IkvmError);
		expect((error as IkvmError).code).toBe("POWERED_OFF");
		expect((error as IkvmError).message).toMatch(/powered off/);
	});

	test("max sessions and stop-session are typed errors", () => {
		const p = proto();
		expect(() => p.handle({ type: 0x16, status: 0, payload: new Uint8Array(0) })).toThrow(
			/maximum number of KVM sessions/,
		);
		expect(() => p.handle({ type: 0x08, status: 9, payload: new Uint8Array(0) })).toThrow(/timed out/);
	});
});

describe("robustness (property-based)", () => {
	const handshake = concat(ivtp(0x17, 0), ivtp(0x13, 0, new Uint8Array([1])), ivtp(0x22, 1));
	const feed = (bytes: Uint8Array, cuts: number[]) => {
		const p = new IvtpProtocol({ ...LIMITS, credentials: { token: "t", clientIp: "1.2.3.4" } });
		const parser = new IvtpParser(p.parserOptions());
		try {
			for (const chunk of splitAt(bytes, cuts)) for (const packet of parser.push(chunk)) p.handle(packet);
		} catch (e) {
			if (!(e instanceof IkvmError)) throw e;
		}
	};

	test("random bytes never hang or crash: packets or a typed error", () => {
		fc.assert(
			fc.property(fc.uint8Array({ maxLength: 4096 }), fc.array(fc.nat(4096), { maxLength: 20 }), (bytes, cuts) => {
				feed(bytes, cuts);
				feed(concat(handshake, bytes), cuts);
			}),
			{ numRuns: 2000 },
		);
	});

	test("well-framed packets with random types, statuses and payloads never crash", () => {
		const packetArb = fc.record({
			type: fc.oneof(
				fc.constantFrom(0x19, 0x19, 0x19, 0x22, 0x13, 0x17, 0x09, 0x16, 0x08),
				fc.integer({ min: 0, max: 0xffff }),
			),
			status: fc.integer({ min: 0, max: 0xffff }),
			payload: fc.oneof(
				fc.uint8Array({ maxLength: 300 }),
				// Plausible first fragments: a header with random fields.
				fc.tuple(fc.nat(0xffff), fc.uint8Array({ minLength: 86, maxLength: 200 })).map(([n, b]) => fragment(n, b)),
			),
		});
		fc.assert(
			fc.property(
				fc.array(packetArb, { maxLength: 30 }),
				fc.array(fc.nat(8000), { maxLength: 10 }),
				(packets, cuts) => {
					feed(concat(handshake, ...packets.map((p) => ivtp(p.type, p.status, p.payload))), cuts);
				},
			),
			{ numRuns: 1000 },
		);
	});

	test("a valid stream split anywhere yields the same frames; truncated streams yield a prefix", () => {
		const frameArb = fc.record({
			w: fc.integer({ min: 1, max: 64 }),
			h: fc.integer({ min: 1, max: 64 }),
			data: fc.uint8Array({ maxLength: 300 }),
			frag: fc.integer({ min: 1, max: 100 }),
		});
		fc.assert(
			fc.property(
				fc.array(frameArb, { minLength: 1, maxLength: 4 }),
				fc.array(fc.nat(5000), { maxLength: 30 }),
				fc.nat(),
				(frames, cuts, cutoff) => {
					const messages: Uint8Array[] = [ivtp(0x17, 0), ivtp(0x13, 0, new Uint8Array([1])), ivtp(0x22, 1)];
					const expected: Uint8Array[] = [];
					for (const f of frames) {
						const bytes = videoFrame(f.w, f.h, f.data);
						expected.push(bytes);
						let at = 0;
						let n = 0;
						while (at < bytes.length) {
							const take = n === 0 ? 86 + f.frag : f.frag;
							messages.push(ivtp(0x19, 0, fragment(n++, bytes.subarray(at, at + take))));
							messages.push(ivtp(0x27, 0, new Uint8Array(n % 3)));
							at += take;
						}
					}
					const stream = concat(...messages);
					const run = (input: Uint8Array) => {
						const p = new IvtpProtocol({ ...LIMITS, credentials: { token: "t", clientIp: "1.2.3.4" } });
						const parser = new IvtpParser(p.parserOptions());
						const got: Uint8Array[] = [];
						for (const chunk of splitAt(input, cuts))
							for (const packet of parser.push(chunk))
								for (const s of p.handle(packet)) if (s.kind === "frame") got.push(s.frame.bytes);
						return got;
					};
					expect(run(stream)).toEqual(expected);
					const truncated = run(stream.subarray(0, cutoff % (stream.length + 1)));
					expect(truncated).toEqual(expected.slice(0, truncated.length));
				},
			),
			{ numRuns: 500 },
		);
	});
});
