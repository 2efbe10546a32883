// The mock BMC lives in src/demo so the embedded demo can use it too.
import type { AmiLoginTarget } from "../../src/ami/target.ts";

export * from "../../src/demo/bmc.ts";

/** A direct login to the mock (its self-signed certificate accepted), with its password unless told. */
export function mockBmcLogin(
	bmc: { origin: string; username: string; password: string },
	password = bmc.password,
): AmiLoginTarget {
	return { kind: "ami-login", url: bmc.origin, username: bmc.username, password, tls: { insecure: true } };
}
