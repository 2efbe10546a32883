// The mock BMC lives in src/demo so the embedded demo can use it too.
export * from "../../src/demo/bmc.ts";
