/**
 * The public IPv4 OVH should let reach the BMC (`ipToAllow`): the address this
 * machine's connections leave from, as a "what is my IP" service sees it.
 * Best effort with a short timeout: without it the access is requested without
 * `ipToAllow`, which OVH accepts.
 */
import { z } from "zod";
import { log } from "../../log.ts";

export const DEFAULT_IP_DISCOVERY_URL = "https://api.ipify.org";

/** Finds the public IPv4, or undefined when it cannot be known. */
export type PublicIpDiscovery = (signal: AbortSignal) => Promise<string | undefined>;

const ipv4 = z.ipv4();

/** Reads an IPv4 from a URL answering plain text (`203.0.113.7`) or JSON (`{"ip": "203.0.113.7"}`). */
export function httpIpDiscovery(url: string, timeoutMs = 3000): PublicIpDiscovery {
	return async (signal) => {
		try {
			const response = await fetch(url, {
				headers: { Accept: "text/plain, application/json" },
				signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
			});
			const text = (await response.text()).slice(0, 1000).trim();
			if (!response.ok) throw new Error(`HTTP ${response.status}`);
			const ip = extractIp(text);
			if (!ip) throw new Error("the answer holds no IPv4 address (an IPv6-only path cannot be allowed by OVH)");
			return ip;
		} catch (error) {
			if (signal.aborted) throw error;
			const reason = error instanceof Error && error.name === "TimeoutError" ? "timed out" : String(error);
			log.info("could not discover the public IPv4; requesting OVH console access without ipToAllow", {
				url,
				reason,
				fix: "set OVH_IPMI_ALLOWED_IP",
			});
			return undefined;
		}
	};
}

function extractIp(text: string): string | undefined {
	if (ipv4.safeParse(text).success) return text;
	try {
		const json = JSON.parse(text) as { ip?: unknown };
		if (typeof json.ip === "string" && ipv4.safeParse(json.ip).success) return json.ip;
	} catch {
		// not JSON
	}
	return undefined;
}

/** Remembers the answer (found or not) for `ttlMs`, so a console request waits for it at most once in a while. */
export function cachedDiscovery(discover: PublicIpDiscovery, ttlMs = 10 * 60_000): PublicIpDiscovery {
	let cached: { ip: string | undefined; until: number } | undefined;
	return async (signal) => {
		if (cached && cached.until > Date.now()) return cached.ip;
		const ip = await discover(signal);
		cached = { ip, until: Date.now() + ttlMs };
		return ip;
	};
}
