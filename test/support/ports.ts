/**
 * Free loopback ports for servers that cannot be handed port 0 (subprocesses, QEMU's VNC), and
 * for "nothing listens here" tests. The OS picks the port and we release it at once, so another
 * process may still take it before the caller binds it: callers that can, retry.
 */
import net from "node:net";

/** A loopback TCP port nothing listens on now. */
export async function freePort(): Promise<number> {
	const server = net.createServer();
	await new Promise<void>((resolve, reject) => {
		server.once("error", reject);
		server.listen(0, "127.0.0.1", resolve);
	});
	const port = (server.address() as net.AddressInfo).port;
	await new Promise<void>((resolve) => server.close(() => resolve()));
	return port;
}

function canBind(port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const server = net.createServer();
		server.once("error", () => resolve(false));
		server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
	});
}

/** A VNC display number N whose TCP port 5900 + N is free: QEMU's -vnc takes a display, not a port. */
export async function freeVncDisplay(exclude: number[] = []): Promise<number> {
	for (let attempt = 0; attempt < 200; attempt++) {
		const n = 100 + Math.floor(Math.random() * 3000);
		if (!exclude.includes(n) && (await canBind(5900 + n))) return n;
	}
	throw new Error("no free VNC display port");
}
