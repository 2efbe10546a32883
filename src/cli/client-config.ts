/**
 * `ikvm-mcp config <client>`: the MCP client configuration for this checkout,
 * with the environment the user has set (secrets as placeholders unless asked).
 * README's snippets are this command's output, so they cannot go stale.
 */
import { resolve } from "node:path";

export const CLIENTS = ["claude-code", "claude-desktop", "cursor", "windsurf"] as const;
export type ClientName = (typeof CLIENTS)[number];

/** Variables worth passing to a launched server, in display order. */
const PASSED_VARS = [
	"OVH_ENDPOINT",
	"OVH_APPLICATION_KEY",
	"OVH_APPLICATION_SECRET",
	"OVH_CONSUMER_KEY",
	"OVH_IPMI_ALLOWED_IP",
	"OVH_IP_DISCOVERY_URL",
	"OVH_BMC_TLS_VERIFY",
	"IKVM_CONFIG",
	"LOG_LEVEL",
	"TOOL_TIMEOUT_SECONDS",
	"MAX_CONCURRENT_CONSOLES",
	"CONSOLE_IDLE_SECONDS",
	"CONSOLE_QUEUE_SECONDS",
	"IKVM_CONTROL",
	"IKVM_CONTROL_SERVERS",
	"IKVM_KEYBOARD_LAYOUT",
	"IKVM_AUDIT_LOG",
	"IKVM_KEY_DELAY_MS",
];

const SECRET_VARS = new Set(["OVH_APPLICATION_SECRET", "OVH_CONSUMER_KEY", "MCP_AUTH_TOKEN"]);

export interface ClientConfigOptions {
	client: ClientName;
	/** Absolute path of the checkout (where src/index.ts is). */
	root: string;
	/** How to run bun: absolute path by default, since GUI clients often lack PATH. */
	bun: string;
	env: Record<string, string | undefined>;
	withSecrets: boolean;
	/** URL of a running HTTP server, for clients that can connect to one. */
	url: string;
	/** Extra variables to pass (e.g. those named by the targets file). */
	extraVars?: string[];
	extraSecretVars?: string[];
}

function isSecret(name: string, options: ClientConfigOptions): boolean {
	return (
		SECRET_VARS.has(name) || (options.extraSecretVars ?? []).includes(name) || /PASSWORD|PASS$|SECRET|TOKEN/.test(name)
	);
}

/** The environment block: variables the user has set, secrets as `<NAME>` placeholders. */
export function envBlock(options: ClientConfigOptions): Record<string, string> {
	// Secrets send_keys may type ({secret NAME}) travel with the server; they are placeholders like any secret.
	const typed = Object.keys(options.env)
		.filter((n) => n.startsWith("IKVM_SECRET_"))
		.sort();
	const names = [...PASSED_VARS, ...typed, ...(options.extraVars ?? [])];
	const out: Record<string, string> = {};
	for (const name of names) {
		const value = options.env[name];
		if (value === undefined || value === "") continue;
		out[name] = isSecret(name, options) && !options.withSecrets ? `<${name}>` : value;
	}
	if (names.every((n) => !options.env[n])) {
		// Nothing set yet: show what OVH users need, as placeholders.
		for (const name of ["OVH_ENDPOINT", "OVH_APPLICATION_KEY", "OVH_APPLICATION_SECRET", "OVH_CONSUMER_KEY"]) {
			out[name] = name === "OVH_ENDPOINT" ? "eu" : `<${name}>`;
		}
	}
	return out;
}

function shellQuote(s: string): string {
	return /^[A-Za-z0-9_./:@=<>-]+$/.test(s) && !/[<>]/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function renderClientConfig(options: ClientConfigOptions): string {
	const entry = resolve(options.root, "src/index.ts");
	const env = envBlock(options);
	const command = { command: options.bun, args: ["run", entry, "--stdio"], env };
	switch (options.client) {
		case "claude-code": {
			const envFlags = Object.entries(env)
				.map(([k, v]) => `-e ${shellQuote(`${k}=${v}`)}`)
				.join(" ");
			return [
				"# Over HTTP, with the server already running (bun start):",
				`claude mcp add ikvm --transport http ${options.url}`,
				"",
				"# Or launched by Claude Code as a command (stdio):",
				`claude mcp add ikvm ${envFlags} -- ${shellQuote(options.bun)} run ${shellQuote(entry)} --stdio`,
			].join("\n");
		}
		case "claude-desktop":
			return JSON.stringify({ mcpServers: { ikvm: command } }, null, 2);
		case "cursor":
			return JSON.stringify({ mcpServers: { ikvm: command } }, null, 2);
		case "windsurf":
			return JSON.stringify({ mcpServers: { ikvm: command } }, null, 2);
	}
}

/** Where each client reads its configuration from. */
export const CLIENT_FILES: Record<ClientName, string> = {
	"claude-code": "run the commands below",
	"claude-desktop":
		"~/Library/Application Support/Claude/claude_desktop_config.json (macOS), %APPDATA%\\Claude\\claude_desktop_config.json (Windows)",
	cursor: "~/.cursor/mcp.json (or .cursor/mcp.json in a project)",
	windsurf: "~/.codeium/windsurf/mcp_config.json",
};
