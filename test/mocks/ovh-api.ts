// The mock OVH API lives in src/demo (the embedded demo runs it too); tests import it from here.
export * from "../../src/demo/ovh-api.ts";
