/**
 * The VNC console kind: RFB over WebSocket (ws/wss) or plain TCP — QEMU, Proxmox,
 * libvirt, TigerVNC, x11vnc, noVNC proxies.
 */
import { z } from "zod";
import { entryFields, envName, tlsFromConfig, tlsSchema, wsUrl } from "../console/config-schema.ts";
import type { ConsoleDriver } from "../console/driver.ts";
import { bareUrl } from "../net/bare-url.ts";
import { vncPower } from "./power.ts";
import { createVncOpener } from "./session.ts";
import type { VncTarget } from "./target.ts";
import { vncViewer } from "./viewer.ts";

const configSchema = z
	.object({
		...entryFields,
		type: z.literal("vnc"),
		url: wsUrl.optional(),
		host: z.string().min(1).optional(),
		port: z.number().int().min(1).max(65535).optional(),
		password: z.string().optional(),
		passwordEnv: envName.optional(),
		/** VeNCrypt X509Plain logs in with a user name as well. */
		username: z.string().min(1).optional(),
		usernameEnv: envName.optional(),
		headers: z.record(z.string(), z.string()).optional(),
		tls: tlsSchema,
		quality: z.number().int().min(0).max(9).optional(),
		cursor: z.boolean().optional(),
		/** The server ignores our input (view-only password): keys and clicks are reported not delivered. */
		viewOnly: z.boolean().optional(),
	})
	.strict()
	.superRefine((s, ctx) => {
		if (s.url && s.host) ctx.addIssue({ code: "custom", path: ["host"], message: "give either url or host, not both" });
		if (!s.url && !s.host) ctx.addIssue({ code: "custom", path: ["url"], message: "give a ws(s) url or a host" });
		if (s.port !== undefined && !s.host) ctx.addIssue({ code: "custom", path: ["port"], message: "port needs host" });
	});

const open = createVncOpener();

export const vncDriver: ConsoleDriver<VncTarget, typeof configSchema> = {
	type: "vnc",
	kinds: ["vnc"],
	title: "VNC server (RFB over WebSocket or TCP)",
	label: "VNC",
	configSchema,
	fromConfig(entry, readSecret) {
		const password = readSecret(entry.password, entry.passwordEnv, "passwordEnv");
		const username = readSecret(entry.username, entry.usernameEnv, "usernameEnv", { secret: false });
		const picture = { quality: entry.quality, cursor: entry.cursor, viewOnly: entry.viewOnly };
		const target: VncTarget = entry.url
			? { kind: "vnc", url: entry.url, password, headers: entry.headers, tls: tlsFromConfig(entry.tls), ...picture }
			: {
					kind: "vnc",
					host: entry.host,
					port: entry.port ?? 5900,
					password,
					tls: tlsFromConfig(entry.tls),
					...picture,
				};
		if (username) target.username = username;
		return { target, ip: entry.url ? new URL(entry.url).hostname : (entry.host ?? null) };
	},
	open: (target, ctx, limits) => open(target, ctx, limits),
	describe: (target) => (target.url ? `vnc ${bareUrl(target.url)}` : `vnc ${target.host}:${target.port ?? 5900}`),
	stages: ["connect", "handshake", "first-frame", "decode"],
	power: vncPower,
	viewer: vncViewer,
	async probe(target, ctx) {
		// One frame, not only the handshake: a server can take the connection and never send a picture.
		const probeOpen = createVncOpener({
			timeouts: { connectMs: ctx.timeoutMs, handshakeMs: ctx.timeoutMs, frameMs: ctx.timeoutMs },
		});
		const call = { signal: ctx.signal, progress: () => {} };
		const session = await probeOpen(target, call, ctx.limits);
		try {
			const frame = await session.capture(call);
			return {
				detail: `RFB handshake complete${target.password ? ", password accepted" : ""}, ${frame.width}x${frame.height} frame received`,
			};
		} finally {
			await session.close();
		}
	},
};
