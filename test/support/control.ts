/** An MCP client on an app whose servers are recording consoles (test/support/fake-console.ts). */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { type CallToolResult, ElicitRequestSchema, type ElicitResult } from "@modelcontextprotocol/sdk/types.js";
import { createApp } from "../../src/app.ts";
import type { ControlKind } from "../../src/config.ts";
import { configureLogging } from "../../src/log.ts";
import { createMcpServer } from "../../src/mcp/server.ts";
import { type ConsoleRecord, ControlProvider, type ControlServer, recordingOpener } from "./fake-console.ts";
import { testConfig } from "./mcp.ts";
import { tempDir } from "./targets-file.ts";

export const ALL: ReadonlySet<ControlKind> = new Set(["keyboard", "mouse", "power"]);

export const SERVERS: ControlServer[] = [
	{ info: { id: "web-1", name: "Web 1", provider: "fake", datacenter: "rbx8", ip: null }, control: ALL },
	{ info: { id: "db-1", name: "Database", provider: "fake", datacenter: null, ip: null }, control: new Set() },
	{
		info: { id: "kbd-1", name: "Keyboard only", provider: "fake", datacenter: null, ip: null },
		control: new Set(["keyboard"]),
	},
];

export interface ControlHarness {
	client: Client;
	records: Record<string, ConsoleRecord>;
	provider: ControlProvider;
	auditPath: string;
	auditLines(): Record<string, unknown>[];
	auditText(): string;
	/** Every server log line written while the harness ran. */
	logLines: string[];
	call(name: string, args: Record<string, unknown>): Promise<CallToolResult>;
	close(): Promise<void>;
}

export async function controlHarness(
	env: Record<string, string>,
	options: { elicit?: (message: string) => ElicitResult; servers?: ControlServer[] } = {},
): Promise<ControlHarness> {
	const auditPath = join(tempDir("ikvm-audit-"), "audit.jsonl");
	const logLines: string[] = [];
	configureLogging({ level: "debug", sink: (line) => logLines.push(line) });
	const records: Record<string, ConsoleRecord> = {};
	let provider!: ControlProvider;
	const app = await createApp(testConfig({ IKVM_AUDIT_LOG: auditPath, ...env }), {
		opener: recordingOpener(records),
		providers: () => {
			provider = new ControlProvider(options.servers ?? SERVERS);
			return [provider];
		},
	});
	const server = createMcpServer(app.toolDeps);
	const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
	await server.connect(serverTransport);
	const client = new Client(
		{ name: "control-test", version: "1" },
		{ capabilities: options.elicit ? { elicitation: {} } : {} },
	);
	const elicit = options.elicit;
	if (elicit) client.setRequestHandler(ElicitRequestSchema, async (req) => elicit(req.params.message));
	await client.connect(clientTransport);
	const read = () => {
		try {
			return readFileSync(auditPath, "utf8");
		} catch {
			return "";
		}
	};
	return {
		client,
		records,
		provider,
		auditPath,
		auditText: read,
		auditLines: () =>
			read()
				.split("\n")
				.filter(Boolean)
				.map((l) => JSON.parse(l)),
		logLines,
		call: async (name, args) => (await client.callTool({ name, arguments: args })) as CallToolResult,
		async close() {
			await client.close();
			await server.close();
			await app.close();
			configureLogging({ level: "silent" });
		},
	};
}
