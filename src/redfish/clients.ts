/**
 * One RedfishClient (so one BMC session) per BMC and account, shared by every
 * target, server and call that reaches it: list_servers, screenshots and power of
 * all the systems of one BMC use the same session.
 */

import { RedfishClient, type RedfishClientOptions } from "./client.ts";
import type { RedfishTarget } from "./target.ts";

const clients = new Map<string, RedfishClient>();
const defaults: RedfishClientOptions = {};

function keyOf(target: RedfishTarget): string {
	return JSON.stringify([
		new URL(target.url).origin,
		target.username,
		target.password,
		target.tls ?? {},
		target.auth ?? "auto",
	]);
}

export function redfishClientFor(target: RedfishTarget): RedfishClient {
	const key = keyOf(target);
	let client = clients.get(key);
	if (!client) {
		client = new RedfishClient(
			{ url: target.url, username: target.username, password: target.password, tls: target.tls, auth: target.auth },
			defaults,
		);
		clients.set(key, client);
	}
	return client;
}

/** Logs every client out (DELETE of its session); they may log in again when used later. */
export async function closeRedfishClients(): Promise<void> {
	const all = [...clients.values()];
	clients.clear();
	await Promise.allSettled(all.map((c) => c.close()));
}
