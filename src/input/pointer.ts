/**
 * Mouse actions → PointerStep[] in framebuffer pixels. The pointer state (which
 * buttons a `down` left held) is the caller's, so a drag can span calls.
 */
import { IkvmError } from "../errors.ts";
import { POINTER_BUTTON, type PointerStep } from "./types.ts";

export type MouseAction = "click" | "double_click" | "move" | "down" | "up" | "scroll";
export type MouseButton = "left" | "right" | "middle";

export const MAX_SCROLL = 50;
/** Between the two clicks of a double click: well inside every desktop's double-click time. */
const DOUBLE_CLICK_GAP_MS = 80;
/** Between press and release, so consoles that sample the button state see the press. */
const PRESS_MS = 30;

export interface PointerPlan {
	readonly steps: readonly PointerStep[];
	/** Buttons held after the steps (non-zero only after `down`). */
	readonly held: number;
}

export function planPointer(
	action: MouseAction,
	x: number,
	y: number,
	options: { button?: MouseButton; amount?: number; held?: number } = {},
): PointerPlan {
	const held = options.held ?? 0;
	const mask = POINTER_BUTTON[options.button ?? "left"];
	const at = (buttons: number): PointerStep => ({ kind: "pointer", x, y, buttons });
	const wait = (ms: number): PointerStep => ({ kind: "wait", ms });
	switch (action) {
		case "move":
			return { steps: [at(held)], held };
		case "down":
			return { steps: [at(held), at(held | mask)], held: held | mask };
		case "up":
			return { steps: [at(held), at(held & ~mask)], held: held & ~mask };
		case "click":
			return { steps: [at(held), at(held | mask), wait(PRESS_MS), at(held & ~mask)], held: held & ~mask };
		case "double_click": {
			const up = held & ~mask;
			return {
				steps: [
					at(held),
					at(up | mask),
					wait(PRESS_MS),
					at(up),
					wait(DOUBLE_CLICK_GAP_MS),
					at(up | mask),
					wait(PRESS_MS),
					at(up),
				],
				held: up,
			};
		}
		case "scroll": {
			const amount = options.amount ?? 1;
			if (!Number.isInteger(amount) || amount === 0 || Math.abs(amount) > MAX_SCROLL) {
				throw new IkvmError("BAD_INPUT", `amount must be a whole number from -${MAX_SCROLL} to ${MAX_SCROLL}, not 0.`, {
					hint: "Positive scrolls down, negative up. Nothing was sent.",
				});
			}
			// A wheel notch is the wheel "button" pressed and released (RFB buttons 4 and 5).
			const wheel = amount > 0 ? POINTER_BUTTON.wheelDown : POINTER_BUTTON.wheelUp;
			const steps: PointerStep[] = [at(held)];
			for (let i = 0; i < Math.abs(amount); i++) steps.push(at(held | wheel), at(held));
			return { steps, held };
		}
	}
}
