// biome-ignore-all lint/style/noNonNullAssertion: typed-array reads in codec loops are in bounds by construction; `!` keeps them branch-free under noUncheckedIndexedAccess.
/**
 * The AST2500 bit stream: the compressed bytes are
 * little-endian 32-bit words whose bits are consumed from bit 31 down, i.e. a
 * plain MSB-first bit string in which every 4-byte group is byte-reversed.
 *
 * The reader is a bit position over a word array padded with zero words, so
 * reads past the end yield zeros (as the BMC's viewer does) without a bounds
 * branch on every read. The frame loop ends on AMI's rule: after a block, stop
 * once the word index *its* reader would load next reaches CompressSize/4.
 */

/**
 * Zero words kept after the data. One block can read at most ~10.5 kbit
 * (six data units of 63 maximal AC codes), and the frame loop never starts a
 * block beyond the data, so 512 words (16 kbit) cover every overrun.
 */
export const PAD_WORDS = 512;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export class BitReader {
	/** Data words followed by PAD_WORDS zero words. */
	words: Uint32Array = new Uint32Array(PAD_WORDS + 2);
	/** Bits consumed since the start of the frame. */
	pos = 0;
	/** Words that hold data (CompressSize / 4, rounded up). */
	dataWords = 0;
	private byteLength = 0;

	/** Starts a new frame over `data` (exactly the CompressSize compressed bytes). */
	load(data: Uint8Array): void {
		this.byteLength = data.length;
		this.dataWords = Math.ceil(data.length / 4);
		const needed = this.dataWords + PAD_WORDS;
		if (this.words.length < needed) {
			this.words = new Uint32Array(needed);
		} else {
			this.words.fill(0, this.dataWords > 0 ? this.dataWords - 1 : 0);
		}
		if (LITTLE_ENDIAN) {
			new Uint8Array(this.words.buffer, 0, data.length).set(data);
		} else {
			const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
			const full = data.length >>> 2;
			for (let i = 0; i < full; i++) this.words[i] = view.getUint32(i * 4, true);
			for (let b = full * 4; b < data.length; b++) {
				this.words[full] = (this.words[full] ?? 0) | ((data[b] ?? 0) << (8 * (b & 3)));
			}
		}
		this.pos = 0;
	}

	/** The next 32 unread bits, MSB-aligned, as an unsigned number. */
	peek32(): number {
		const w = this.pos >>> 5;
		const o = this.pos & 31;
		// `>>> 1 >>> (31 - o)` instead of `>>> (32 - o)`: JS shift counts are mod 32.
		return ((this.words[w]! << o) | ((this.words[w + 1]! >>> 1) >>> (31 - o))) >>> 0;
	}

	/** The next k bits (1..32) as an unsigned number, without consuming them. */
	peek(k: number): number {
		return this.peek32() >>> (32 - k);
	}

	skip(k: number): void {
		this.pos += k;
	}

	/** Reads k bits (0..31) as an unsigned number. */
	read(k: number): number {
		if (k === 0) return 0;
		const v = this.peek32() >>> (32 - k);
		this.pos += k;
		return v;
	}

	/** The word index AMI's reader has reached (it keeps two words buffered ahead). */
	wordIndex(): number {
		return 2 + Math.floor(this.pos / 32);
	}

	/** AMI's end-of-frame rule (b): idx >= CompressSize / 4. */
	pastEnd(): boolean {
		return this.wordIndex() >= this.byteLength / 4;
	}

	/** True if the reader has run so far past the data that even the padding is used up. */
	overran(): boolean {
		return (this.pos >>> 5) + 2 > this.words.length;
	}
}
