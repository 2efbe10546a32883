/**
 * An HTTP answer's body read with a byte cap: the peers we fetch from (BMCs, the OVH API, whatever
 * an endpoint setting points at) could otherwise make us buffer without end. Callers name the
 * error, since only they know what the answer should have been.
 */

/** The whole body as text, or undefined when it is larger than `maxBytes`. */
export async function readBodyWithin(response: Response, maxBytes: number): Promise<string | undefined> {
	// A declared size past the cap is refused before a byte is read.
	if (Number(response.headers.get("content-length") ?? 0) > maxBytes) {
		await response.body?.cancel().catch(() => {});
		return undefined;
	}
	if (!response.body) return "";
	const { chunks, complete } = await readUpTo(response.body, maxBytes);
	return complete ? decode(chunks) : undefined;
}

/** The whole body as bytes (images), or undefined when it is larger than `maxBytes`. */
export async function readBytesWithin(response: Response, maxBytes: number): Promise<Uint8Array | undefined> {
	if (Number(response.headers.get("content-length") ?? 0) > maxBytes) {
		await response.body?.cancel().catch(() => {});
		return undefined;
	}
	if (!response.body) return new Uint8Array(0);
	const { chunks, complete } = await readUpTo(response.body, maxBytes);
	return complete ? new Uint8Array(Buffer.concat(chunks)) : undefined;
}

/** The first `maxBytes` of the body as text, for pages of which only the start matters; the rest is not read. */
export async function readBodyPrefix(response: Response, maxBytes: number): Promise<string> {
	if (!response.body) return "";
	const { chunks } = await readUpTo(response.body, maxBytes - 1);
	return decode(chunks, maxBytes);
}

/** Chunks until the stream ends, or until more than `limit` bytes have come: then the stream is cancelled. */
async function readUpTo(
	body: ReadableStream<Uint8Array>,
	limit: number,
): Promise<{ chunks: Uint8Array[]; complete: boolean }> {
	const reader = body.getReader();
	const chunks: Uint8Array[] = [];
	let total = 0;
	try {
		while (total <= limit) {
			const { done, value } = await reader.read();
			if (done) return { chunks, complete: true };
			chunks.push(value);
			total += value.byteLength;
		}
	} catch (error) {
		await reader.cancel().catch(() => {});
		throw error;
	}
	await reader.cancel().catch(() => {});
	return { chunks, complete: false };
}

function decode(chunks: Uint8Array[], maxBytes?: number): string {
	const bytes = Buffer.concat(chunks);
	return new TextDecoder().decode(maxBytes === undefined ? bytes : bytes.subarray(0, maxBytes));
}
