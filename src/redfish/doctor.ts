/**
 * `ikvm-mcp doctor` for a Redfish target: reachable, TLS as configured, login,
 * systems found, which screenshot method each system has, whether power control
 * is there. Reads only; logs out at the end (BMCs allow few sessions).
 */
import type { CallContext } from "../call-context.ts";
import { isIkvmError } from "../errors.ts";
import { RedfishClient } from "./client.ts";
import { listSystems } from "./discovery.ts";
import { allowedResetTypes } from "./power.ts";
import { describeMethod, probeScreenshot } from "./screenshot.ts";
import type { RedfishTarget } from "./target.ts";

export interface RedfishCheck {
	readonly name: string;
	readonly status: "pass" | "warn" | "fail" | "skip";
	readonly detail: string;
	readonly fix?: string;
}

export interface RedfishDoctorOptions {
	/** Limit of each request. */
	timeoutMs: number;
	/** Whether the operator allowed power control on this target (the `control` field). */
	powerAllowed?: boolean;
}

function tlsWords(target: RedfishTarget): string {
	if (target.tls?.insecure) return "certificate not verified (tls.insecure)";
	if (target.tls?.fingerprint256) return "certificate matches the pinned fingerprint";
	if (target.tls?.ca) return "certificate verified against tls.ca";
	return "certificate verified by the system CAs";
}

/** The checklist lines for one Redfish target; never throws. */
export async function redfishDoctor(
	target: RedfishTarget,
	ctx: CallContext,
	options: RedfishDoctorOptions,
): Promise<RedfishCheck[]> {
	const lines: RedfishCheck[] = [];
	const client = new RedfishClient(
		{ url: target.url, username: target.username, password: target.password, tls: target.tls, auth: target.auth },
		{ requestTimeoutMs: options.timeoutMs, idleMs: 60_000 },
	);
	const failed = (name: string, error: unknown): RedfishCheck =>
		isIkvmError(error)
			? { name, status: "fail", detail: error.message, fix: error.hint }
			: { name, status: "fail", detail: String(error) };
	try {
		try {
			const root = await client.serviceRoot(ctx);
			const version = typeof root.RedfishVersion === "string" ? `Redfish ${root.RedfishVersion}` : "Redfish";
			lines.push({ name: "reachable", status: "pass", detail: `${client.host} answers (${version})` });
			lines.push({
				name: "TLS",
				status: target.tls?.insecure ? "warn" : "pass",
				detail: tlsWords(target),
				fix: target.tls?.insecure
					? "Pin the certificate instead: tls.fingerprint256 (openssl x509 -noout -fingerprint -sha256)."
					: undefined,
			});
		} catch (error) {
			const line = failed("reachable", error);
			lines.push(line);
			if (/certificate|TLS/i.test(line.detail)) lines.push({ ...line, name: "TLS" });
			for (const name of ["login", "systems", "screenshot", "power"])
				lines.push({ name, status: "skip", detail: "the BMC did not answer" });
			return lines;
		}
		let systems: Awaited<ReturnType<typeof listSystems>>;
		try {
			systems = await listSystems(client, ctx);
			lines.push({
				name: "login",
				status: "pass",
				detail:
					client.authMode === "basic"
						? `user "${target.username}" accepted with HTTP Basic (no SessionService)`
						: `Redfish session for user "${target.username}"`,
			});
		} catch (error) {
			const line = failed(client.authMode ? "systems" : "login", error);
			lines.push(line);
			return lines;
		}
		if (systems.length === 0) {
			lines.push({
				name: "systems",
				status: "fail",
				detail: "no ComputerSystem listed",
				fix: "This BMC exposes no server to show.",
			});
			return lines;
		}
		lines.push({
			name: "systems",
			status: "pass",
			detail: systems
				.map(
					(s) =>
						`${s.id} (${[s.manufacturer, s.model].filter(Boolean).join(" ") || "?"}, ${s.powerState ?? "power ?"})`,
				)
				.join(", "),
		});
		for (const system of systems) {
			const suffix = systems.length > 1 ? ` ${system.id}` : "";
			try {
				const probe = await probeScreenshot(client, system, ctx);
				lines.push(
					probe.methods[0]
						? { name: `screenshot${suffix}`, status: "pass", detail: probe.methods.map(describeMethod).join(", then ") }
						: {
								name: `screenshot${suffix}`,
								status: "warn",
								detail: `none: ${probe.missing.join("; ") || "no console or screenshot action"}`,
								fix: "Enable VNC (RFB) on the BMC, or install the vendor licence that offers a screenshot.",
							},
				);
			} catch (error) {
				lines.push(failed(`screenshot${suffix}`, error));
			}
			try {
				if (!system.reset) {
					lines.push({ name: `power${suffix}`, status: "warn", detail: "no ComputerSystem.Reset action" });
				} else {
					const allowed = await allowedResetTypes(client, system, ctx);
					const allowedWord = options.powerAllowed
						? "allowed by this target's control field (the server also needs IKVM_CONTROL with power)"
						: "not allowed (add power to this target's control field and IKVM_CONTROL)";
					lines.push({
						name: `power${suffix}`,
						status: "pass",
						detail: `Reset offers ${allowed.values.join(", ")} (${allowed.source}); ${allowedWord}`,
					});
				}
			} catch (error) {
				lines.push(failed(`power${suffix}`, error));
			}
		}
		return lines;
	} finally {
		await client.close();
	}
}
