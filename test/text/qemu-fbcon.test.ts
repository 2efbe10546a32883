import { describePanicScenario } from "./qemu-panic-scenario.ts";

// vesafb framebuffer console (vga=791): 128x48 cells of 8x16, the kernel's font.
await describePanicScenario({
	name: "framebuffer console 1024x768",
	append: "vga=791",
	width: 1024,
	height: 768,
	cols: 128,
	rows: 48,
});
