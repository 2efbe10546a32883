/**
 * What a Redfish service has: its ComputerSystems (the servers) with the facts
 * list_servers shows, and the Manager (the BMC) of each. Collections are read
 * member by member with bounded concurrency; `$expand` is not assumed.
 */
import type { CallContext } from "../call-context.ts";
import { IkvmError } from "../errors.ts";
import { mapLimit } from "../timing.ts";
import { isObject, odataId, type RedfishClient } from "./client.ts";

export interface RedfishSystem {
	/** The system's `Id` (or the last path segment). */
	id: string;
	/** `@odata.id`, e.g. /redfish/v1/Systems/437XR1138R2 */
	path: string;
	name: string;
	manufacturer?: string;
	model?: string;
	serial?: string;
	powerState?: string;
	health?: string;
	bootProgress?: string;
	/** The Reset action's target and what the resource says about its ResetType values. */
	reset?: { target: string; allowed?: string[]; actionInfo?: string };
	/** Paths of the Managers of this system. */
	managedBy: string[];
	/** The raw resource, for the screenshot probe (GraphicalConsole). */
	raw: Record<string, unknown>;
}

const MAX_MEMBERS = 256;

function text(value: unknown): string | undefined {
	return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}

/** Member paths of a collection, following `Members@odata.nextLink`. */
export async function collectionMembers(
	client: RedfishClient,
	path: string,
	ctx: CallContext,
	what: string,
): Promise<string[]> {
	const out: string[] = [];
	let next: string | undefined = path;
	for (let page = 0; next && page < 32 && out.length < MAX_MEMBERS; page++) {
		const body = await client.get(next, ctx, what);
		const members = Array.isArray(body.Members) ? body.Members : [];
		for (const m of members) {
			const id = odataId(m);
			if (id) out.push(id);
		}
		next = text(body["Members@odata.nextLink"]);
	}
	return out.slice(0, MAX_MEMBERS);
}

/** The facts of one ComputerSystem resource. */
export function parseSystem(body: Record<string, unknown>, path: string): RedfishSystem {
	const status = isObject(body.Status) ? body.Status : {};
	const boot = isObject(body.BootProgress) ? body.BootProgress : {};
	const links = isObject(body.Links) ? body.Links : {};
	const actions = isObject(body.Actions) ? body.Actions : {};
	const reset = isObject(actions["#ComputerSystem.Reset"]) ? actions["#ComputerSystem.Reset"] : undefined;
	const allowed = reset?.["ResetType@Redfish.AllowableValues"];
	const id = text(body.Id) ?? path.split("/").filter(Boolean).pop() ?? path;
	return {
		id,
		path: odataId(body) ?? path,
		name: text(body.HostName) ?? text(body.Name) ?? id,
		manufacturer: text(body.Manufacturer),
		model: text(body.Model),
		serial: text(body.SerialNumber),
		powerState: text(body.PowerState),
		health: text(status.HealthRollup) ?? text(status.Health),
		bootProgress: text(boot.LastState),
		reset:
			reset && text(reset.target)
				? {
						target: text(reset.target) as string,
						allowed: Array.isArray(allowed) ? allowed.filter((v): v is string => typeof v === "string") : undefined,
						actionInfo: text(reset["@Redfish.ActionInfo"]),
					}
				: undefined,
		managedBy: (Array.isArray(links.ManagedBy) ? links.ManagedBy : []).map(odataId).filter((p): p is string => !!p),
		raw: body,
	};
}

/** Every ComputerSystem of the service. */
export async function listSystems(client: RedfishClient, ctx: CallContext): Promise<RedfishSystem[]> {
	const root = await client.serviceRoot(ctx);
	const systemsPath = odataId(root.Systems);
	if (!systemsPath) {
		throw new IkvmError("NOT_SUPPORTED", `The Redfish service at ${client.host} lists no Systems collection.`, {
			stage: "redfish-api",
			hint: "This BMC exposes no ComputerSystem; it cannot be used as a server console.",
		});
	}
	const paths = await collectionMembers(client, systemsPath, ctx, "the system list");
	const settled = await mapLimit(paths, 4, (p) => readSystem(client, p, ctx));
	const systems: RedfishSystem[] = [];
	for (const result of settled) {
		if (result.status === "rejected") throw result.reason;
		systems.push(result.value);
	}
	return systems;
}

export async function readSystem(client: RedfishClient, path: string, ctx: CallContext): Promise<RedfishSystem> {
	return parseSystem(await client.get(path, ctx, `the system ${path.split("/").pop()}`), path);
}

/** The system a target means: the one with `systemId`, or the only one. */
export async function findSystem(
	client: RedfishClient,
	systemId: string | undefined,
	ctx: CallContext,
): Promise<RedfishSystem> {
	const systems = await listSystems(client, ctx);
	if (systemId !== undefined) {
		const found = systems.find((s) => s.id === systemId);
		if (found) return found;
		throw new IkvmError("UNKNOWN_SERVER", `The BMC at ${client.host} has no system "${systemId}".`, {
			hint: `Its systems: ${systems.map((s) => s.id).join(", ") || "none"}. Call list_servers again.`,
		});
	}
	if (systems.length === 1) return systems[0] as RedfishSystem;
	if (systems.length === 0) {
		throw new IkvmError("NOT_SUPPORTED", `The BMC at ${client.host} lists no ComputerSystem.`, {
			stage: "redfish-api",
		});
	}
	throw new IkvmError("BAD_INPUT", `The BMC at ${client.host} has ${systems.length} systems; say which one.`, {
		hint: `Use a server id of the form <target>/<SystemId>: ${systems.map((s) => s.id).join(", ")}.`,
	});
}

/** The Manager path of a system: its ManagedBy link, else the only/first Manager. */
export async function managerOf(
	client: RedfishClient,
	system: RedfishSystem,
	ctx: CallContext,
): Promise<string | undefined> {
	if (system.managedBy[0]) return system.managedBy[0];
	const root = await client.serviceRoot(ctx);
	const managers = odataId(root.Managers);
	if (!managers) return undefined;
	const members = await collectionMembers(client, managers, ctx, "the manager list");
	return members[0];
}
