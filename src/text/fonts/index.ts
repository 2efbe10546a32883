/**
 * Every console font the recogniser knows, most common first (the order breaks ties between fonts
 * that draw a screen identically).
 */
import { fixed14, fixed16 } from "./fixed.ts";
import {
	terU12n,
	terU14b,
	terU14n,
	terU16b,
	terU16n,
	terU16v,
	terU18n,
	terU20n,
	terU22n,
	terU24n,
	terU28n,
	terU32b,
	terU32n,
} from "./terminus.ts";
import type { FontTable } from "./types.ts";
import { vga8, vga14, vga16 } from "./vga.ts";

export type { FontTable } from "./types.ts";

export const FONTS: readonly FontTable[] = [
	vga16,
	fixed16,
	terU16n,
	terU16b,
	terU16v,
	vga8,
	vga14,
	fixed14,
	terU14n,
	terU14b,
	terU12n,
	terU18n,
	terU20n,
	terU22n,
	terU24n,
	terU28n,
	terU32n,
	terU32b,
];
