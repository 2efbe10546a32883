/**
 * Keyboard layouts: which physical key (USB HID usage) and which modifiers type
 * a character on the host. A console that receives scancodes or HID reports
 * (AMI, QEMU extended key events) types what the host's layout makes of them,
 * so the layout must be the host's, chosen per target.
 *
 * Dead keys (de `^` and `` ` ``) are typed as the dead key followed by Space,
 * which is how a host with that layout produces the bare character.
 */

export type LayoutName = "us" | "uk" | "de" | "fr";

export const LAYOUT_NAMES: readonly LayoutName[] = ["us", "uk", "de", "fr"];

export interface KeyPosition {
	readonly usage: number;
	readonly shift: boolean;
	readonly altGr: boolean;
	/** A dead key on this layout: Space must follow to get the character itself. */
	readonly dead: boolean;
}

export interface Layout {
	readonly name: LayoutName;
	/** Where `char` is, or undefined when this layout cannot type it. */
	position(char: string): KeyPosition | undefined;
}

/**
 * One row per physical key: [HID usage, unshifted, shifted, AltGr]. A character
 * prefixed with "~" is a dead key. Empty strings: nothing on that level.
 */
type Row = readonly [number, string, string, string?];

const LETTERS = "abcdefghijklmnopqrstuvwxyz";

function letterRows(order: string): Row[] {
	// HID usages 0x04–0x1d are the key positions of a..z on a US keyboard.
	return [...order].map((c, i) => [0x04 + i, c, c.toUpperCase()] as const);
}

const US_ROWS: Row[] = [
	...letterRows(LETTERS),
	[0x1e, "1", "!"],
	[0x1f, "2", "@"],
	[0x20, "3", "#"],
	[0x21, "4", "$"],
	[0x22, "5", "%"],
	[0x23, "6", "^"],
	[0x24, "7", "&"],
	[0x25, "8", "*"],
	[0x26, "9", "("],
	[0x27, "0", ")"],
	[0x2c, " ", ""],
	[0x2d, "-", "_"],
	[0x2e, "=", "+"],
	[0x2f, "[", "{"],
	[0x30, "]", "}"],
	[0x31, "\\", "|"],
	[0x33, ";", ":"],
	[0x34, "'", '"'],
	[0x35, "`", "~"],
	[0x36, ",", "<"],
	[0x37, ".", ">"],
	[0x38, "/", "?"],
];

const UK_ROWS: Row[] = [
	...letterRows(LETTERS),
	[0x1e, "1", "!"],
	[0x1f, "2", '"'],
	[0x20, "3", "£"],
	[0x21, "4", "$", "€"],
	[0x22, "5", "%"],
	[0x23, "6", "^"],
	[0x24, "7", "&"],
	[0x25, "8", "*"],
	[0x26, "9", "("],
	[0x27, "0", ")"],
	[0x2c, " ", ""],
	[0x2d, "-", "_"],
	[0x2e, "=", "+"],
	[0x2f, "[", "{"],
	[0x30, "]", "}"],
	// ISO key left of Enter
	[0x32, "#", "~"],
	[0x33, ";", ":"],
	[0x34, "'", "@"],
	[0x35, "`", "¬"],
	[0x36, ",", "<"],
	[0x37, ".", ">"],
	[0x38, "/", "?"],
	// ISO key right of left Shift
	[0x64, "\\", "|"],
];

// QWERTZ: y and z swap places.
const DE_ROWS: Row[] = [
	...letterRows("abcdefghijklmnopqrstuvwxzy").map(
		(r): Row => (r[1] === "q" ? [r[0], "q", "Q", "@"] : r[1] === "e" ? [r[0], "e", "E", "€"] : r),
	),
	[0x1e, "1", "!"],
	[0x1f, "2", '"', "²"],
	[0x20, "3", "§", "³"],
	[0x21, "4", "$"],
	[0x22, "5", "%"],
	[0x23, "6", "&"],
	[0x24, "7", "/", "{"],
	[0x25, "8", "(", "["],
	[0x26, "9", ")", "]"],
	[0x27, "0", "=", "}"],
	[0x2c, " ", ""],
	[0x2d, "ß", "?", "\\"],
	[0x2e, "~´", "~`"],
	[0x2f, "ü", "Ü"],
	[0x30, "+", "*", "~"],
	[0x32, "#", "'"],
	[0x33, "ö", "Ö"],
	[0x34, "ä", "Ä"],
	[0x35, "~^", "°"],
	[0x36, ",", ";"],
	[0x37, ".", ":"],
	[0x38, "-", "_"],
	[0x64, "<", ">", "|"],
];

// AZERTY: a↔q, z↔w, m sits right of l, the US m key types "," and "?".
const FR_ROWS: Row[] = [
	...letterRows("qbcdefghijkl,noparstuvzxyw").map((r): Row => {
		if (r[1] === ",") return [r[0], ",", "?"];
		if (r[1] === "e") return [r[0], "e", "E", "€"];
		return r;
	}),
	[0x33, "m", "M"],
	[0x1e, "&", "1"],
	[0x1f, "é", "2", "~"],
	[0x20, '"', "3", "#"],
	[0x21, "'", "4", "{"],
	[0x22, "(", "5", "["],
	[0x23, "-", "6", "|"],
	[0x24, "è", "7", "`"],
	[0x25, "_", "8", "\\"],
	[0x26, "ç", "9", "^"],
	[0x27, "à", "0", "@"],
	[0x2c, " ", ""],
	[0x2d, ")", "°", "]"],
	[0x2e, "=", "+", "}"],
	[0x2f, "~^", "~¨"],
	[0x30, "$", "£", "¤"],
	[0x32, "*", "µ"],
	[0x34, "ù", "%"],
	[0x35, "²", ""],
	[0x36, ";", "."],
	[0x37, ":", "/"],
	[0x38, "!", "§"],
	[0x64, "<", ">"],
];

function buildLayout(name: LayoutName, rows: Row[]): Layout {
	const map = new Map<string, KeyPosition>();
	const put = (entry: string | undefined, usage: number, shift: boolean, altGr: boolean) => {
		if (!entry) return;
		const dead = entry.length > 1 && entry.startsWith("~");
		const char = dead ? entry.slice(1) : entry;
		// The first position found wins: a character reachable without AltGr or a dead key is typed that way.
		if (!map.has(char)) map.set(char, { usage, shift, altGr, dead });
	};
	for (const [usage, base, shifted] of rows) {
		put(base, usage, false, false);
		put(shifted, usage, true, false);
	}
	for (const [usage, , , altGr] of rows) put(altGr, usage, false, true);
	return { name, position: (char) => map.get(char) };
}

const LAYOUTS: Record<LayoutName, Layout> = {
	us: buildLayout("us", US_ROWS),
	uk: buildLayout("uk", UK_ROWS),
	de: buildLayout("de", DE_ROWS),
	fr: buildLayout("fr", FR_ROWS),
};

export function layout(name: LayoutName): Layout {
	return LAYOUTS[name];
}

export function isLayoutName(name: string): name is LayoutName {
	return (LAYOUT_NAMES as readonly string[]).includes(name);
}
