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
];

const SECRET_VARS = new Set(["OVH_APPLICATION_SECRET", "OVH_CONSUMER_KEY", "MCP_AUTH_TOKEN"]);

/** How a launched server is started: the server itself, or the demo with its simulated hardware. */
export type LaunchKind = "server" | "demo";

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
	/**
	 * Absolute path of the targets file the launched server must read: a client starts it from its
	 * own working directory, where ./ikvm.config.json is not.
	 */
	targetsFile?: string;
	/** Print the demo's configuration instead (simulated hardware, no variables). */
	launch?: LaunchKind;
}

function isSecret(name: string, options: ClientConfigOptions): boolean {
	return (
		SECRET_VARS.has(name) || (options.extraSecretVars ?? []).includes(name) || /PASSWORD|PASS$|SECRET|TOKEN/.test(name)
	);
}

/**
 * The environment block: variables the user has set, secrets as `<NAME>` placeholders; every
 * variable the targets file names (a placeholder when unset, since the server refuses to start
 * without it); IKVM_CONFIG as an absolute path. OVH placeholders only when nothing is configured.
 */
export function envBlock(options: ClientConfigOptions): Record<string, string> {
	if (options.launch === "demo") return {};
	const extra = options.extraVars ?? [];
	const names = [...PASSED_VARS, ...extra.filter((n) => !PASSED_VARS.includes(n))];
	const out: Record<string, string> = {};
	for (const name of names) {
		if (name === "IKVM_CONFIG" && options.targetsFile) {
			out[name] = options.targetsFile;
			continue;
		}
		const value = options.env[name];
		if (value === undefined || value === "") {
			if (extra.includes(name)) out[name] = `<${name}>`;
			continue;
		}
		out[name] = isSecret(name, options) && !options.withSecrets ? `<${name}>` : value;
	}
	if (Object.keys(out).length === 0) {
		// Nothing set yet: show what OVH users need, as placeholders.
		for (const name of ["OVH_ENDPOINT", "OVH_APPLICATION_KEY", "OVH_APPLICATION_SECRET", "OVH_CONSUMER_KEY"]) {
			out[name] = name === "OVH_ENDPOINT" ? "eu" : `<${name}>`;
		}
	}
	return out;
}

/** The variables a targets file names (`passwordEnv`, `usernameEnv`, any `…Env`), and which hold secrets. */
export function targetsFileVars(text: string): { vars: string[]; secretVars: string[] } {
	const vars: string[] = [];
	const secretVars: string[] = [];
	let json: unknown;
	try {
		json = JSON.parse(text);
	} catch {
		return { vars, secretVars };
	}
	const servers = (json as { servers?: unknown })?.servers;
	if (!Array.isArray(servers)) return { vars, secretVars };
	for (const server of servers) {
		if (!server || typeof server !== "object") continue;
		for (const [key, value] of Object.entries(server as Record<string, unknown>)) {
			if (!key.endsWith("Env") || typeof value !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) continue;
			if (!vars.includes(value)) vars.push(value);
			if (!/^username/i.test(key) && !secretVars.includes(value)) secretVars.push(value);
		}
	}
	return { vars, secretVars };
}

function shellQuote(s: string): string {
	return /^[A-Za-z0-9_./:@=<>-]+$/.test(s) && !/[<>]/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function renderClientConfig(options: ClientConfigOptions): string {
	const demo = options.launch === "demo";
	const entry = resolve(options.root, demo ? "src/demo/main.ts" : "src/index.ts");
	const name = demo ? "ikvm-demo" : "ikvm";
	const env = envBlock(options);
	const command = { command: options.bun, args: ["run", entry, "--stdio"], env };
	switch (options.client) {
		case "claude-code": {
			const envFlags = Object.entries(env)
				.map(([k, v]) => ` -e ${shellQuote(`${k}=${v}`)}`)
				.join("");
			return [
				`# Over HTTP, with the server already running (${demo ? "bun run demo" : "bun start"}):`,
				`claude mcp add ${name} --transport http ${options.url}`,
				"",
				"# Or launched by Claude Code as a command (stdio):",
				`claude mcp add ${name}${envFlags} -- ${shellQuote(options.bun)} run ${shellQuote(entry)} --stdio`,
			].join("\n");
		}
		case "claude-desktop":
		case "cursor":
		case "windsurf":
			return JSON.stringify({ mcpServers: { [name]: command } }, null, 2);
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
