/**
 * The receive queue: bytes arrive in arbitrary chunks (a WebSocket frame or a
 * TCP read can end anywhere, or hold several messages), parsers check `has(n)`
 * and either consume a whole unit or return "need more bytes" and try again
 * when the next chunk arrives. Reads are big-endian, as RFB is.
 */
export class ByteQueue {
	private buf: Uint8Array;
	private start = 0;
	private end = 0;

	constructor(initialCapacity = 64 * 1024) {
		this.buf = new Uint8Array(initialCapacity);
	}

	/** Bytes waiting to be read. */
	get length(): number {
		return this.end - this.start;
	}

	has(n: number): boolean {
		return this.end - this.start >= n;
	}

	push(chunk: Uint8Array): void {
		if (chunk.length === 0) return;
		if (this.start === this.end) {
			this.start = 0;
			this.end = 0;
		}
		if (this.end + chunk.length > this.buf.length) {
			const pending = this.end - this.start;
			const needed = pending + chunk.length;
			if (needed <= this.buf.length >> 1) {
				this.buf.copyWithin(0, this.start, this.end);
			} else {
				const grown = new Uint8Array(Math.max(this.buf.length * 2, needed * 2));
				grown.set(this.buf.subarray(this.start, this.end));
				this.buf = grown;
			}
			this.start = 0;
			this.end = pending;
		}
		this.buf.set(chunk, this.end);
		this.end += chunk.length;
	}

	u8(): number {
		this.need(1);
		return this.buf[this.start++] as number;
	}

	u16(): number {
		this.need(2);
		const b = this.buf;
		const s = this.start;
		this.start += 2;
		return ((b[s] as number) << 8) | (b[s + 1] as number);
	}

	u32(): number {
		this.need(4);
		const v = this.peekU32(0);
		this.start += 4;
		return v;
	}

	s32(): number {
		return this.u32() | 0;
	}

	peekU8(offset = 0): number {
		this.need(offset + 1);
		return this.buf[this.start + offset] as number;
	}

	peekU16(offset = 0): number {
		this.need(offset + 2);
		const s = this.start + offset;
		return ((this.buf[s] as number) << 8) | (this.buf[s + 1] as number);
	}

	peekU32(offset = 0): number {
		this.need(offset + 4);
		const b = this.buf;
		const s = this.start + offset;
		return (
			(((b[s] as number) << 24) | ((b[s + 1] as number) << 16) | ((b[s + 2] as number) << 8) | (b[s + 3] as number)) >>>
			0
		);
	}

	/** The next `n` bytes as a view into the queue: valid only until the next `push`. */
	take(n: number): Uint8Array {
		this.need(n);
		const view = this.buf.subarray(this.start, this.start + n);
		this.start += n;
		return view;
	}

	/** A copy of the next `n` bytes that survives later pushes. */
	takeCopy(n: number): Uint8Array {
		return this.take(n).slice();
	}

	skip(n: number): void {
		this.need(n);
		this.start += n;
	}

	/** Drops everything still queued. */
	clear(): void {
		this.start = 0;
		this.end = 0;
	}

	private need(n: number): void {
		if (this.end - this.start < n) {
			// A parser bug, not bad input: parsers check has() before reading.
			throw new RangeError(`ByteQueue: read of ${n} bytes with ${this.end - this.start} queued`);
		}
	}
}
