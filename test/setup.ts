// Quiet logs in tests unless asked for: TEST_LOG=debug bun test
import { afterAll } from "bun:test";
import { configureLogging, parseLogLevel } from "../src/log.ts";
import { removeTempDirs } from "./support/targets-file.ts";

configureLogging({ level: process.env.TEST_LOG ? parseLogLevel(process.env.TEST_LOG) : "silent" });

// A preloaded afterAll runs once, after every test file.
afterAll(removeTempDirs);
