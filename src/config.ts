/**
 * Process configuration from environment variables (and CLI overrides),
 * validated with zod so a bad value is a clear start-up error.
 */
import { z } from "zod";
import { IkvmError } from "./errors.ts";
import { LOG_LEVELS, type LogLevel } from "./log.ts";

export interface OvhSettings {
	endpoint: string;
	applicationKey: string;
	applicationSecret: string;
	consumerKey: string;
	/** Public IPv4 OVH should let reach the BMC; discovered when absent. */
	ipmiAllowedIp?: string;
	/** "What is my IP" URL used for that discovery; "off" disables it. */
	ipDiscoveryUrl?: string;
	/**
	 * Verify the BMC's TLS certificate behind a viewer URL. Off by default: BMCs ship self-signed
	 * certificates, and the viewer URL comes from OVH's signed API for that server's own BMC.
	 */
	bmcTlsVerify?: boolean;
}

export interface AppConfig {
	transport: "http" | "stdio";
	host: string;
	port: number;
	authToken?: string;
	allowedOrigins: string[];
	allowedHosts: string[];
	logLevel: LogLevel;
	toolTimeoutMs: number;
	maxConcurrentConsoles: number;
	/** How long an idle KVM/VNC connection stays open for the next capture. */
	consoleIdleMs: number;
	/** How long a capture waits for a free console slot before a BUSY error. */
	consoleQueueMs: number;
	maxBodyBytes: number;
	/** Largest framebuffer any console path may allocate. */
	maxFramebuffer: { width: number; height: number };
	/** Static VNC/AMI targets file. */
	configPath?: string;
	ovh?: OvhSettings;
}

export interface ConfigOverrides {
	transport?: "http" | "stdio";
	host?: string;
	port?: number;
	configPath?: string;
}

const intFrom = (name: string, min: number, max: number) =>
	z
		.string()
		.regex(/^\d+$/, `${name} must be a whole number`)
		.transform(Number)
		.refine((n) => n >= min && n <= max, `${name} must be between ${min} and ${max}`);

const list = z
	.string()
	.transform((s) =>
		s
			.split(",")
			.map((x) => x.trim())
			.filter(Boolean),
	)
	.optional();

/**
 * Largest console picture accepted by default: 4K UHD width by DCI height covers every BMC and VM
 * console in use (BMCs top out at 1920x1200, VMs at 4K), and bounds one RGBA framebuffer to 34 MiB.
 */
export const DEFAULT_MAX_FRAMEBUFFER = { width: 4096, height: 2160 } as const;
/** Below this no console is usable (VGA text is 640x400); 0x0 would refuse every console. */
const MIN_FRAMEBUFFER = 64;
/** RFB sizes are 16-bit. */
const MAX_FRAMEBUFFER_SIDE = 16384;

/** `ikvm-mcp config` prints secrets as `<NAME>` placeholders; one left in place is a mistake, not a value. */
export const PLACEHOLDER = /^<[A-Za-z][A-Za-z0-9_]*>$/;

const envSchema = z.object({
	PORT: intFrom("PORT", 0, 65535).optional(),
	HOST: z.string().min(1).optional(),
	MCP_TRANSPORT: z.enum(["http", "stdio"]).optional(),
	MCP_AUTH_TOKEN: z.string().min(16, "MCP_AUTH_TOKEN must be at least 16 characters").optional(),
	MCP_ALLOWED_ORIGINS: list,
	MCP_ALLOWED_HOSTS: list,
	LOG_LEVEL: z
		.string()
		.transform((v) => v.toLowerCase())
		.refine((v): v is LogLevel => (LOG_LEVELS as readonly string[]).includes(v), {
			error: `LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}`,
		})
		.optional(),
	TOOL_TIMEOUT_SECONDS: intFrom("TOOL_TIMEOUT_SECONDS", 1, 3600).optional(),
	MAX_CONCURRENT_CONSOLES: intFrom("MAX_CONCURRENT_CONSOLES", 1, 256).optional(),
	CONSOLE_IDLE_SECONDS: intFrom("CONSOLE_IDLE_SECONDS", 0, 3600).optional(),
	CONSOLE_QUEUE_SECONDS: intFrom("CONSOLE_QUEUE_SECONDS", 0, 3600).optional(),
	MAX_FRAMEBUFFER: z
		.string()
		.regex(/^\d{1,6}x\d{1,6}$/, "MAX_FRAMEBUFFER must look like 4096x2160")
		.transform((v) => v.split("x").map(Number) as [number, number])
		.refine(
			([w, h]) =>
				w >= MIN_FRAMEBUFFER && h >= MIN_FRAMEBUFFER && w <= MAX_FRAMEBUFFER_SIDE && h <= MAX_FRAMEBUFFER_SIDE,
			`MAX_FRAMEBUFFER must be between ${MIN_FRAMEBUFFER}x${MIN_FRAMEBUFFER} and ${MAX_FRAMEBUFFER_SIDE}x${MAX_FRAMEBUFFER_SIDE}`,
		)
		.optional(),
	IKVM_CONFIG: z.string().min(1).optional(),
	OVH_ENDPOINT: z.string().min(1).optional(),
	OVH_APPLICATION_KEY: z.string().min(1).optional(),
	OVH_APPLICATION_SECRET: z.string().min(1).optional(),
	OVH_CONSUMER_KEY: z.string().min(1).optional(),
	OVH_IPMI_ALLOWED_IP: z.ipv4("OVH_IPMI_ALLOWED_IP must be an IPv4 address").optional(),
	OVH_IP_DISCOVERY_URL: z
		.union([
			z.literal("off"),
			z.url({ protocol: /^https?$/, error: "OVH_IP_DISCOVERY_URL must be an http(s) URL or off" }),
		])
		.optional(),
	OVH_BMC_TLS_VERIFY: z
		.enum(["0", "1", "false", "true", "no", "yes"], { error: "OVH_BMC_TLS_VERIFY must be 1 or 0" })
		.transform((v) => ["1", "true", "yes"].includes(v))
		.optional(),
});

