/**
 * AMI KVM path against the mock BMC on loopback: viewer URL → PNG, cold (BMC
 * session, KVM token, WebSocket, IVTP handshake, first frame, close) and warm
 * (one GET_FULL_SCREEN round trip on an open session), each including decode
 * and PNG encoding.
 */

import { createAmiOpener } from "../src/ami/session.ts";
import { standaloneContext } from "../src/call-context.ts";
import { encodeAst2500Frame } from "../src/demo/ast2500-encoder.ts";
import { MockBmc } from "../src/demo/bmc.ts";
import { sampleConsolePicture } from "../src/demo/console-picture.ts";
import { encodePng } from "../src/image/encode.ts";
import { type Row, time } from "./harness.ts";

const LIMITS = { maxWidth: 8192, maxHeight: 8192 };

export async function kvmSuite(): Promise<Row[]> {
	const rows: Row[] = [];
	for (const [w, h] of [
		[1024, 768],
		[1920, 1080],
	] as const) {
		// A text console (VQ blocks) with a DCT-coded colour band, as BIOS and boot screens mix them.
		const frame = encodeAst2500Frame(withBand(sampleConsolePicture(w, h)));
		const bmc = await new MockBmc({ frames: () => frame }).start();
		const open = createAmiOpener();
		const target = () => ({ kind: "ami-viewer" as const, viewerUrl: bmc.viewerUrl(), tls: { insecure: true } });
		rows.push(
			await time(`AMI viewer URL → PNG, cold ${w}x${h}`, async () => {
				const session = await open(target(), standaloneContext(), LIMITS);
				await encodePng(await session.capture(standaloneContext()));
				await session.close();
			}),
		);
		const warm = await open(target(), standaloneContext(), LIMITS);
		await warm.capture(standaloneContext());
		rows.push(
			await time(
				`AMI viewer URL → PNG, warm ${w}x${h}`,
				async () => encodePng(await warm.capture(standaloneContext())),
				20,
				150,
			),
		);
		await warm.close();
		await bmc.stop();
	}
	return rows;
}

/** Paints a smooth colour band over the top eighth, so the frame mixes DCT and VQ blocks. */
function withBand(picture: { width: number; height: number; rgba: Uint8Array }) {
	const { width, height, rgba } = picture;
	for (let y = 0; y < height / 8; y++) {
		for (let x = 0; x < width; x++) {
			const i = (y * width + x) * 4;
			rgba[i] = (x * 255) / width;
			rgba[i + 1] = 40 + y;
			rgba[i + 2] = 255 - (x * 255) / width;
		}
	}
	return picture;
}
