// Quiet logs in tests unless asked for: TEST_LOG=debug bun test
import { configureLogging, parseLogLevel } from "../src/log.ts";

configureLogging({ level: process.env.TEST_LOG ? parseLogLevel(process.env.TEST_LOG) : "silent" });