const OVH_VARS = ["OVH_APPLICATION_KEY", "OVH_APPLICATION_SECRET", "OVH_CONSUMER_KEY"] as const;

export function loadConfig(env: Record<string, string | undefined>, overrides: ConfigOverrides = {}): AppConfig {
	// Empty variables count as unset: shells and .env files often leave them so.
	const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
	for (const name of Object.keys(envSchema.shape)) {
		const value = present[name];
		if (value !== undefined && PLACEHOLDER.test(value)) {
			throw new IkvmError("CONFIG_INVALID", `Invalid ${name}: it is still the placeholder ${value}.`, {
				hint: `Put the real value of ${name} in place of ${value} (ikvm-mcp config prints secrets as placeholders unless --with-secrets is given).`,
			});
		}
	}
	const parsed = envSchema.safeParse(present);
	if (!parsed.success) {
		const issue = parsed.error.issues[0];
		const field = issue?.path.join(".") ?? "environment";
		throw new IkvmError("CONFIG_INVALID", `Invalid ${field}: ${issue?.message ?? "bad value"}.`);
	}
	const e = parsed.data;

	let ovh: OvhSettings | undefined;
	const setOvh = OVH_VARS.filter((k) => e[k]);
	if (setOvh.length > 0 && setOvh.length < OVH_VARS.length) {
		const missing = OVH_VARS.filter((k) => !e[k]);
		throw new IkvmError("CONFIG_INVALID", `OVH is partly configured: ${missing.join(", ")} missing.`, {
			hint: "Set all of OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET and OVH_CONSUMER_KEY, or none.",
		});
	}
	if (e.OVH_APPLICATION_KEY && e.OVH_APPLICATION_SECRET && e.OVH_CONSUMER_KEY) {
		ovh = {
			endpoint: e.OVH_ENDPOINT ?? "eu",
			applicationKey: e.OVH_APPLICATION_KEY,
			applicationSecret: e.OVH_APPLICATION_SECRET,
			consumerKey: e.OVH_CONSUMER_KEY,
			ipmiAllowedIp: e.OVH_IPMI_ALLOWED_IP,
			ipDiscoveryUrl: e.OVH_IP_DISCOVERY_URL,
			bmcTlsVerify: e.OVH_BMC_TLS_VERIFY ?? false,
		};
	}

	const [fbW, fbH] = e.MAX_FRAMEBUFFER ?? [DEFAULT_MAX_FRAMEBUFFER.width, DEFAULT_MAX_FRAMEBUFFER.height];
	return {
		transport: overrides.transport ?? e.MCP_TRANSPORT ?? "http",
		host: overrides.host ?? e.HOST ?? "127.0.0.1",
		port: overrides.port ?? e.PORT ?? 3001,
		authToken: e.MCP_AUTH_TOKEN,
		allowedOrigins: (e.MCP_ALLOWED_ORIGINS ?? []).map((o) => o.replace(/\/$/, "")),
		allowedHosts: (e.MCP_ALLOWED_HOSTS ?? []).map((h) => h.toLowerCase()),
		logLevel: e.LOG_LEVEL ?? "info",
		toolTimeoutMs: (e.TOOL_TIMEOUT_SECONDS ?? 60) * 1000,
		maxConcurrentConsoles: e.MAX_CONCURRENT_CONSOLES ?? 4,
		consoleIdleMs: (e.CONSOLE_IDLE_SECONDS ?? 60) * 1000,
		consoleQueueMs: (e.CONSOLE_QUEUE_SECONDS ?? 30) * 1000,
		maxBodyBytes: 1024 * 1024,
		maxFramebuffer: { width: fbW, height: fbH },
		configPath: overrides.configPath ?? e.IKVM_CONFIG,
		ovh,
	};
}
