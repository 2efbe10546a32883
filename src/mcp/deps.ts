/**
 * What every tool is given: the registry (servers and their consoles), the call
 * deadline, the notice added to results, and the gate counting calls in progress.
 */
import type { ProviderRegistry } from "../providers/registry.ts";
import type { CallGate } from "./calls.ts";

export interface ToolDeps {
	registry: ProviderRegistry;
	/** Deadline of a whole tool call. */
	toolTimeoutMs: number;
	/** Added to every tool result, e.g. to announce demo mode. */
	notice?: string;
	/** Calls in progress: counted, and stopped with a clear error at shutdown. */
	calls?: CallGate;
}
