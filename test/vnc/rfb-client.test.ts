/**
 * The RFB state machine on its own: scripted server bytes in, client bytes out.
 */
import { describe, expect, test } from "bun:test";
import { IkvmError } from "../../src/errors.ts";
import { vncAuthKey, vncAuthResponse } from "../../src/vnc/auth.ts";
import { preferredEncodings } from "../../src/vnc/encodings.ts";
import { negotiateVersion, RfbClient, type RfbClientOptions, type UpdateSummary } from "../../src/vnc/rfb-client.ts";
import { LIMITS } from "../support/vnc.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const u16 = (v: number) => [v >> 8, v & 255];
const u32 = (v: number) => [(v >>> 24) & 255, (v >> 16) & 255, (v >> 8) & 255, v & 255];
const s32 = (v: number) => u32(v >>> 0);
const str = (s: string) => [...u32(enc(s).length), ...enc(s)];

function serverInit(width: number, height: number, name = "test"): number[] {
	// 32 bpp, depth 24, little-endian, true colour, 255/255/255, shifts 16/8/0
	const pf = [32, 24, 0, 1, ...u16(255), ...u16(255), ...u16(255), 16, 8, 0, 0, 0, 0];
	return [...u16(width), ...u16(height), ...pf, ...str(name)];
}

function harness(options: Partial<RfbClientOptions> = {}) {
	const sent: number[][] = [];
	const updates: UpdateSummary[] = [];
	const events = { ready: 0, bells: 0, cutText: [] as number[] };
	const client = new RfbClient(
		{ limits: LIMITS, ...options },
		{
			send: (b) => sent.push([...b]),
			ready: () => events.ready++,
			updateEnd: (s) => updates.push(s),
			bell: () => events.bells++,
			cutText: (n) => events.cutText.push(n),
		},
	);
	return {
		client,
		sent,
		updates,
		events,
		feed: (bytes: number[]) => client.receive(Uint8Array.from(bytes)),
		error(bytes: number[]): IkvmError {
			try {
				client.receive(Uint8Array.from(bytes));
			} catch (e) {
				if (e instanceof IkvmError) return e;
				throw e;
			}
			throw new Error("no error");
		},
	};
}

/** A whole 3.8 session with security None up to ServerInit, then a 2x1 raw update, a bell, a clipboard and a colour map. */
const session38 = [
	...enc("RFB 003.008\n"),
	1,
	1,
	...u32(0),
	...serverInit(2, 1),
	2,
	3,
	0,
	0,
	0,
	...u32(5),
	...enc("hello"),
	1,
	0,
	...u16(0),
	...u16(1),
	...u16(65535),
	...u16(0),
	...u16(0),
	0,
	0,
	...u16(2),
	...u16(0),
	...u16(0),
	...u16(1),
	...u16(1),
	...s32(0),
	10,
	20,
	30,
	0,
	...u16(1),
	...u16(0),
	...u16(1),
	...u16(1),
	...s32(0),
	40,
	50,
	60,
	0,
];

describe("version negotiation", () => {
	test("maps announced versions onto 3.3, 3.7 or 3.8", () => {
		expect(negotiateVersion(3, 3)).toBe("3.3");
		expect(negotiateVersion(3, 5)).toBe("3.3");
		expect(negotiateVersion(3, 6)).toBe("3.3");
		expect(negotiateVersion(3, 7)).toBe("3.7");
		expect(negotiateVersion(3, 8)).toBe("3.8");
		expect(negotiateVersion(3, 889)).toBe("3.8");
		expect(negotiateVersion(4, 1)).toBe("3.8");
		expect(negotiateVersion(5, 0)).toBe("3.8");
		expect(negotiateVersion(2, 0)).toBeUndefined();
	});

	test("answers Apple's 3.889 with 3.8", () => {
		const h = harness();
		h.feed([...enc("RFB 003.889\n")]);
		expect(new TextDecoder().decode(Uint8Array.from(h.sent[0] as number[]))).toBe("RFB 003.008\n");
	});

	test("a greeting that is not RFB is named in the error", () => {
		const e = harness().error([...enc("HTTP/1.1 400 Bad Request\r\n")]);
		expect(e.code).toBe("PROTOCOL");
		expect(e.stage).toBe("handshake");
		expect(e.message).toContain('"HTTP/1.1 400 Bad Request\\x0d\\n"');
	});
});

