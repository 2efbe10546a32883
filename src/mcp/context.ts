/**
 * Builds the CallContext a tool hands to providers: the client's cancellation,
 * the whole-call deadline, and progress notifications when the client asked.
 */
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type { ServerNotification, ServerRequest } from "@modelcontextprotocol/sdk/types.js";
import type { CallContext } from "../call-context.ts";
import type { Stage } from "../errors.ts";
import { log } from "../log.ts";
import { redact } from "../redact.ts";

export type ToolExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** Stages in the order a cold capture meets them; progress counts along this list. */
const STAGE_ORDER: Stage[] = [
	"queue",
	"ovh-access",
	"ovh-task",
	"bmc-login",
	"ws-connect",
	"connect",
	"handshake",
	"first-frame",
	"decode",
	"encode",
];

export function createCallContext(extra: ToolExtra, timeoutMs: number): CallContext {
	const signal = AbortSignal.any([extra.signal, AbortSignal.timeout(timeoutMs)]);
	const token = extra._meta?.progressToken;
	let step = 0;
	const progress = (stage: Stage, message: string) => {
		log.debug("progress", { stage, message });
		if (token === undefined || signal.aborted) return;
		const index = STAGE_ORDER.indexOf(stage);
		step = Math.max(step + 1, index + 1);
		extra
			.sendNotification({
				method: "notifications/progress",
				params: { progressToken: token, progress: step, total: STAGE_ORDER.length + 1, message: redact(message) },
			})
			.catch(() => {
				// The client may have gone away; progress is best effort.
			});
	};
	return { signal, progress };
}
