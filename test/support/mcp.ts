import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import sharp from "sharp";
import { type AppOptions, createApp } from "../../src/app.ts";
import { type AppConfig, loadConfig } from "../../src/config.ts";
import { createMcpServer } from "../../src/mcp/server.ts";
import { fakeFrameDriver } from "./fake-provider.ts";

export function testConfig(env: Record<string, string> = {}): AppConfig {
	return loadConfig({ PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent", ...env });
}

/** An MCP client connected to a fresh server over the in-memory transport. */
export async function inMemoryClient(options: AppOptions, env: Record<string, string> = {}) {
	const app = await createApp(testConfig(env), { ...options, drivers: [fakeFrameDriver, ...(options.drivers ?? [])] });
	const server = createMcpServer(app.toolDeps);
	const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
	await server.connect(serverTransport);
	const client = new Client({ name: "test", version: "0" });
	await client.connect(clientTransport);
	return {
		client,
		app,
		async close() {
			await client.close();
			await server.close();
			await app.close();
		},
	};
}

export async function httpClient(url: string, headers: Record<string, string> = {}): Promise<Client> {
	const client = new Client({ name: "test", version: "0" });
	await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
	return client;
}

export function texts(result: CallToolResult): string[] {
	return result.content.flatMap((c) => (c.type === "text" ? [c.text] : []));
}

export async function imageSize(result: CallToolResult): Promise<{ width: number; height: number; mimeType: string }> {
	const image = result.content.find((c) => c.type === "image");
	if (image?.type !== "image") throw new Error(`no image in result: ${JSON.stringify(result).slice(0, 300)}`);
	const meta = await sharp(Buffer.from(image.data, "base64")).metadata();
	return { width: meta.width ?? 0, height: meta.height ?? 0, mimeType: image.mimeType };
}

export async function imagePixels(result: CallToolResult): Promise<{ width: number; height: number; rgba: Buffer }> {
	const image = result.content.find((c) => c.type === "image");
	if (image?.type !== "image") throw new Error("no image in result");
	const { data, info } = await sharp(Buffer.from(image.data, "base64"))
		.ensureAlpha()
		.raw()
		.toBuffer({ resolveWithObject: true });
	return { width: info.width, height: info.height, rgba: data };
}