describe("a whole session fed in every possible split", () => {
	test("one byte at a time", () => {
		const h = harness();
		for (const b of session38) h.feed([b]);
		expect(h.events.ready).toBe(1);
		expect(h.updates).toEqual([{ rects: 2, resized: false, encodings: [0] }]);
		expect(h.events.bells).toBe(1);
		expect(h.events.cutText).toEqual([5]);
		expect([...(h.client.framebuffer?.rgba ?? [])]).toEqual([10, 20, 30, 255, 40, 50, 60, 255]);
	});

	test("every split into two chunks gives the same result", () => {
		for (let cut = 1; cut < session38.length; cut++) {
			const h = harness();
			h.feed(session38.slice(0, cut));
			h.feed(session38.slice(cut));
			expect(h.updates.length).toBe(1);
			expect([...(h.client.framebuffer?.rgba ?? [])]).toEqual([10, 20, 30, 255, 40, 50, 60, 255]);
		}
	});

	test("all in one chunk; the client sends version, security choice, ClientInit (shared), pixel format, encodings", () => {
		const h = harness();
		h.feed(session38);
		expect(h.sent.map((m) => m.length)).toEqual([12, 1, 1, 20, 4 + 4 * preferredEncodings().length]);
		expect(h.sent[1]).toEqual([1]);
		expect(h.sent[2]).toEqual([1]);
		// SetPixelFormat: 32 bpp, depth 24, little-endian, true colour, maxima 255, shifts 0/8/16
		expect(h.sent[3]).toEqual([0, 0, 0, 0, 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 0, 8, 16, 0, 0, 0]);
		h.client.requestFullUpdate();
		expect(h.sent[5]).toEqual([3, 0, 0, 0, 0, 0, 0, 2, 0, 1]);
	});
});

describe("security", () => {
	test("3.7 with None has no SecurityResult", () => {
		const h = harness();
		h.feed([...enc("RFB 003.007\n"), 1, 1, ...serverInit(4, 4)]);
		expect(h.events.ready).toBe(1);
	});

	test("3.3: the server picks None", () => {
		const h = harness();
		h.feed([...enc("RFB 003.003\n"), ...u32(1), ...serverInit(4, 4)]);
		expect(h.sent[1]).toEqual([1]); // straight to ClientInit
		expect(h.events.ready).toBe(1);
	});

	test("None is preferred when offered together with VNC Authentication", () => {
		const h = harness({ password: "secret" });
		h.feed([...enc("RFB 003.008\n"), 2, 2, 1]);
		expect(h.sent[1]).toEqual([1]);
	});

	test("VNC Authentication answers the challenge with the DES response", () => {
		const h = harness({ password: "secret" });
		const challenge = Array.from({ length: 16 }, (_, i) => i * 13);
		h.feed([...enc("RFB 003.008\n"), 1, 2, ...challenge, ...u32(0), ...serverInit(4, 4)]);
		expect(h.sent[1]).toEqual([2]);
		expect(h.sent[2]).toEqual([...vncAuthResponse("secret", Uint8Array.from(challenge))]);
		expect(h.events.ready).toBe(1);
	});

	test("the DES key is the password's first 8 bytes with each byte's bits mirrored", () => {
		// "a" = 0x61 = 0110 0001 → 1000 0110 = 0x86; "\x01" → 0x80
		expect([...vncAuthKey("a\x01")]).toEqual([0x86, 0x80, 0, 0, 0, 0, 0, 0]);
		expect(vncAuthKey("123456789")).toEqual(vncAuthKey("12345678"));
		// FIPS 81 known answer: key 0123456789ABCDEF, "Now is t" → 3FA40E8A984D4815. DES ignores each key
		// byte's low (parity) bit, so the key equals 0022446688AACCEE, whose mirrored bytes are this password.
		const password = "\x00\x44\x22\x66\x11\x55\x33\x77";
		const challenge = new Uint8Array([...enc("Now is t"), ...enc("Now is t")]);
		expect(Buffer.from(vncAuthResponse(password, challenge)).toString("hex")).toBe("3fa40e8a984d4815".repeat(2));
	});

	test("3.8 authentication failure surfaces the server's reason", () => {
		const h = harness({ password: "wrong" });
		const e = h.error([
			...enc("RFB 003.008\n"),
			1,
			2,
			...new Array(16).fill(0),
			...u32(1),
			...str("Authentication failed\0"),
		]);
		expect(e.code).toBe("AUTH_FAILED");
		expect(e.message).toBe("VNC authentication failed: Authentication failed.");
	});

	test("3.7 authentication failure without a reason", () => {
		const h = harness({ password: "wrong" });
		const e = h.error([...enc("RFB 003.007\n"), 1, 2, ...new Array(16).fill(0), ...u32(1)]);
		expect(e.message).toBe("VNC authentication failed (the server gave no reason).");
	});

	test("a server that refuses the connection: its reason (3.8 and 3.3)", () => {
		const e = harness().error([...enc("RFB 003.008\n"), 0, ...str("Too many security failures")]);
		expect(e.code).toBe("ACCESS_DENIED");
		expect(e.message).toContain("Too many security failures.");
		const e33 = harness().error([...enc("RFB 003.003\n"), ...u32(0), ...str("go away")]);
		expect(e33.message).toContain("go away.");
	});

	test("only unsupported types: the error names what was offered", () => {
		const e = harness().error([...enc("RFB 003.008\n"), 3, 18, 16, 30]);
		expect(e.code).toBe("NOT_SUPPORTED");
		expect(e.message).toContain("TLS (18), Tight (16), Apple Remote Desktop (Diffie-Hellman) (30)");
		const e33 = harness().error([...enc("RFB 003.003\n"), ...u32(18)]);
		expect(e33.message).toContain("TLS (18)");
	});

	test("VNC Authentication without a configured password", () => {
		const e = harness().error([...enc("RFB 003.008\n"), 1, 2]);
		expect(e.code).toBe("AUTH_FAILED");
		expect(e.message).toContain("none is configured");
	});
});

