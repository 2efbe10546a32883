import type { ConsoleTarget, TlsOptions } from "../console/types.ts";

/** A Redfish BMC (Dell iDRAC, Supermicro, OpenBMC, HPE, Lenovo …); `systemId` picks one of its ComputerSystems. */
export interface RedfishTarget extends ConsoleTarget {
	kind: "redfish";
	/** Base URL of the BMC, e.g. https://10.0.0.7 */
	url: string;
	username: string;
	password: string;
	tls?: TlsOptions;
	/** auto (default): a Redfish session, HTTP Basic when the BMC has no SessionService. */
	auth?: "auto" | "session" | "basic";
	systemId?: string;
	/** Password of the BMC's VNC service, when ManagerNetworkProtocol.RFB is used. */
	vncPassword?: string;
	/** The entry's `control` field as written (the safety model decides; the doctor reports it). */
	control?: boolean | readonly string[];
}
