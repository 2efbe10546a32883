/**
 * How to get a picture of a Redfish system's screen, best first:
 * 1. a console the project already speaks: OpenBMC's `wss://<bmc>/kvm/0` (a byte pipe
 *    to the BMC's RFB server) or ManagerNetworkProtocol.RFB (VNC on a TCP port);
 * 2. a vendor screenshot action: Dell `DellLCService.ExportServerScreenShot` (JSON
 *    with a base64 PNG), Supermicro `OemDumpService.Collect` with `ScreenCapture`
 *    (Create, then Download: a JPEG, usually as application/octet-stream);
 * 3. none: an error naming what this BMC lacks and what would work.
 */
import type { CallContext } from "../call-context.ts";
import type { ConsoleLimits } from "../console/types.ts";
import { IkvmError } from "../errors.ts";
import type { Frame } from "../frame.ts";
import { decodeImageFile } from "../image/decode.ts";
import { isObject, odataId, type RedfishClient } from "./client.ts";
import { managerOf, type RedfishSystem } from "./discovery.ts";
import { faultLine, faultToError, hasMessage } from "./errors.ts";
import { followTask } from "./power.ts";

export type ScreenshotMethod =
	| { kind: "openbmc-kvm"; path: string }
	| { kind: "rfb"; host: string; port: number }
	| { kind: "dell"; target: string }
	| { kind: "supermicro"; target: string };

export interface ScreenshotProbe {
	/** Usable methods, best first. */
	methods: ScreenshotMethod[];
	/** Why each missing method is missing, for the NOT_SUPPORTED error and the doctor. */
	missing: string[];
	vendor: string;
}

/** Largest screenshot file accepted (a 1920x1200 PNG of a busy desktop is a few MiB). */
export const MAX_SCREENSHOT_BYTES = 24 * 1024 * 1024;

export function describeMethod(method: ScreenshotMethod): string {
	switch (method.kind) {
		case "openbmc-kvm":
			return `OpenBMC KVM WebSocket ${method.path} (RFB)`;
		case "rfb":
			return `VNC (ManagerNetworkProtocol.RFB) on port ${method.port}`;
		case "dell":
			return "Dell iDRAC DellLCService.ExportServerScreenShot";
		case "supermicro":
			return "Supermicro OemDumpService.Collect ScreenCapture";
	}
}

function vendorOf(root: Record<string, unknown>, system: RedfishSystem): string {
	const oem = isObject(root.Oem) ? Object.keys(root.Oem) : [];
	if (oem.includes("Dell")) return "Dell";
	if (oem.includes("Supermicro")) return "Supermicro";
	if (oem.includes("Hpe") || oem.includes("Hp")) return "HPE";
	if (typeof root.Vendor === "string") return root.Vendor;
	return system.manufacturer ?? "unknown";
}

function graphicalKvm(resource: Record<string, unknown> | undefined): boolean {
	const gc = resource && isObject(resource.GraphicalConsole) ? resource.GraphicalConsole : undefined;
	if (!gc || gc.ServiceEnabled === false) return false;
	const types = Array.isArray(gc.ConnectTypesSupported) ? gc.ConnectTypesSupported : [];
	return types.includes("KVMIP");
}

/** Finds what this BMC offers for screenshots; reads a few resources, opens nothing. */
export async function probeScreenshot(
	client: RedfishClient,
	system: RedfishSystem,
	ctx: CallContext,
): Promise<ScreenshotProbe> {
	const root = await client.serviceRoot(ctx);
	const vendor = vendorOf(root, system);
	const methods: ScreenshotMethod[] = [];
	const missing: string[] = [];
	const managerPath = await managerOf(client, system, ctx);
	const manager = managerPath
		? await client.get(managerPath, ctx, "the manager", "redfish-screenshot").catch(() => undefined)
		: undefined;

	const isOpenBmc = vendor === "OpenBMC" || (manager && isObject(manager.Oem) && "OpenBmc" in manager.Oem);
	if (isOpenBmc && (graphicalKvm(system.raw) || graphicalKvm(manager)))
		methods.push({ kind: "openbmc-kvm", path: "/kvm/0" });
	else if (isOpenBmc) missing.push("OpenBMC's KVM (GraphicalConsole KVMIP) is not enabled");

	const protocolPath = manager ? odataId(manager.NetworkProtocol) : undefined;
	if (protocolPath) {
		const protocols = await client
			.get(protocolPath, ctx, "the network protocols", "redfish-screenshot")
			.catch(() => undefined);
		const rfb = protocols && isObject(protocols.RFB) ? protocols.RFB : undefined;
		if (rfb?.ProtocolEnabled === true && typeof rfb.Port === "number") {
			methods.push({ kind: "rfb", host: new URL(client.origin).hostname.replace(/^\[|\]$/g, ""), port: rfb.Port });
		} else missing.push(rfb ? "VNC (ManagerNetworkProtocol.RFB) is disabled" : "the BMC has no VNC (RFB) service");
	}

	const links = manager && isObject(manager.Links) ? manager.Links : {};
	const dellLink = isObject(links.Oem) && isObject(links.Oem.Dell) ? odataId(links.Oem.Dell.DellLCService) : undefined;
	if (dellLink) {
		const lc = await client.get(dellLink, ctx, "the Dell LC service", "redfish-screenshot").catch(() => undefined);
		const actions = lc && isObject(lc.Actions) ? lc.Actions : {};
		const action = isObject(actions["#DellLCService.ExportServerScreenShot"])
			? actions["#DellLCService.ExportServerScreenShot"]
			: undefined;
		if (action && typeof action.target === "string") methods.push({ kind: "dell", target: action.target });
		else
			missing.push(
				"this iDRAC's LC service has no ExportServerScreenShot action (iDRAC9 firmware 4.00 or later has it)",
			);
	}

	const smcRoot = isObject(root.Oem) && isObject(root.Oem.Supermicro) ? root.Oem.Supermicro : undefined;
	const dumpLink = smcRoot ? odataId(smcRoot.DumpService) : undefined;
	if (dumpLink) {
		const dump = await client
			.get(dumpLink, ctx, "the Supermicro dump service", "redfish-screenshot")
			.catch(() => undefined);
		const actions = dump && isObject(dump.Actions) ? dump.Actions : {};
		const action = isObject(actions["#OemDumpService.Collect"]) ? actions["#OemDumpService.Collect"] : undefined;
		const types = action?.["DumpType@Redfish.AllowableValues"];
		const offersCapture = !Array.isArray(types) || types.includes("ScreenCapture");
		if (action && typeof action.target === "string" && offersCapture)
			methods.push({ kind: "supermicro", target: action.target });
		else missing.push("the Supermicro dump service offers no ScreenCapture");
	} else if (vendor === "Supermicro") {
		missing.push("no Supermicro DumpService (it needs newer BMC firmware and the SFT-DCMS-SINGLE licence)");
	}
	return { methods, missing, vendor };
}