describe("limits and bad data", () => {
	const handshake = [...enc("RFB 003.008\n"), 1, 1, ...u32(0)];

	test("a framebuffer larger than the limits is refused before allocation", () => {
		const h = harness({ limits: { maxWidth: 1024, maxHeight: 768 } });
		const e = h.error([...handshake, ...serverInit(65535, 65535)]);
		expect(e.code).toBe("TOO_LARGE");
		expect(e.message).toContain("65535x65535, larger than the allowed 1024x768");
		expect(h.client.framebuffer).toBeUndefined();
	});

	test("an empty framebuffer is refused", () => {
		expect(harness().error([...handshake, ...serverInit(0, 0)]).message).toContain("empty 0x0");
	});

	test("an absurd desktop name length is refused", () => {
		const init = serverInit(4, 4);
		init.splice(20, 4, ...u32(0xfffffff0));
		expect(harness().error([...handshake, ...init]).message).toContain("desktop name of 4294967280 bytes");
	});

	test("a rectangle outside the framebuffer is refused", () => {
		const e = harness().error([
			...handshake,
			...serverInit(4, 4),
			0,
			0,
			...u16(1),
			...u16(2),
			...u16(2),
			...u16(3),
			...u16(3),
			...s32(0),
		]);
		expect(e.code).toBe("PROTOCOL");
		expect(e.message).toContain("3x3+2+2 rectangle outside the 4x4 framebuffer");
	});

	test("an encoding we did not ask for is refused", () => {
		const e = harness().error([
			...handshake,
			...serverInit(4, 4),
			0,
			0,
			...u16(1),
			...u16(0),
			...u16(0),
			...u16(1),
			...u16(1),
			...s32(2),
		]);
		expect(e.message).toContain("used RRE, which this client did not ask for");
	});

	test("a clipboard message of absurd length is refused", () => {
		const e = harness().error([...handshake, ...serverInit(4, 4), 3, 0, 0, 0, ...u32(0xffffff00)]);
		expect(e.message).toContain("clipboard message of 4294967040 bytes");
	});

	test("an unknown message type is refused", () => {
		expect(harness().error([...handshake, ...serverInit(4, 4), 77]).message).toContain("unknown message type 77");
	});

	test("a resize beyond the limits is refused", () => {
		const h = harness({ limits: { maxWidth: 100, maxHeight: 100 } });
		const e = h.error([
			...handshake,
			...serverInit(4, 4),
			0,
			0,
			...u16(1),
			...u16(0),
			...u16(0),
			...u16(5000),
			...u16(10),
			...s32(-223),
		]);
		expect(e.code).toBe("TOO_LARGE");
	});

	test("after an error further data is ignored", () => {
		const h = harness();
		h.error([...handshake, ...serverInit(4, 4), 77]);
		expect(() => h.feed([0, 0, 0, 0])).not.toThrow();
	});
});

