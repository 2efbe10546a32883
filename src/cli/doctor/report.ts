/**
 * The doctor's checklist as text: one line per check, the fix indented below a
 * failure or warning, and a summary. Everything passes through redaction.
 */
import { redact } from "../../redact.ts";
import type { CheckResult, CheckStatus } from "./types.ts";

export const SYMBOLS: Record<CheckStatus, string> = { pass: "✓", warn: "⚠", fail: "✗", skip: "–" };

export function formatResult(result: CheckResult): string {
	const line = `${SYMBOLS[result.status]} ${result.name}: ${result.detail}`;
	const fix = result.fix && (result.status === "fail" || result.status === "warn") ? `\n    fix: ${result.fix}` : "";
	return redact(`${line}${fix}`);
}

export interface DoctorSummary {
	passed: number;
	warnings: number;
	failed: number;
	skipped: number;
	/** 0 when nothing failed (warnings allowed), 1 otherwise. */
	exitCode: 0 | 1;
}

export function summarize(results: readonly CheckResult[]): DoctorSummary {
	const count = (status: CheckStatus) => results.filter((r) => r.status === status).length;
	const failed = count("fail");
	return {
		passed: count("pass"),
		warnings: count("warn"),
		failed,
		skipped: count("skip"),
		exitCode: failed > 0 ? 1 : 0,
	};
}

export function formatSummary(summary: DoctorSummary): string {
	const parts = [`${summary.passed} passed`];
	if (summary.warnings) parts.push(`${summary.warnings} warning${summary.warnings === 1 ? "" : "s"}`);
	parts.push(`${summary.failed} failed`);
	if (summary.skipped) parts.push(`${summary.skipped} skipped`);
	const verdict =
		summary.failed > 0 ? "fix the ✗ lines above, then run ikvm-mcp doctor again" : "ready for screenshots";
	return `${parts.join(", ")}: ${verdict}`;
}
