import { describePanicScenario } from "./qemu-panic-scenario.ts";

// VGA text mode: 80x25 cells of 9x16, the BIOS font.
await describePanicScenario({ name: "VGA text mode 720x400", width: 720, height: 400, cols: 80, rows: 25 });
