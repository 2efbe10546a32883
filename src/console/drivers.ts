/**
 * The console kinds this build speaks: one driver per protocol folder. The opener,
 * the targets-file schema, the doctor and the progress stages all read this list,
 * so adding a kind is one folder plus one line here.
 */
import { amiDriver } from "../ami/driver.ts";
import { atenDriver } from "../aten/driver.ts";
import { IkvmError } from "../errors.ts";
import { openbmcDriver } from "../openbmc/driver.ts";
import { redfishDriver } from "../redfish/driver.ts";
import { vncDriver } from "../vnc/driver.ts";
import type { AnyConsoleDriver } from "./driver.ts";
import type { ConsoleOpener, ConsoleTarget } from "./types.ts";

export const DRIVERS: readonly AnyConsoleDriver[] = [vncDriver, amiDriver, atenDriver, openbmcDriver, redfishDriver];

/** The driver that opens targets of `kind`, or undefined. */
export function driverForKind(
	kind: string,
	drivers: readonly AnyConsoleDriver[] = DRIVERS,
): AnyConsoleDriver | undefined {
	return drivers.find((d) => d.kinds.includes(kind));
}

/** The driver of targets-file entries of `type`, or undefined. */
export function driverForType(
	type: string,
	drivers: readonly AnyConsoleDriver[] = DRIVERS,
): AnyConsoleDriver | undefined {
	return drivers.find((d) => d.type === type);
}

/** Opens any target with the driver of its kind. */
export function createOpener(drivers: readonly AnyConsoleDriver[] = DRIVERS): ConsoleOpener {
	return (target: ConsoleTarget, ctx, limits) => {
		const driver = driverForKind(target.kind, drivers);
		if (!driver) {
			const known = drivers.flatMap((d) => d.kinds).join(", ");
			return Promise.reject(
				new IkvmError("NOT_SUPPORTED", `Console type "${target.kind}" is not supported.`, {
					hint: `This build speaks: ${known}.`,
				}),
			);
		}
		return driver.open(target, ctx, limits);
	};
}

/** A target's description for the doctor and logs, from its driver. */
export function describeTarget(target: ConsoleTarget, drivers: readonly AnyConsoleDriver[] = DRIVERS): string {
	return driverForKind(target.kind, drivers)?.describe(target) ?? target.kind;
}

/** Opens any target this build speaks. */
export const openConsole: ConsoleOpener = createOpener();
