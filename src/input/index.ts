/**
 * The key notation and input module: parser, key names, layouts, HID usages,
 * keysyms, scan codes and pointer steps. Console sessions see only the types in
 * ./types.ts; the MCP tools build plans with these functions.
 */
export { KEYSYM, MODIFIER_NAMES, modifier, NAMED_KEYS, namedKey } from "./keys.ts";
export { isLayoutName, LAYOUT_NAMES, type LayoutName, layout } from "./layouts.ts";
export { chordLabel, destructiveChords, type KeyToken, MAX_TOTAL_WAIT_MS, MAX_WAIT_MS, parseKeys } from "./notation.ts";
export { type MouseAction, type MouseButton, type PointerPlan, planPointer } from "./pointer.ts";
export {
	charKeysym,
	describeKeys,
	describeSteps,
	type KeyPlan,
	type KeyPlanOptions,
	MAX_KEYS,
	planKeys,
	resolveKeys,
} from "./resolve.ts";
export { qemuKeycode, SCANCODE_USAGES, xtScancode } from "./scancodes.ts";
