/**
 * OVH dedicated servers: listed through the signed API, consoles reached through
 * the IPMI access OVH grants (a viewer URL) and the shared console pool.
 */

import type { CallContext } from "../../call-context.ts";
import type { OvhSettings } from "../../config.ts";
import type { ConsoleHandle, ConsoleTarget } from "../../console/types.ts";
import { IkvmError, isIkvmError, type Stage, throwIfAborted } from "../../errors.ts";
import { log } from "../../log.ts";
import { readBodyPrefix } from "../../net/read-body.ts";
import { mapLimit, raceSignal } from "../../timing.ts";
import type { Provider, ServerInfo } from "../types.ts";
import { DEFAULT_ACCESS_OPTIONS, IpmiAccess, type IpmiAccessOptions } from "./access.ts";
import { OvhApiClient, type OvhApiClientOptions } from "./api.ts";
import { cachedDiscovery, DEFAULT_IP_DISCOVERY_URL, httpIpDiscovery, type PublicIpDiscovery } from "./public-ip.ts";
import { type DedicatedServer, DedicatedServerSchema, ServiceNamesSchema } from "./types.ts";
import { targetFromViewerPage, targetFromViewerUrl, type ViewerPage } from "./viewer.ts";

const ovhLog = log.child("ovh");

export interface OvhProviderOptions {
	/** Request timeout, retries and backoff of the API client. */
	api?: Pick<OvhApiClientOptions, "timeoutMs" | "retries" | "retryBaseMs" | "retryMaxMs">;
	/** Task polling, value retries, URL reuse. */
	access?: Partial<Omit<IpmiAccessOptions, "ipToAllow">>;
	/** Replaces public IP discovery (tests); ignored when OVH_IPMI_ALLOWED_IP is set. */
	discoverIp?: PublicIpDiscovery;
	/** How long a server list is served from memory. Default 30 s. */
	listCacheMs?: number;
	/** Server details fetched at once. Default 8. */
	detailConcurrency?: number;
	/** Timeout of the one look at a viewer page whose URL is not conclusive. Default 5 s. */
	viewerPageTimeoutMs?: number;
}

/** Errors of the console path that mean "this viewer URL is no good any more". */
const STALE_VIEWER_STAGES: Stage[] = ["bmc-login", "ws-connect", "connect", "handshake"];

const VIEWER_PAGE_MAX_BYTES = 256 * 1024;

export class OvhProvider implements Provider {
	readonly name = "ovh";
	readonly api: OvhApiClient;
	readonly access: IpmiAccess;
	private readonly listCacheMs: number;
	private readonly detailConcurrency: number;
	private readonly viewerPageTimeoutMs: number;
	private readonly bmcTlsVerify: boolean;
	private listCache?: { servers: ServerInfo[]; until: number };
	private listing?: Promise<ServerInfo[]>;
	/** Console target chosen for the last viewer URL of each server (a reused URL is not looked at twice). */
	private readonly targets = new Map<string, { url: string; target: ConsoleTarget }>();

	constructor(settings: OvhSettings, options: OvhProviderOptions = {}) {
		this.api = new OvhApiClient({
			endpoint: settings.endpoint,
			applicationKey: settings.applicationKey,
			applicationSecret: settings.applicationSecret,
			consumerKey: settings.consumerKey,
			...options.api,
		});
		this.access = new IpmiAccess(this.api, {
			...DEFAULT_ACCESS_OPTIONS,
			...options.access,
			ipToAllow: ipToAllowSource(settings, options.discoverIp),
		});
		this.listCacheMs = options.listCacheMs ?? 30_000;
		this.detailConcurrency = options.detailConcurrency ?? 8;
		this.viewerPageTimeoutMs = options.viewerPageTimeoutMs ?? 5000;
		this.bmcTlsVerify = settings.bmcTlsVerify ?? false;
	}

	async listServers(ctx: CallContext): Promise<ServerInfo[]> {
		if (this.listCache && this.listCache.until > Date.now()) return this.listCache.servers;
		ctx.progress("list-servers", "Listing OVH dedicated servers");
		// Concurrent callers share one listing: OVH allows a key about 60 calls a minute. It is bounded by
		// the API client's per-request timeouts, not by one caller's signal, so one caller leaving does not
		// fail the others.
		this.listing ??= this.fetchList().finally(() => {
			this.listing = undefined;
		});
		return raceSignal(this.listing, ctx.signal, "list-servers");
	}

	private async fetchList(): Promise<ServerInfo[]> {
		const names = await this.api.get("/dedicated/server", ServiceNamesSchema);
		const details = await mapLimit(names, this.detailConcurrency, (name) =>
			this.api.get(`/dedicated/server/${encodeURIComponent(name)}`, DedicatedServerSchema),
		);
		const servers = names.map((name, i): ServerInfo => {
			const result = details[i];
			if (result?.status === "fulfilled") return serverInfo(name, result.value);
			const error = result?.reason;
			// A credential problem concerns every server: say it rather than list blanks.
			if (isIkvmError(error) && (error.code === "AUTH_FAILED" || error.code === "ACCESS_DENIED")) throw error;
			ovhLog.warn("could not read details of a server; listing it without them", {
				server: name,
				error: isIkvmError(error) ? error.message : String(error),
			});
			return { id: name, name, provider: this.name, datacenter: null, ip: null };
		});
		this.listCache = { servers, until: Date.now() + this.listCacheMs };
		return servers;
	}