describe("pseudo-encodings", () => {
	const ready = [...enc("RFB 003.008\n"), 1, 1, ...u32(0), ...serverInit(4, 4)];
	const header = (x: number, y: number, w: number, h: number, e: number) => [
		...u16(x),
		...u16(y),
		...u16(w),
		...u16(h),
		...s32(e),
	];

	test("DesktopSize reallocates the framebuffer and reports the resize", () => {
		const h = harness();
		h.feed([...ready, 0, 0, ...u16(1), ...header(0, 0, 8, 2, -223)]);
		expect(h.client.framebuffer?.width).toBe(8);
		expect(h.updates).toEqual([{ rects: 0, resized: true, encodings: [] }]);
		h.client.requestFullUpdate();
		expect(h.sent.at(-1)).toEqual([3, 0, 0, 0, 0, 0, 0, 8, 0, 2]);
	});

	test("ExtendedDesktopSize with its screen list; a same-size one is not a resize", () => {
		const h = harness();
		const screen = [...u32(1), ...u16(0), ...u16(0), ...u16(6), ...u16(3), ...u32(0)];
		h.feed([...ready, 0, 0, ...u16(1), ...header(0, 0, 6, 3, -308), 1, 0, 0, 0, ...screen]);
		expect(h.client.framebuffer?.width).toBe(6);
		h.feed([0, 0, ...u16(1), ...header(0, 0, 6, 3, -308), 1, 0, 0, 0, ...screen]);
		expect(h.updates).toEqual([
			{ rects: 0, resized: true, encodings: [] },
			{ rects: 0, resized: false, encodings: [] },
		]);
	});

	test("LastRect ends an update announced with 0xFFFF rectangles", () => {
		const h = harness();
		h.feed([...ready, 0, 0, ...u16(0xffff), ...header(0, 0, 1, 1, 0), 1, 2, 3, 0, ...header(0, 0, 0, 0, -224), 2]);
		expect(h.updates).toEqual([{ rects: 1, resized: false, encodings: [0] }]);
		expect(h.events.bells).toBe(1);
	});
});

