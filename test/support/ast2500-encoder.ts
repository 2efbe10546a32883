/** The AST2500 test encoder lives in src/demo (the embedded demo's mock BMC uses it too). */
export * from "../../src/demo/ast2500-encoder.ts";
export { renderConsole, sampleConsolePicture } from "../../src/demo/console-picture.ts";
