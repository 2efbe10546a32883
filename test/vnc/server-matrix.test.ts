/**
 * Every encoding × every security type × both transports, against the RFB
 * test server: the captured frame must equal the served picture exactly.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { testPattern } from "../../src/demo/patterns.ts";
import {
	type RfbServerEncoding,
	type RfbServerSecurity,
	type RfbTestServer,
	startRfbServer,
} from "../../src/demo/rfb-server.ts";
import { captureVncFrame } from "../../src/vnc/session.ts";
import { Encoding } from "../../src/vnc/types.ts";
import { expectPixelExact, LIMITS, tcpTarget, testContext, wsTarget } from "../support/vnc.ts";

const IMAGE = testPattern(203, 141); // odd sizes: partial hextile and ZRLE tiles at the edges
const PASSWORD = "pa55word-long"; // longer than 8: only the first 8 characters count
const encodings: RfbServerEncoding[] = ["raw", "copyrect", "hextile", "zrle", "zlib", "tight", "tightpng"];
const securities: RfbServerSecurity[] = ["none", "vnc"];

/** The forms each encoder must have used on IMAGE, so a pass means each decoder path ran. */
const FORMS: Record<RfbServerEncoding, string[]> = {
	raw: [],
	copyrect: ["copyrect:copy", "copyrect:raw"],
	hextile: [
		"hextile:raw",
		"hextile:solid",
		"hextile:mono",
		"hextile:coloured",
		"hextile:background-kept",
		"hextile:foreground-kept",
		"hextile:tall-subrect",
	],
	zrle: ["zrle:raw", "zrle:solid", "zrle:packed-palette", "zrle:plain-rle", "zrle:palette-rle"],
	zlib: ["zlib"],
	// No quality level announced (the default): Tight must stay lossless.
	tight: ["tight:fill", "tight:mono", "tight:palette", "tight:copy", "tight:gradient"],
	tightpng: ["tight:fill", "tightpng:png"],
};

for (const encoding of encodings) {
	for (const security of securities) {
		describe(`${encoding} with security ${security}`, () => {
			let server: RfbTestServer;
			beforeAll(async () => {
				// Small Tight tiles, so the picture has tiles of one, two, a few and many colours; a stream reset each frame.
				server = await startRfbServer({
					image: IMAGE,
					encoding,
					security,
					password: PASSWORD,
					tightTile: 32,
					tightReset: true,
				});
			});
			afterAll(() => {
				expect([...server.forms].sort()).toEqual(expect.arrayContaining(FORMS[encoding]));
				expect([...server.forms].filter((f) => f.endsWith(":jpeg"))).toEqual([]);
				return server.close();
			});
			const password = security === "vnc" ? PASSWORD : undefined;

			test("over WebSocket", async () => {
				const frame = await captureVncFrame(wsTarget(server.wsUrl, { password }), testContext(), LIMITS);
				expectPixelExact(frame, IMAGE);
				expect(server.lastClient?.subprotocol).toBeUndefined();
			});

			test("over TCP", async () => {
				const frame = await captureVncFrame(tcpTarget(server.tcpPort, { password }), testContext(), LIMITS);
				expectPixelExact(frame, IMAGE);
			});
		});
	}
}

describe("what the client tells the server", () => {
	let server: RfbTestServer;
	beforeAll(async () => {
		server = await startRfbServer({ image: IMAGE, encoding: "zrle" });
	});
	afterAll(() => server.close());

	test("shared session, 32-bit true colour with red in the low byte, ZRLE first, pseudo-encodings announced", async () => {
		await captureVncFrame(tcpTarget(server.tcpPort), testContext(), LIMITS);
		const client = server.lastClient;
		expect(client?.version).toBe("3.8");
		expect(client?.shared).toBe(true);
		expect(client?.pixelFormat).toMatchObject({
			bitsPerPixel: 32,
			trueColour: true,
			redShift: 0,
			greenShift: 8,
			blueShift: 16,
		});
		expect(client?.encodings?.[0]).toBe(Encoding.ZRLE);
		expect(client?.encodings).toEqual(expect.arrayContaining([Encoding.Raw, Encoding.DesktopSize, Encoding.LastRect]));
		expect(client?.updateRequests).toBe(1);
	});
});