describe("VeNCrypt (security type 19)", () => {
	/** A harness whose startTls event is recorded (the session would wrap the stream in TLS). */
	function vencrypt(options: Partial<RfbClientOptions> = {}) {
		let tls = 0;
		const sent: number[][] = [];
		const client = new RfbClient(
			{ limits: LIMITS, ...options },
			{ send: (b) => sent.push([...b]), ready: () => {}, updateEnd: () => {}, startTls: () => tls++ },
		);
		const feed = (bytes: number[]) => client.receive(Uint8Array.from(bytes));
		return { client, sent, feed, tls: () => tls };
	}
	const offer = (subtypes: number[]) => [
		...enc("RFB 003.008\n"),
		1,
		19,
		0,
		2, // VeNCrypt 0.2
		0, // version accepted
		subtypes.length,
		...subtypes.flatMap(u32),
	];

	test("X509Vnc: version 0.2, the sub-type, TLS, then the VNC challenge inside it", () => {
		const h = vencrypt({ password: "pw" });
		h.feed([...offer([261]), 1]);
		expect(h.sent.slice(1)).toEqual([[19], [0, 2], u32(261)]);
		expect(h.tls()).toBe(1);
		expect(h.client.awaiting).toBe("the TLS handshake");
		h.client.tlsStarted();
		const challenge = Array.from({ length: 16 }, (_, i) => i * 7);
		h.feed(challenge);
		expect(h.sent.at(-1)).toEqual([...vncAuthResponse("pw", Uint8Array.from(challenge))]);
		h.feed([...u32(0), ...serverInit(4, 2)]);
		expect(h.client.isReady).toBe(true);
	});

	test("X509Plain sends user and password as length-prefixed strings inside TLS; X509None goes straight to the result", () => {
		const plain = vencrypt({ username: "admin", password: "s3cret" });
		plain.feed([...offer([262]), 1]);
		plain.client.tlsStarted();
		expect(plain.sent.at(-1)).toEqual([...u32(5), ...u32(6), ...enc("admin"), ...enc("s3cret")]);
		const none = vencrypt();
		none.feed([...offer([260, 261]), 1]);
		expect(none.sent.at(-1)).toEqual(u32(260));
		none.client.tlsStarted();
		none.feed([...u32(0), ...serverInit(4, 2)]);
		expect(none.client.isReady).toBe(true);
	});

	test("preference: X509None, then X509Vnc with a password, then X509Plain with a username", () => {
		const pick = (options: Partial<RfbClientOptions>, subtypes: number[]) => {
			const h = vencrypt(options);
			h.feed(offer(subtypes));
			return h.sent.at(-1);
		};
		expect(pick({ password: "pw" }, [262, 261])).toEqual(u32(261));
		expect(pick({ password: "pw", username: "u" }, [262])).toEqual(u32(262));
	});

	test("refusals: anonymous TLS only, X509Plain without a username, a refused sub-type, a WebSocket stream", () => {
		const anon = harness({ password: "pw" }).error(offer([257, 258]));
		expect(anon.code).toBe("NOT_SUPPORTED");
		expect(anon.message).toContain("TLSNone (257), TLSVnc (258)");
		expect(anon.hint).toContain("-X509Cert");
		const noUser = harness({ password: "pw" }).error(offer([262]));
		expect(noUser.code).toBe("AUTH_FAILED");
		expect(noUser.hint).toContain("username");
		const h = vencrypt({ password: "pw" });
		h.feed(offer([261]));
		expect(() => h.feed([0])).toThrow(/refused the VeNCrypt sub-type X509Vnc/);
		const ws = harness({ canStartTls: false }).error([...enc("RFB 003.008\n"), 1, 19]);
		expect(ws.code).toBe("NOT_SUPPORTED");
		expect(ws.message).toContain("not through a WebSocket");
		const old = harness().error([...enc("RFB 003.008\n"), 1, 19, 0, 1]);
		expect(old.message).toContain("VeNCrypt 0.1");
	});
});

describe("update requests and size changes", () => {
	test("incremental and full requests cover the current framebuffer", () => {
		const h = harness();
		h.feed([...enc("RFB 003.008\n"), 1, 1, ...u32(0), ...serverInit(300, 200)]);
		h.client.requestFullUpdate();
		h.client.requestIncrementalUpdate();
		expect(h.sent.slice(-2)).toEqual([
			[3, 0, 0, 0, 0, 0, ...u16(300), ...u16(200)],
			[3, 1, 0, 0, 0, 0, ...u16(300), ...u16(200)],
		]);
	});

	test("only the last size change of an update is allocated; more than 16 in one update is refused", () => {
		const h = harness();
		h.feed([...enc("RFB 003.008\n"), 1, 1, ...u32(0), ...serverInit(8, 8)]);
		const resize = (w: number, hgt: number) => [0, 0, 0, 0, ...u16(w), ...u16(hgt), ...s32(-223)];
		const before = h.client.framebuffer;
		h.feed([0, 0, ...u16(3), ...resize(100, 100), ...resize(50, 40), ...resize(8, 8)]);
		expect(h.client.framebuffer).toBe(before as NonNullable<typeof before>); // back to 8x8: nothing allocated
		expect(h.updates.at(-1)?.resized).toBe(false);
		h.feed([0, 0, ...u16(2), ...resize(100, 100), ...resize(60, 30)]);
		expect(h.client.framebuffer?.width).toBe(60);
		const storm = Array.from({ length: 17 }, (_, i) => resize(10 + i, 10)).flat();
		const e = h.error([0, 0, ...u16(17), ...storm]);
		expect(e.message).toContain("more than 16 times in one framebuffer update");
	});

	test("pump yields when its time is up and resumes where it stopped", () => {
		const h = harness();
		h.feed([...enc("RFB 003.008\n"), 1, 1, ...u32(0), ...serverInit(8, 8)]);
		const bells = Array.from({ length: 1000 }, () => 2);
		h.client.push(Uint8Array.from(bells));
		expect(h.client.pump(performance.now() - 1)).toBe(true); // out of time after the first message
		expect(h.events.bells).toBe(1);
		expect(h.client.pump(Number.POSITIVE_INFINITY)).toBe(false);
		expect(h.events.bells).toBe(1000);
	});
});
