/**
 * A persistent zlib stream (ZRLE, ZLIB and each of Tight's four streams live
 * as long as the connection) inflated with a hard cap on the output of one
 * rectangle. The server decides how much a rectangle inflates to; a hostile
 * one sends a few MB that inflate to GBs. zlib writes straight into a buffer
 * no larger than the cap, so it stops the moment the cap is reached instead
 * of inflating everything and checking afterwards: the work per rectangle is
 * bounded by what the rectangle can hold, never by what the server sent.
 *
 * Input may be pushed in pieces as it arrives (the decoders do), so a large
 * rectangle is inflated across several receive calls rather than in one go.
 *
 * Driven through pako's low-level zlib API: its Inflate class allocates a new
 * output chunk per call and cannot be stopped part way through an input.
 */
import {
	Z_BUF_ERROR,
	Z_OK,
	Z_STREAM_END,
	Z_SYNC_FLUSH,
	ZStream,
	zlibInflate,
	zlibInflateInit,
	zlibInflateReset,
} from "pako";
import { IkvmError } from "../errors.ts";
import type { ByteQueue } from "./byte-queue.ts";
import { protocolError } from "./errors.ts";

/** Output grows in steps: a rectangle whose cap is large rarely needs it all. */
const FIRST_CHUNK = 64 * 1024;

/**
 * The output memory of one rectangle. Streams that never inflate at the same
 * time (Tight's four, within one connection) share one, so a connection holds
 * one rectangle's worth of output, not four.
 */
export class InflateOutput {
	buf = new Uint8Array(0);
}

export class BoundedInflater {
	private readonly strm = new ZStream();
	private written = 0;
	private limit = 0;

	/** `label` names the stream in errors, e.g. "ZRLE" or "Tight stream 2". */
	constructor(
		private readonly label: string,
		private readonly out = new InflateOutput(),
	) {
		zlibInflateInit(this.strm);
	}

	/** Starts the output of one rectangle, which may be at most `limit` bytes. */
	begin(limit: number): void {
		this.limit = limit;
		this.written = 0;
	}

	/** Bytes inflated since `begin`. */
	get length(): number {
		return this.written;
	}

	/** Inflates `input` (all of it is consumed) onto the rectangle's output. Throws TOO_LARGE past the limit. */
	push(input: Uint8Array): void {
		if (input.length === 0) return;
		const s = this.strm;
		// One byte beyond the limit, so "exactly full" and "wants more" can be told apart.
		const capacity = this.limit + 1;
		s.input = input;
		s.next_in = 0;
		s.avail_in = input.length;
		try {
			for (;;) {
				const room = Math.min(this.out.buf.length, capacity);
				if (this.written === room) {
					if (room >= capacity) throw this.tooLarge();
					const grown = new Uint8Array(Math.min(capacity, Math.max(FIRST_CHUNK, this.out.buf.length * 2)));
					grown.set(this.out.buf.subarray(0, this.written));
					this.out.buf = grown;
					continue;
				}
				s.output = this.out.buf;
				s.next_out = this.written;
				s.avail_out = room - this.written;
				const status = zlibInflate(s, Z_SYNC_FLUSH);
				this.written = s.next_out;
				if (this.written > this.limit) throw this.tooLarge();
				if (status === Z_STREAM_END) {
					// A persistent stream never ends; bytes after an end cannot be inflated.
					if (s.avail_in > 0) throw protocolError(`${this.label} zlib stream ended in the middle of a rectangle.`);
					break;
				}
				if (status !== Z_OK && status !== Z_BUF_ERROR) {
					throw protocolError(`${this.label} zlib data is corrupt: ${s.msg || `zlib status ${status}`}.`);
				}
				// Done once zlib has taken all the input and still had room to spare (nothing held back).
				if (s.avail_out > 0 && (s.avail_in === 0 || status === Z_BUF_ERROR)) break;
			}
		} finally {
			s.input = EMPTY;
		}
	}

	/** The rectangle's inflated bytes: a view valid until the next `begin`. */
	output(): Uint8Array {
		return this.out.buf.subarray(0, this.written);
	}

	/** Inflates one whole rectangle's data and returns the output (a view valid until the next call). */
	inflate(input: Uint8Array, limit: number): Uint8Array {
		this.begin(limit);
		this.push(input);
		return this.output();
	}

	/** Starts a new zlib stream (Tight's reset flags). */
	reset(): void {
		zlibInflateReset(this.strm);
	}

	private tooLarge(): IkvmError {
		return new IkvmError(
			"TOO_LARGE",
			`${this.label} data inflates to more than the ${this.limit} bytes its rectangle can hold; stopped there.`,
			{
				stage: "decode",
				hint: "The VNC server sent compressed data far larger than the screen area it claims to paint (a broken or hostile server); pick another encoding or check the server.",
			},
		);
	}
}

const EMPTY = new Uint8Array(0);

/**
 * A rectangle's zlib data as ZRLE and ZLIB send it: a u32 length, then that many bytes on the
 * connection's stream, inflated as they arrive (never buffered whole) to at most `maxOut` bytes.
 */
export class LengthPrefixedInflate {
	/** Compressed bytes of the current rectangle not yet inflated; null between rectangles. */
	private left: number | null = null;

	constructor(private readonly inflater: BoundedInflater) {}

	/** The inflated data once all of it has arrived, else null (need more bytes). */
	read(queue: ByteQueue, maxOut: number, describe: () => string): Uint8Array | null {
		if (this.left === null) {
			if (!queue.has(4)) return null;
			const length = queue.u32();
			// zlib never grows data by more than a few bytes per 16 KiB block.
			const maxIn = maxOut + (maxOut >> 6) + 4096;
			if (length > maxIn) {
				throw protocolError(`${describe()} claims ${length} bytes of data; at most ${maxIn} can be valid.`);
			}
			this.left = length;
			this.inflater.begin(maxOut);
		}
		const n = Math.min(this.left, queue.length);
		if (n > 0) {
			this.left -= n;
			try {
				this.inflater.push(queue.take(n));
			} catch (error) {
				this.left = null;
				throw error;
			}
		}
		if (this.left > 0) return null;
		this.left = null;
		return this.inflater.output();
	}
}
