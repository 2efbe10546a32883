/** The IkvmError a call ends with, for tests that check its code, stage and words; any other outcome fails the test. */
import { IkvmError } from "../../src/errors.ts";

export async function failure<E extends IkvmError = IkvmError>(promise: Promise<unknown>): Promise<E> {
	try {
		await promise;
	} catch (error) {
		if (error instanceof IkvmError) return error as E;
		throw error;
	}
	throw new Error("expected an IkvmError, the call succeeded");
}

export function errorOf(fn: () => unknown): IkvmError {
	try {
		fn();
	} catch (error) {
		if (error instanceof IkvmError) return error;
		throw error;
	}
	throw new Error("expected an IkvmError, the call succeeded");
}
