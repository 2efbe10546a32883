import type { ConsoleTarget, TlsOptions } from "../console/types.ts";

/** An OpenBMC board: bmcweb's web login, then RFB from obmc-ikvm through `wss://<bmc>/kvm/0`. */
export interface OpenBmcTarget extends ConsoleTarget {
	kind: "openbmc";
	/** Base URL of the BMC, e.g. https://10.0.0.30 */
	url: string;
	username: string;
	password: string;
	tls?: TlsOptions;
}