	console(serverId: string): ConsoleHandle {
		// Whether the target came from a viewer URL OVH handed out earlier: only such a URL can be stale.
		let reused = false;
		return {
			key: `ovh:${serverId}`,
			resolve: async (ctx, fresh) => {
				const viewer = await this.access.viewerUrl(serverId, ctx, fresh);
				reused = viewer.reused;
				return this.targetFor(serverId, viewer.url, ctx);
			},
			isStale: (error) => {
				if (!reused || !isStaleViewerError(error)) return false;
				// OVH said the URL was still valid, but the BMC refused it (session ended, BMC reset).
				ovhLog.info("the BMC refused a reused viewer URL; asking OVH for a new one", {
					server: serverId,
					error: (error as IkvmError).message,
				});
				this.access.forget(serverId);
				return true;
			},
		};
	}

	async close(): Promise<void> {
		this.listCache = undefined;
		this.targets.clear();
	}

	/** The console target for a viewer URL: by the URL when it is conclusive, else by one look at the page. */
	private async targetFor(serverId: string, url: string, ctx: CallContext): Promise<ConsoleTarget> {
		const known = this.targets.get(serverId);
		if (known?.url === url) return known.target;
		let target = targetFromViewerUrl(url);
		if (!target) {
			ctx.progress("ovh-access", "Looking at the viewer page to choose the console protocol");
			const page = await this.fetchViewerPage(url, ctx.signal);
			target = targetFromViewerPage(url, page);
			if (!target) {
				throw new IkvmError(
					"NOT_SUPPORTED",
					`The console viewer OVH gave for ${serverId} (host ${new URL(url).host}) is neither an AMI HTML5 KVM nor a noVNC page.`,
					{
						stage: "ovh-access",
						hint: "This BMC's web console is not supported yet; please report the BMC model. The OVH manager can open it.",
					},
				);
			}
		}
		if (this.bmcTlsVerify) target = { ...target, tls: undefined };
		ovhLog.debug("console target chosen", { server: serverId, kind: target.kind });
		this.targets.set(serverId, { url, target });
		return target;
	}

	private async fetchViewerPage(url: string, signal: AbortSignal): Promise<ViewerPage> {
		const timeout = AbortSignal.timeout(this.viewerPageTimeoutMs);
		try {
			const response = await fetch(url, {
				redirect: "manual",
				signal: AbortSignal.any([signal, timeout]),
				// BMCs present self-signed certificates.
				tls: { rejectUnauthorized: this.bmcTlsVerify },
			});
			const body = await readBodyPrefix(response, VIEWER_PAGE_MAX_BYTES);
			return {
				status: response.status,
				location: response.headers.get("location"),
				setCookie: response.headers.get("set-cookie"),
				contentType: response.headers.get("content-type"),
				body,
			};
		} catch (error) {
			throwIfAborted(signal, "ovh-access");
			const host = new URL(url).host;
			if (timeout.aborted) {
				throw new IkvmError(
					"TIMEOUT",
					`The console viewer at ${host} did not answer within ${this.viewerPageTimeoutMs / 1000} s.`,
					{
						stage: "ovh-access",
						retryable: true,
						hint: "The BMC may be busy or unreachable from here; if OVH_IPMI_ALLOWED_IP is set, it must be this machine's public IPv4.",
					},
				);
			}
			throw new IkvmError("CONNECTION", `Could not load the console viewer at ${host}.`, {
				stage: "ovh-access",
				retryable: true,
				cause: error,
				hint: "The BMC may be unreachable from here; if OVH_IPMI_ALLOWED_IP is set, it must be this machine's public IPv4.",
			});
		}
	}
}

function serverInfo(serviceName: string, details: DedicatedServer): ServerInfo {
	const reverse = details.reverse?.replace(/\.$/, "") || undefined;
	// OVH's IAM display name defaults to the service name; only a name the user chose says more than the reverse DNS.
	const displayName =
		details.iam?.displayName && details.iam.displayName !== serviceName ? details.iam.displayName : undefined;
	return {
		id: serviceName,
		name: displayName || reverse || details.name || serviceName,
		provider: "ovh",
		datacenter: details.datacenter ?? null,
		ip: details.ip ?? null,
	};
}

function isStaleViewerError(error: unknown): boolean {
	if (!isIkvmError(error)) return false;
	if (error.code === "AUTH_FAILED" || error.code === "ACCESS_DENIED") return true;
	return (
		(error.code === "CONNECTION" || error.code === "PROTOCOL") && STALE_VIEWER_STAGES.includes(error.stage as Stage)
	);
}

/** Where `ipToAllow` comes from: the setting, else discovery (cached), else nothing. */
function ipToAllowSource(settings: OvhSettings, injected?: PublicIpDiscovery): PublicIpDiscovery {
	const fixed = settings.ipmiAllowedIp;
	if (fixed) return async () => fixed;
	if (injected) return injected;
	const url = settings.ipDiscoveryUrl ?? DEFAULT_IP_DISCOVERY_URL;
	if (url === "off") {
		return async () => {
			ovhLog.info("public IP discovery is off; requesting OVH console access without ipToAllow");
			return undefined;
		};
	}
	return cachedDiscovery(httpIpDiscovery(url));
}