/** The NOT_SUPPORTED error for a BMC with no usable method. */
export function noScreenshotError(host: string, probe: ScreenshotProbe): IkvmError {
	const lacks = probe.missing.length > 0 ? ` (${probe.missing.join("; ")})` : "";
	return new IkvmError(
		"NOT_SUPPORTED",
		`The ${probe.vendor} BMC at ${host} offers no way to see the screen through Redfish${lacks}.`,
		{
			stage: "redfish-screenshot",
			hint:
				"What would work: enable VNC on the BMC (ManagerNetworkProtocol.RFB), or on Dell the iDRAC licence with Virtual Console, " +
				"or on Supermicro newer firmware with the SFT-DCMS-SINGLE licence; or configure the BMC's KVM as a vnc/ami target.",
		},
	);
}

function imageError(
	host: string,
	what: string,
	answer: { status: number },
	fault: ReturnType<RedfishClient["fault"]>,
): IkvmError {
	if (hasMessage(fault, "LC081", "AccessPrivilege")) {
		return new IkvmError("ACCESS_DENIED", `The BMC at ${host} refused ${what}: ${faultLine(fault)}.`, {
			stage: "redfish-screenshot",
			hint: "The account needs the Virtual Console privilege on the iDRAC.",
		});
	}
	if (hasMessage(fault, "LC099") || /video signal/i.test(faultLine(fault))) {
		return new IkvmError("POWERED_OFF", `The BMC at ${host} has no picture: ${faultLine(fault)}.`, {
			stage: "redfish-screenshot",
			hint: "The host sends no video (powered off or no display output); check power status.",
		});
	}
	void answer;
	return faultToError(host, what, fault, "redfish-screenshot");
}

/** Dell: one POST, a JSON answer with the PNG in base64 (the key's case differs between firmwares). */
export async function dellScreenshot(
	client: RedfishClient,
	target: string,
	ctx: CallContext,
	limits: ConsoleLimits,
): Promise<Frame> {
	const what = "the screenshot export";
	const answer = await client.request("POST", target, ctx, {
		body: { FileType: "ServerScreenShot" },
		what,
		stage: "redfish-screenshot",
		jsonMax: Math.ceil((MAX_SCREENSHOT_BYTES * 4) / 3) + 4096,
	});
	if (answer.status !== 200 && answer.status !== 202) throw imageError(client.host, what, answer, client.fault(answer));
	const body = isObject(answer.json) ? answer.json : {};
	const key = Object.keys(body).find((k) => k.toLowerCase() === "serverscreenshotfile");
	const encoded = key ? body[key] : undefined;
	if (typeof encoded !== "string" || encoded.length === 0) {
		throw new IkvmError("PROTOCOL", `The iDRAC at ${client.host} answered ${what} without ServerScreenShotFile.`, {
			stage: "redfish-screenshot",
		});
	}
	const bytes = new Uint8Array(Buffer.from(encoded, "base64"));
	return decodeImageFile(bytes, limits, `The iDRAC's screenshot`, "redfish-screenshot");
}

/** Supermicro: Create a ScreenCapture dump, then Download it (raw JPEG bytes). */
export async function supermicroScreenshot(
	client: RedfishClient,
	target: string,
	ctx: CallContext,
	limits: ConsoleLimits,
): Promise<Frame> {
	const create = await client.request("POST", target, ctx, {
		body: { DumpType: "ScreenCapture", ActionType: "Create" },
		what: "the screen capture",
		stage: "redfish-screenshot",
	});
	if (create.status === 202 && create.headers.get("location")) {
		await followTask(client, create.headers.get("location") as string, ctx, 30_000);
	} else if (create.status < 200 || create.status >= 300) {
		throw imageError(client.host, "the screen capture", create, client.fault(create));
	}
	const download = await client.request("POST", target, ctx, {
		body: { DumpType: "ScreenCapture", ActionType: "Download" },
		what: "the screen capture download",
		stage: "redfish-screenshot",
		bytesMax: MAX_SCREENSHOT_BYTES,
	});
	if (download.status !== 200 || !download.bytes) {
		throw imageError(client.host, "the screen capture download", download, client.fault(download));
	}
	return decodeImageFile(download.bytes, limits, "The Supermicro BMC's screen capture", "redfish-screenshot");
}
