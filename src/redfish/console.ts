/**
 * A console session on a Redfish system: the best screenshot method the BMC offers,
 * chosen when the session opens. A console the project already speaks (OpenBMC's
 * KVM WebSocket, the BMC's VNC service) is opened with the VNC client and also
 * carries keys and pointer; a vendor screenshot action is one request per capture.
 */
import type { CallContext } from "../call-context.ts";
import type { ConsoleLimits, ConsoleSession } from "../console/types.ts";
import { IkvmError, isIkvmError } from "../errors.ts";
import type { Frame } from "../frame.ts";
import type { InputOutcome, KeyStep, PointerStep } from "../input/types.ts";
import { log } from "../log.ts";
import { openVncSession } from "../vnc/session.ts";
import type { VncTarget } from "../vnc/target.ts";
import type { RedfishClient } from "./client.ts";
import { redfishClientFor } from "./clients.ts";
import { findSystem } from "./discovery.ts";
import {
	dellScreenshot,
	describeMethod,
	noScreenshotError,
	probeScreenshot,
	type ScreenshotMethod,
	supermicroScreenshot,
} from "./screenshot.ts";
import type { RedfishTarget } from "./target.ts";

export class RedfishConsoleSession implements ConsoleSession {
	private isClosed = false;

	constructor(
		readonly description: string,
		readonly method: ScreenshotMethod,
		private readonly client: RedfishClient,
		private readonly limits: ConsoleLimits,
		private readonly inner: ConsoleSession | undefined,
	) {
		if (inner?.sendKeys) this.sendKeys = (steps, ctx) => inner.sendKeys?.(steps, ctx) as Promise<InputOutcome>;
		if (inner?.pointer) this.pointer = (steps, ctx) => inner.pointer?.(steps, ctx) as Promise<InputOutcome>;
	}

	sendKeys?: (steps: readonly KeyStep[], ctx: CallContext) => Promise<InputOutcome>;
	pointer?: (steps: readonly PointerStep[], ctx: CallContext) => Promise<InputOutcome>;

	get closed(): boolean {
		return this.isClosed || (this.inner?.closed ?? false);
	}

	get screenSize(): { width: number; height: number } | undefined {
		return this.inner?.screenSize;
	}

	async capture(ctx: CallContext): Promise<Frame> {
		if (this.isClosed)
			throw new IkvmError("CONNECTION", `${this.description} is closed.`, { stage: "redfish-screenshot" });
		switch (this.method.kind) {
			case "openbmc-kvm":
			case "rfb":
				return (this.inner as ConsoleSession).capture(ctx);
			case "dell":
				return dellScreenshot(this.client, this.method.target, ctx, this.limits);
			case "supermicro":
				return supermicroScreenshot(this.client, this.method.target, ctx, this.limits);
		}
	}

	async close(): Promise<void> {
		if (this.isClosed) return;
		this.isClosed = true;
		await this.inner?.close();
	}
}

function bmcWsUrl(origin: string, path: string): string {
	const url = new URL(path, origin);
	url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
	return url.toString();
}

/** Opens the console of a Redfish system with the first method that works. */
export async function openRedfishConsole(
	target: RedfishTarget,
	ctx: CallContext,
	limits: ConsoleLimits,
): Promise<RedfishConsoleSession> {
	const client = redfishClientFor(target);
	const system = await findSystem(client, target.systemId, ctx);
	const probe = await probeScreenshot(client, system, ctx);
	if (probe.methods.length === 0) throw noScreenshotError(client.host, probe);
	const failures: string[] = [];
	for (const method of probe.methods) {
		const description = `redfish ${client.origin} system ${system.id} via ${describeMethod(method)}`;
		if (method.kind === "dell" || method.kind === "supermicro") {
			return new RedfishConsoleSession(description, method, client, limits, undefined);
		}
		try {
			const vnc: VncTarget =
				method.kind === "openbmc-kvm"
					? {
							kind: "vnc",
							url: bmcWsUrl(client.origin, method.path),
							headers: await client.authHeaders(ctx),
							tls: await client.tlsForConnections(ctx),
						}
					: { kind: "vnc", host: method.host, port: method.port, password: target.vncPassword };
			ctx.progress("connect", `opening ${describeMethod(method)}`);
			const inner = await openVncSession(vnc, ctx, limits);
			return new RedfishConsoleSession(description, method, client, limits, inner);
		} catch (error) {
			if (ctx.signal.aborted) throw error;
			const message = isIkvmError(error) ? error.message : String(error);
			log.debug("redfish console method failed; trying the next", { method: method.kind, error: message });
			failures.push(`${describeMethod(method)}: ${message}`);
			if (method === probe.methods[probe.methods.length - 1]) {
				throw new IkvmError(
					"CONNECTION",
					`No console of ${system.id} on ${client.host} could be opened: ${failures.join("; ")}`,
					{
						stage: "redfish-screenshot",
						hint: isIkvmError(error) ? error.hint : undefined,
						cause: error,
					},
				);
			}
		}
	}
	throw noScreenshotError(client.host, probe);
}
