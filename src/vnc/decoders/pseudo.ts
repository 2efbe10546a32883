/**
 * Pseudo-encodings that carry state rather than pixels, written into the
 * connection's ServerState:
 *   Cursor (-239)            x, y = hotspot; w × h wire pixels, then a bitmask
 *                            of ceil(w / 8) bytes per row (1 = opaque, MSB first)
 *   Cursor With Alpha (-314) x, y = hotspot; a s32 encoding (Raw here) and
 *                            w × h pixels as R, G, B, A bytes, alpha premultiplied
 *   DesktopName (-307)       a u32 length and the UTF-8 name
 *   PointerPos (-232)        x, y = where the server's pointer is; no data
 * A 0x0 cursor means "no cursor".
 */
import type { ByteQueue } from "../byte-queue.ts";
import { protocolError } from "../errors.ts";
import type { RectHeader } from "../types.ts";
import type { RectDecoder, ScreenLayout, ServerState } from "./decoder.ts";

/** Larger cursors than this are not cursors (real ones are at most 256x256). */
export const MAX_CURSOR = 512;
const MAX_NAME = 64 * 1024;

function checkCursorSize(rect: RectHeader, name: string): void {
	if (rect.width > MAX_CURSOR || rect.height > MAX_CURSOR) {
		throw protocolError(
			`${name} shape of ${rect.width}x${rect.height} is larger than any pointer (${MAX_CURSOR}x${MAX_CURSOR}).`,
		);
	}
}

function setCursor(state: ServerState, rect: RectHeader, rgba: Uint8Array): void {
	state.cursor =
		rect.width === 0 || rect.height === 0
			? undefined
			: { width: rect.width, height: rect.height, hotX: rect.x, hotY: rect.y, rgba };
}

export class CursorDecoder implements RectDecoder {
	readonly pseudo = true;
	constructor(private readonly state: ServerState) {}

	decodeRect(rect: RectHeader, queue: ByteQueue): boolean {
		checkCursorSize(rect, "Cursor");
		const { width: w, height: h } = rect;
		const maskRow = Math.ceil(w / 8);
		const length = w * h * 4 + maskRow * h;
		if (!queue.has(length)) return false;
		const data = queue.take(length);
		const rgba = new Uint8Array(w * h * 4);
		const mask = w * h * 4;
		for (let j = 0; j < h; j++) {
			for (let i = 0; i < w; i++) {
				const p = (j * w + i) * 4;
				const opaque = ((data[mask + j * maskRow + (i >> 3)] as number) >> (7 - (i & 7))) & 1;
				rgba[p] = data[p] as number;
				rgba[p + 1] = data[p + 1] as number;
				rgba[p + 2] = data[p + 2] as number;
				rgba[p + 3] = opaque ? 255 : 0;
			}
		}
		setCursor(this.state, rect, rgba);
		return true;
	}
}

export class CursorWithAlphaDecoder implements RectDecoder {
	readonly pseudo = true;
	constructor(private readonly state: ServerState) {}

	decodeRect(rect: RectHeader, queue: ByteQueue): boolean {
		checkCursorSize(rect, "Cursor With Alpha");
		if (!queue.has(4)) return false;
		const encoding = queue.peekU32() | 0;
		if (encoding !== 0) {
			throw protocolError(`Cursor With Alpha sent in encoding ${encoding}; this client reads it only as Raw (0).`);
		}
		const length = rect.width * rect.height * 4;
		if (!queue.has(4 + length)) return false;
		queue.skip(4);
		const rgba = queue.takeCopy(length);
		// Straight alpha for compositing later: un-premultiply.
		for (let p = 0; p < length; p += 4) {
			const a = rgba[p + 3] as number;
			if (a === 0 || a === 255) continue;
			for (let c = 0; c < 3; c++) rgba[p + c] = Math.min(255, Math.round(((rgba[p + c] as number) * 255) / a));
		}
		setCursor(this.state, rect, rgba);
		return true;
	}
}

export class DesktopNameDecoder implements RectDecoder {
	readonly pseudo = true;
	private readonly text = new TextDecoder("utf-8", { fatal: false });
	constructor(private readonly state: ServerState) {}

	decodeRect(_rect: RectHeader, queue: ByteQueue): boolean {
		if (!queue.has(4)) return false;
		const length = queue.peekU32();
		if (length > MAX_NAME) throw protocolError(`The VNC server sent a desktop name of ${length} bytes.`);
		if (!queue.has(4 + length)) return false;
		queue.skip(4);
		this.state.desktopName = this.text.decode(queue.take(length));
		return true;
	}
}

export class PointerPosDecoder implements RectDecoder {
	readonly pseudo = true;
	constructor(private readonly state: ServerState) {}

	decodeRect(rect: RectHeader): boolean {
		this.state.pointer = { x: rect.x, y: rect.y };
		return true;
	}
}

/**
 * ExtendedDesktopSize data: a u8 screen count, 3 bytes of padding, then per
 * screen a u32 id, u16 x, y, width, height and a u32 flags. Returns the
 * layout once all of it is queued (consuming it), else null.
 */
export function readScreenLayout(queue: ByteQueue): ScreenLayout[] | null {
	if (!queue.has(4)) return null;
	const count = queue.peekU8();
	if (!queue.has(4 + count * 16)) return null;
	queue.skip(4);
	const screens: ScreenLayout[] = [];
	for (let i = 0; i < count; i++) {
		const id = queue.u32();
		const x = queue.u16();
		const y = queue.u16();
		const width = queue.u16();
		const height = queue.u16();
		screens.push({ id, x, y, width, height, flags: queue.u32() });
	}
	return screens;
}
