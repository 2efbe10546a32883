/**
 * The AMI MegaRAC / ASRockRack console kind: a BMC web session, a one-time KVM
 * token, IVTP over a WebSocket, ASPEED video. Configured targets log in directly;
 * OVH hands out viewer URLs (`ami-viewer`).
 */
import { z } from "zod";
import {
	bmcTlsSchema,
	entryFields,
	httpUrl,
	loginFields,
	requireLogin,
	tlsFromConfig,
} from "../console/config-schema.ts";
import type { ConsoleDriver } from "../console/driver.ts";
import { bareUrl } from "../net/bare-url.ts";
import { loginWithPassword, logout } from "./bmc-session.ts";
import { amiPower } from "./power.ts";
import { openAmiSession } from "./session.ts";
import type { AmiTarget } from "./target.ts";
import { amiViewer } from "./viewer.ts";

const configSchema = z
	.object({
		...entryFields,
		type: z.literal("ami"),
		url: httpUrl,
		...loginFields,
		tls: bmcTlsSchema,
	})
	.strict()
	.superRefine(requireLogin);

export const amiDriver: ConsoleDriver<AmiTarget, typeof configSchema> = {
	type: "ami",
	kinds: ["ami-login", "ami-viewer"],
	title: "AMI MegaRAC / ASRockRack BMC (HTML5 KVM, IVTP)",
	label: "AMI",
	configSchema,
	fromConfig(entry, readSecret) {
		const username = readSecret(entry.username, entry.usernameEnv, "usernameEnv", { secret: false }) as string;
		const password = readSecret(entry.password, entry.passwordEnv, "passwordEnv") ?? "";
		return {
			target: { kind: "ami-login", url: entry.url, username, password, tls: tlsFromConfig(entry.tls) },
			ip: new URL(entry.url).hostname,
		};
	},
	open: (target, ctx, limits) => openAmiSession(target, ctx, limits),
	describe: (target) =>
		target.kind === "ami-login" ? `ami ${bareUrl(target.url)}` : `ami viewer ${bareUrl(target.viewerUrl)}`,
	stages: ["bmc-login", "ws-connect", "handshake", "first-frame", "decode"],
	power: amiPower,
	viewer: amiViewer,
	async probe(target, ctx) {
		// A login and a logout, no KVM session: BMCs allow few, and the owner may be using one.
		if (target.kind !== "ami-login") return { detail: "viewer URLs are checked when a screenshot is taken" };
		const session = await loginWithPassword(target.url, target.username, target.password, target.tls, {
			signal: ctx.signal,
			timeoutMs: ctx.timeoutMs,
		});
		const loggedOut = await logout(session, ctx.timeoutMs);
		if (!loggedOut) {
			return {
				detail: `logged in as "${target.username}", but the BMC did not accept the logout`,
				warning:
					"The web session stays open until the BMC times it out; if the BMC limits sessions, wait a few minutes.",
			};
		}
		return { detail: `logged in as "${target.username}" and out again` };
	},
};
