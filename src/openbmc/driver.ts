/**
 * The OpenBMC console kind: log in to bmcweb, open `wss://<bmc>/kvm/0` with the session
 * cookie and the CSRF token as subprotocol (see ./login.ts for what bmcweb checks), then
 * speak RFB to obmc-ikvm (libvncserver) through it. obmc-ikvm prefers Tight with JPEG;
 * the VNC client announces lossless encodings first and no JPEG quality level, so text
 * stays exact. Closing the console closes the WebSocket and logs out.
 */
import { z } from "zod";
import type { CallContext } from "../call-context.ts";
import {
	bmcTlsSchema,
	entryFields,
	httpUrl,
	loginFields,
	requireLogin,
	tlsFromConfig,
} from "../console/config-schema.ts";
import type { ConsoleDriver } from "../console/driver.ts";
import type { ConsoleLimits, ConsoleSession } from "../console/types.ts";
import { IkvmError } from "../errors.ts";
import { bareUrl } from "../net/bare-url.ts";
import { createVncOpener, type VncSessionOptions } from "../vnc/session.ts";
import type { VncTarget } from "../vnc/target.ts";
import { type BmcwebSession, bmcwebLogin, bmcwebLogout, sessionHeaders } from "./login.ts";
import type { OpenBmcTarget } from "./target.ts";

const configSchema = z
	.object({
		...entryFields,
		type: z.literal("openbmc"),
		url: httpUrl,
		...loginFields,
		tls: bmcTlsSchema,
	})
	.strict()
	.superRefine(requireLogin);

const LOGOUT_MS = 5000;

/** The RFB target behind a bmcweb session: `/kvm/0` on the same host, over wss:// for https://. */
export function kvmTarget(target: OpenBmcTarget, session: BmcwebSession): VncTarget {
	const base = new URL(target.url);
	const ws = new URL("/kvm/0", base);
	ws.protocol = base.protocol === "https:" ? "wss:" : "ws:";
	return {
		kind: "vnc",
		url: ws.href,
		headers: sessionHeaders(session),
		...(session.csrf ? { subprotocols: [session.csrf] } : {}),
		tls: target.tls,
	};
}

/** A VNC session that also ends the bmcweb web session when it closes. */
class OpenBmcSession implements ConsoleSession {
	readonly description: string;
	private done = false;

	constructor(
		private readonly vnc: ConsoleSession,
		private readonly web: BmcwebSession,
		private readonly target: OpenBmcTarget,
	) {
		this.description = `openbmc ${bareUrl(target.url)}`;
		if (vnc.sendKeys) this.sendKeys = vnc.sendKeys.bind(vnc);
		if (vnc.pointer) this.pointer = vnc.pointer.bind(vnc);
	}

	sendKeys?: ConsoleSession["sendKeys"];
	pointer?: ConsoleSession["pointer"];

	get closed(): boolean {
		return this.done || this.vnc.closed;
	}

	get screenSize() {
		return this.vnc.screenSize;
	}

	capture(ctx: CallContext) {
		return this.vnc.capture(ctx);
	}

	async close(): Promise<void> {
		if (this.done) return;
		this.done = true;
		await this.vnc.close();
		await bmcwebLogout(this.web, this.target.tls, LOGOUT_MS);
	}
}

/** Opens an OpenBMC console (exported with options for tests and the Redfish driver). */
export function createOpenBmcOpener(options: VncSessionOptions = {}) {
	const openVnc = createVncOpener(options);
	return async (target: OpenBmcTarget, ctx: CallContext, limits: ConsoleLimits): Promise<ConsoleSession> => {
		ctx.progress("openbmc-login", `Logging in to the BMC at ${bareUrl(target.url)}`);
		const web = await bmcwebLogin(target.url, target.username, target.password, target.tls, {
			signal: ctx.signal,
			timeoutMs: options.timeouts?.connectMs ?? 10_000,
		});
		try {
			const vnc = await openVnc(kvmTarget(target, web), ctx, limits);
			return new OpenBmcSession(vnc, web, target);
		} catch (error) {
			await bmcwebLogout(web, target.tls, LOGOUT_MS);
			throw explainKvmFailure(error, target);
		}
	};
}

/** bmcweb answers 401 to an upgrade whose CSRF subprotocol or privilege is wrong. */
function explainKvmFailure(error: unknown, target: OpenBmcTarget): unknown {
	if (error instanceof IkvmError && error.stage === "connect" && /HTTP 40[13]/.test(error.message)) {
		return new IkvmError(
			"ACCESS_DENIED",
			`${error.message} The BMC refused the KVM WebSocket for "${target.username}".`,
			{
				stage: "connect",
				hint: "The KVM needs the Operator or Administrator role (ConfigureComponents privilege); bmcweb also allows only 4 KVM sessions.",
				cause: error,
			},
		);
	}
	return error;
}

const open = createOpenBmcOpener();

export const openbmcDriver: ConsoleDriver<OpenBmcTarget, typeof configSchema> = {
	type: "openbmc",
	kinds: ["openbmc"],
	title: "OpenBMC (bmcweb login, RFB from obmc-ikvm over wss://<bmc>/kvm/0)",
	label: "OpenBMC",
	configSchema,
	fromConfig(entry, readSecret) {
		const username = readSecret(entry.username, entry.usernameEnv, "usernameEnv", { secret: false }) as string;
		const password = readSecret(entry.password, entry.passwordEnv, "passwordEnv") ?? "";
		return {
			target: { kind: "openbmc", url: entry.url, username, password, tls: tlsFromConfig(entry.tls) },
			ip: new URL(entry.url).hostname,
		};
	},
	open: (target, ctx, limits) => open(target, ctx, limits),
	describe: (target) => `openbmc ${bareUrl(target.url)}`,
	stages: ["openbmc-login", "connect", "handshake", "first-frame", "decode"],
	async probe(target, ctx) {
		const probeOpen = createOpenBmcOpener({
			timeouts: { connectMs: ctx.timeoutMs, handshakeMs: ctx.timeoutMs, frameMs: ctx.timeoutMs },
		});
		const session = await probeOpen(target, { signal: ctx.signal, progress: () => {} }, ctx.limits);
		try {
			const frame = await session.capture({ signal: ctx.signal, progress: () => {} });
			return { detail: `logged in as "${target.username}", ${frame.width}x${frame.height} frame received` };
		} finally {
			await session.close();
		}
	},
};
