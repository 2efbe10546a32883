import type { ConsoleTarget, TlsOptions } from "../console/types.ts";

/** An AMI/ASRockRack HTML5 KVM reached through a viewer URL (`https://<bmc>/...?token=...`, as OVH hands out). */
export interface AmiViewerTarget extends ConsoleTarget {
	kind: "ami-viewer";
	viewerUrl: string;
	tls?: TlsOptions;
}

/** An AMI MegaRAC BMC logged into directly with a username and password. */
export interface AmiLoginTarget extends ConsoleTarget {
	kind: "ami-login";
	/** Base URL of the BMC, e.g. https://10.0.0.20 */
	url: string;
	username: string;
	password: string;
	tls?: TlsOptions;
}

export type AmiTarget = AmiViewerTarget | AmiLoginTarget;
