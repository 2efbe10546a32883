/**
 * A fake Redfish BMC for tests and `bun run demo`: HTTPS on loopback with the mock
 * BMC certificate, checking what a real service checks (a session or Basic on every
 * resource but the service root, a session cap, ResetType present and allowed, the
 * screenshot actions' parameters). Variants by options: Dell iDRAC (LC service
 * screenshot, RAC0218 session limit), Supermicro (DumpService ScreenCapture as
 * octet-stream JPEG), OpenBMC (ResetActionInfo only, `/kvm/0` bridged to an RFB
 * server), or a generic BMC (optionally with VNC announced as ManagerNetworkProtocol.RFB).
 */
import { randomBytes } from "node:crypto";
import net from "node:net";
import type { Server, ServerWebSocket } from "bun";
import { MOCK_BMC_CERT, MOCK_BMC_KEY } from "./mock-bmc-cert.ts";

export type FakeRedfishVendor = "generic" | "dell" | "supermicro" | "openbmc";

export interface FakeRedfishOptions {
	vendor?: FakeRedfishVendor;
	username?: string;
	password?: string;
	/** System ids (default one, named as the vendor names it). */
	systems?: string[];
	/** Sessions at once; the next login gets the vendor's session-limit answer. Default 4. */
	sessionLimit?: number;
	/** false: no SessionService at all (Basic only); "refuses": listed, but POST answers 405. Default true. */
	sessionService?: boolean | "refuses";
	/** Where ResetType values are announced. Default: OpenBMC "actioninfo", others "inline". */
	resetValues?: "inline" | "actioninfo" | "both" | "none";
	allowedResetTypes?: string[];
	/** Answer Reset with 202 and a task monitor that runs for `taskMs`. */
	resetTask?: boolean;
	taskMs?: number;
	/** Delay before PowerState changes after a Reset. Default 150 ms. */
	powerDelayMs?: number;
	initialPower?: "On" | "Off";
	/** 409 (iDRAC PSU501 style) when a Reset asks for the state the system is already in. */
	conflictWhenAlreadyInState?: boolean;
	/** A PowerState that never changes (a BMC that accepts and does nothing). */
	stuckPower?: boolean;
	/** The screen: PNG bytes (Dell) and JPEG bytes (Supermicro). */
	screen?: { png?: Uint8Array; jpeg?: Uint8Array };
	/** TCP port of an RFB server: OpenBMC's /kvm/0 pipes to it; a generic BMC announces it as RFB. */
	rfbPort?: number;
	/** Generic vendor: announce rfbPort in ManagerNetworkProtocol.RFB. Default true when rfbPort is set. */
	rfbProtocol?: boolean;
	/** Dell: the screenshot action answers 400 LC081 (missing Virtual Console privilege). */
	dellPrivilegeError?: boolean;
	/** The login succeeds with a PasswordChangeRequired message (a factory account). */
	passwordChangeRequired?: boolean;
	/** The Reset task monitor ends in TaskState Exception. */
	taskFails?: boolean;
	/** Loopback address to listen on (default 127.0.0.1; 127.0.0.2 is not named by the certificate). */
	hostname?: string;
	/** Every GET of a system answers 503 with Retry-After this many times first. */
	busyAnswers?: number;
}

interface Session {
	id: string;
	token: string;
	user: string;
}

interface Task {
	id: string;
	doneAt: number;
}

interface KvmData {
	upstream?: net.Socket;
	pending: Uint8Array[];
}

export interface FakeRedfishStats {
	logins: number;
	loginFailures: number;
	sessionDeletes: number;
	resets: string[];
	screenshots: number;
	kvmConnections: number;
	requests: Array<{ method: string; path: string; auth: "token" | "basic" | "none" }>;
}

const ENUM = [
	"On",
	"ForceOff",
	"GracefulShutdown",
	"GracefulRestart",
	"ForceRestart",
	"Nmi",
	"ForceOn",
	"PushPowerButton",
	"PowerCycle",
];

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
	return new Response(JSON.stringify(body), {
		status,
		headers: { "Content-Type": "application/json; charset=utf-8", "OData-Version": "4.0", ...headers },
	});
}

function redfishError(status: number, id: string, message: string, headers: Record<string, string> = {}): Response {
	return json(
		{
			error: {
				code: id,
				message,
				"@Message.ExtendedInfo": [
					{
						"@odata.type": "#Message.v1_1_1.Message",
						MessageId: id,
						Message: message,
						Severity: "Critical",
						Resolution: "None.",
					},
				],
			},
		},
		status,
		headers,
	);
}

export class FakeRedfishBmc {
	readonly stats: FakeRedfishStats = {
		logins: 0,
		loginFailures: 0,
		sessionDeletes: 0,
		resets: [],
		screenshots: 0,
		kvmConnections: 0,
		requests: [],
	};
	readonly sessions = new Map<string, Session>();
	readonly power = new Map<string, string>();
	private readonly tasks = new Map<string, Task>();
	private readonly timers = new Set<ReturnType<typeof setTimeout>>();
	private readonly kvmSockets = new Set<ServerWebSocket<KvmData>>();
	private server!: Server<KvmData>;
	private captured = false;
	private busyLeft: number;
	readonly vendor: FakeRedfishVendor;
	readonly username: string;
	readonly password: string;
	readonly systemIds: string[];
	readonly managerId: string;

	private constructor(readonly options: FakeRedfishOptions) {
		this.vendor = options.vendor ?? "generic";
		this.username = options.username ?? "admin";
		this.password = options.password ?? "fake-redfish-password";
		const defaultSystem = { dell: "System.Embedded.1", supermicro: "1", openbmc: "system", generic: "437XR1138R2" }[
			this.vendor
		];
		this.systemIds = options.systems ?? [defaultSystem];
		this.managerId = { dell: "iDRAC.Embedded.1", supermicro: "1", openbmc: "bmc", generic: "BMC" }[this.vendor];
		for (const id of this.systemIds) this.power.set(id, options.initialPower ?? "On");
		this.busyAnswers = options.busyAnswers ?? 0;
		this.busyLeft = this.busyAnswers;
	}

	private readonly busyAnswers: number;

	static async start(options: FakeRedfishOptions = {}): Promise<FakeRedfishBmc> {
		const bmc = new FakeRedfishBmc(options);
		bmc.server = Bun.serve<KvmData>({
			hostname: options.hostname ?? "127.0.0.1",
			port: 0,
			tls: { cert: MOCK_BMC_CERT, key: MOCK_BMC_KEY },
			fetch: (req, server) => bmc.handle(req, server),
			websocket: {
				open: (ws) => bmc.kvmOpen(ws),
				message: (ws, message) => {
					const bytes = typeof message === "string" ? new TextEncoder().encode(message) : new Uint8Array(message);
					if (ws.data.upstream) ws.data.upstream.write(bytes);
					else ws.data.pending.push(bytes);
				},
				close: (ws) => {
					bmc.kvmSockets.delete(ws);
					ws.data.upstream?.destroy();
				},
			},
		});
		return bmc;
	}

	get origin(): string {
		return `https://${this.options.hostname ?? "127.0.0.1"}:${this.server.port}`;
	}

	get port(): number {
		return this.server.port as number;
	}

	/** Sessions open now. */
	get openSessions(): number {
		return this.sessions.size;
	}

	get openKvm(): number {
		return this.kvmSockets.size;
	}

	/** Forgets every session, as a BMC reboot or a timeout would. */
	expireSessions(): void {
		this.sessions.clear();
	}

	setPower(systemId: string, state: string): void {
		this.power.set(systemId, state);
	}

	async stop(): Promise<void> {
		for (const t of this.timers) clearTimeout(t);
		for (const ws of this.kvmSockets) ws.close();
		this.server.stop(true);
	}

	// -------------------------------------------------------------------------

	private later(ms: number, fn: () => void): void {
		const t = setTimeout(() => {
			this.timers.delete(t);
			fn();
		}, ms);
		this.timers.add(t);
	}

	private authOf(req: Request): "token" | "basic" | "none" | "bad" {
		const token = req.headers.get("x-auth-token");
		if (token) return [...this.sessions.values()].some((s) => s.token === token) ? "token" : "bad";
		const auth = req.headers.get("authorization");
		if (auth?.startsWith("Basic ")) {
			const [user, ...rest] = Buffer.from(auth.slice(6), "base64").toString().split(":");
			return user === this.username && rest.join(":") === this.password ? "basic" : "bad";
		}
		return "none";
	}

	private unauthorized(): Response {
		return redfishError(
			401,
			"Base.1.19.NoValidSession",
			"There is no valid session established with the implementation.",
			{
				"WWW-Authenticate": 'Basic realm="Redfish"',
			},
		);
	}

	private root(): unknown {
		const hasSessions = this.options.sessionService !== false;
		const oem: Record<string, unknown> = {};
		if (this.vendor === "dell")
			oem.Dell = { "@odata.type": "#DellServiceRoot.v1_0_0.DellServiceRoot", ManagerMACAddress: "d0:94:66:00:00:01" };
		if (this.vendor === "supermicro")
			oem.Supermicro = { DumpService: { "@odata.id": "/redfish/v1/Oem/Supermicro/DumpService" } };
		return {
			"@odata.type": "#ServiceRoot.v1_15_0.ServiceRoot",
			"@odata.id": "/redfish/v1",
			Id: "RootService",
			Name: "Root Service",
			RedfishVersion: "1.17.0",
			UUID: "92384634-2938-2342-8820-489239905423",
			...(this.vendor === "openbmc" ? { Vendor: "OpenBMC", Product: "fake bmcweb" } : {}),
			Systems: { "@odata.id": "/redfish/v1/Systems" },
			Managers: { "@odata.id": "/redfish/v1/Managers" },
			...(hasSessions ? { SessionService: { "@odata.id": "/redfish/v1/SessionService" } } : {}),
			TaskService: { "@odata.id": "/redfish/v1/TaskService" },
			Links: hasSessions ? { Sessions: { "@odata.id": "/redfish/v1/SessionService/Sessions" } } : {},
			...(Object.keys(oem).length > 0 ? { Oem: oem } : {}),
		};
	}

	private resetValuesMode(): "inline" | "actioninfo" | "both" | "none" {
		return this.options.resetValues ?? (this.vendor === "openbmc" ? "actioninfo" : "inline");
	}

	private allowed(): string[] {
		return (
			this.options.allowedResetTypes ?? [
				"On",
				"ForceOff",
				"GracefulShutdown",
				"GracefulRestart",
				"ForceRestart",
				"Nmi",
				"PushPowerButton",
				"PowerCycle",
			]
		);
	}

	private system(id: string): unknown {
		const path = `/redfish/v1/Systems/${id}`;
		const mode = this.resetValuesMode();
		const reset: Record<string, unknown> = { target: `${path}/Actions/ComputerSystem.Reset` };
		if (mode === "inline" || mode === "both") reset["ResetType@Redfish.AllowableValues"] = this.allowed();
		if (mode === "actioninfo" || mode === "both") reset["@Redfish.ActionInfo"] = `${path}/ResetActionInfo`;
		const manufacturer = {
			dell: "Dell Inc.",
			supermicro: "Supermicro",
			openbmc: "OpenBMC Project",
			generic: "Contoso",
		}[this.vendor];
		const model = { dell: "PowerEdge R750", supermicro: "SYS-120U-TNR", openbmc: "Romulus", generic: "3500" }[
			this.vendor
		];
		const power = this.power.get(id) ?? "Off";
		return {
			"@odata.type": "#ComputerSystem.v1_20_0.ComputerSystem",
			"@odata.id": path,
			Id: id,
			Name: `System ${id}`,
			HostName: this.systemIds.length > 1 ? `node-${id}.example.net` : "web-483.example.net",
			SystemType: "Physical",
			Manufacturer: manufacturer,
			Model: model,
			SerialNumber: `SN-${id}-0042`,
			PowerState: power,
			Status: { State: power === "On" ? "Enabled" : "StandbyOffline", Health: "OK", HealthRollup: "OK" },
			BootProgress: { LastState: power === "On" ? "OSRunning" : "None" },
			...(this.vendor === "openbmc"
				? {
						GraphicalConsole: {
							ServiceEnabled: this.options.rfbPort !== undefined,
							MaxConcurrentSessions: 4,
							ConnectTypesSupported: ["KVMIP"],
						},
					}
				: {}),
			Links: { ManagedBy: [{ "@odata.id": `/redfish/v1/Managers/${this.managerId}` }] },
			Actions: { "#ComputerSystem.Reset": reset },
		};
	}

	private manager(): unknown {
		const path = `/redfish/v1/Managers/${this.managerId}`;
		const links: Record<string, unknown> = {
			ManagerForServers: this.systemIds.map((s) => ({ "@odata.id": `/redfish/v1/Systems/${s}` })),
		};
		if (this.vendor === "dell") {
			links.Oem = { Dell: { DellLCService: { "@odata.id": `${path}/Oem/Dell/DellLCService` } } };
		}
		return {
			"@odata.type": "#Manager.v1_19_0.Manager",
			"@odata.id": path,
			Id: this.managerId,
			Name: "Manager",
			ManagerType: "BMC",
			FirmwareVersion: { dell: "7.10.30.00", supermicro: "01.04.08", openbmc: "2.15.0", generic: "1.00" }[this.vendor],
			Status: { State: "Enabled", Health: "OK" },
			NetworkProtocol: { "@odata.id": `${path}/NetworkProtocol` },
			...(this.vendor === "openbmc" ? { Oem: { OpenBmc: { "@odata.type": "#OpenBMCManager.v1_0_0.Manager" } } } : {}),
			Links: links,
		};
	}

	private networkProtocol(): unknown {
		const announce =
			this.vendor === "generic" && this.options.rfbPort !== undefined && this.options.rfbProtocol !== false;
		return {
			"@odata.type": "#ManagerNetworkProtocol.v1_9_0.ManagerNetworkProtocol",
			"@odata.id": `/redfish/v1/Managers/${this.managerId}/NetworkProtocol`,
			Id: "NetworkProtocol",
			HTTPS: { ProtocolEnabled: true, Port: this.port },
			SSH: { ProtocolEnabled: true, Port: 22 },
			IPMI: { ProtocolEnabled: false, Port: 623 },
			...(this.vendor === "generic"
				? {
						RFB: announce
							? { ProtocolEnabled: true, Port: this.options.rfbPort }
							: { ProtocolEnabled: false, Port: 5900 },
					}
				: {}),
		};
	}

	private collection(path: string, members: string[]): unknown {
		return {
			"@odata.id": path,
			Name: "Collection",
			Members: members.map((m) => ({ "@odata.id": m })),
			"Members@odata.count": members.length,
		};
	}

	private async body(req: Request): Promise<Record<string, unknown> | undefined> {
		try {
			const v = await req.json();
			return v && typeof v === "object" ? (v as Record<string, unknown>) : undefined;
		} catch {
			return undefined;
		}
	}

	private async handle(req: Request, server: Server<KvmData>): Promise<Response | undefined> {
		const url = new URL(req.url);
		const path = url.pathname.replace(/\/+$/, "") || "/";
		const method = req.method;
		const auth = this.authOf(req);
		this.stats.requests.push({ method, path, auth: auth === "bad" ? "none" : auth });

		if (path === "/redfish" && method === "GET") return json({ v1: "/redfish/v1/" });
		if (path === "/redfish/v1" && method === "GET") return json(this.root());
		if (path === "/redfish/v1/odata" || path === "/redfish/v1/$metadata") return json({ value: [] });

		const sessionsPath = "/redfish/v1/SessionService/Sessions";
		if (path === sessionsPath && method === "POST") {
			if (this.options.sessionService === false)
				return redfishError(404, "Base.1.19.ResourceNotFound", "The requested resource was not found.");
			if (this.options.sessionService === "refuses") return this.notAllowed("GET");
			return this.login(req);
		}
		if (auth === "bad" || auth === "none") return this.unauthorized();

		if (path === "/kvm/0" && this.vendor === "openbmc") {
			if (this.options.rfbPort === undefined) return new Response("KVM not enabled", { status: 404 });
			if (server.upgrade(req, { data: { pending: [] } })) return undefined;
			return new Response("expected a WebSocket upgrade", { status: 400 });
		}

		if (path === "/redfish/v1/SessionService" && this.options.sessionService !== false && method === "GET") {
			return json({
				"@odata.id": "/redfish/v1/SessionService",
				Id: "SessionService",
				ServiceEnabled: true,
				SessionTimeout: 1800,
				Sessions: { "@odata.id": sessionsPath },
			});
		}
		if (path === sessionsPath && method === "GET") {
			return json(
				this.collection(
					sessionsPath,
					[...this.sessions.values()].map((s) => `${sessionsPath}/${s.id}`),
				),
			);
		}
		if (path.startsWith(`${sessionsPath}/`)) {
			const id = path.slice(sessionsPath.length + 1);
			const session = this.sessions.get(id);
			if (!session) return redfishError(404, "Base.1.19.ResourceNotFound", `The session ${id} was not found.`);
			if (method === "DELETE") {
				this.sessions.delete(id);
				this.stats.sessionDeletes++;
				return new Response(null, { status: 204 });
			}
			if (method === "GET") return json({ "@odata.id": path, Id: id, UserName: session.user });
			return this.notAllowed("GET, DELETE");
		}

		if (path === "/redfish/v1/Systems" && method === "GET") {
			return json(
				this.collection(
					path,
					this.systemIds.map((s) => `/redfish/v1/Systems/${s}`),
				),
			);
		}
		const sys = /^\/redfish\/v1\/Systems\/([^/]+)(\/.*)?$/.exec(path);
		if (sys) {
			const id = decodeURIComponent(sys[1] as string);
			if (!this.systemIds.includes(id))
				return redfishError(404, "Base.1.19.ResourceNotFound", `The system ${id} was not found.`);
			const rest = sys[2] ?? "";
			if (rest === "" && method === "GET") {
				if (this.busyLeft > 0) {
					this.busyLeft--;
					return redfishError(
						503,
						"Base.1.19.ServiceTemporarilyUnavailable",
						"The service is temporarily unavailable. Retry in 1 seconds.",
						{ "Retry-After": "1" },
					);
				}
				return json(this.system(id));
			}
			if (
				rest === "/ResetActionInfo" &&
				method === "GET" &&
				this.resetValuesMode() !== "inline" &&
				this.resetValuesMode() !== "none"
			) {
				return json({
					"@odata.type": "#ActionInfo.v1_1_2.ActionInfo",
					"@odata.id": path,
					Id: "ResetActionInfo",
					Parameters: [{ Name: "ResetType", Required: true, DataType: "String", AllowableValues: this.allowed() }],
				});
			}
			if (rest === "/Actions/ComputerSystem.Reset") {
				if (method !== "POST") return this.notAllowed("POST");
				return this.reset(id, await this.body(req));
			}
			return redfishError(404, "Base.1.19.ResourceNotFound", `${path} was not found.`);
		}

		const monitor = /^\/redfish\/v1\/TaskService\/TaskMonitors\/([^/]+)$/.exec(path);
		if (monitor && method === "GET") {
			const task = this.tasks.get(monitor[1] as string);
			if (!task) return redfishError(404, "Base.1.19.ResourceNotFound", "No such task.");
			const left = task.doneAt - Date.now();
			if (left > 0)
				return json(
					{
						"@odata.id": `/redfish/v1/TaskService/Tasks/${task.id}`,
						Id: task.id,
						TaskState: "Running",
						PercentComplete: 50,
					},
					202,
					{ "Retry-After": "0", Location: path },
				);
			if (this.options.taskFails) {
				return json({
					"@odata.id": `/redfish/v1/TaskService/Tasks/${task.id}`,
					Id: task.id,
					TaskState: "Exception",
					TaskStatus: "Critical",
					Messages: [{ MessageId: "Base.1.19.InternalError", Message: "The power controller did not respond." }],
				});
			}
			return json({
				"@odata.id": `/redfish/v1/TaskService/Tasks/${task.id}`,
				Id: task.id,
				TaskState: "Completed",
				TaskStatus: "OK",
				PercentComplete: 100,
				Messages: [],
			});
		}

		if (path === "/redfish/v1/Managers" && method === "GET") {
			return json(this.collection(path, [`/redfish/v1/Managers/${this.managerId}`]));
		}
		const mgrPath = `/redfish/v1/Managers/${this.managerId}`;
		if (path === mgrPath && method === "GET") return json(this.manager());
		if (path === `${mgrPath}/NetworkProtocol` && method === "GET") return json(this.networkProtocol());

		if (this.vendor === "dell") {
			const lc = `${mgrPath}/Oem/Dell/DellLCService`;
			if (path === lc && method === "GET") {
				return json({
					"@odata.id": lc,
					Id: "DellLCService",
					Actions: {
						"#DellLCService.ExportServerScreenShot": {
							target: `${lc}/Actions/DellLCService.ExportServerScreenShot`,
							"FileType@Redfish.AllowableValues": ["LastCrashScreenShot", "Preview", "ServerScreenShot"],
						},
					},
				});
			}
			if (path === `${lc}/Actions/DellLCService.ExportServerScreenShot`) {
				if (method !== "POST") return this.notAllowed("POST");
				return this.dellScreenshot(await this.body(req));
			}
		}
		if (this.vendor === "supermicro") {
			const dump = "/redfish/v1/Oem/Supermicro/DumpService";
			if (path === dump && method === "GET") {
				return json({
					"@odata.id": dump,
					Id: "DumpService",
					Actions: {
						"#OemDumpService.Collect": {
							target: `${dump}/Actions/OemDumpService.Collect`,
							"DumpType@Redfish.AllowableValues": ["HGXLogDump", "ScreenCapture"],
							"ActionType@Redfish.AllowableValues": ["Create", "Delete", "Download", "Query"],
						},
					},
				});
			}
			if (path === `${dump}/Actions/OemDumpService.Collect`) {
				if (method !== "POST") return this.notAllowed("POST");
				return this.supermicroCollect(await this.body(req));
			}
		}
		return redfishError(404, "Base.1.19.ResourceNotFound", `${path} was not found.`);
	}

	private notAllowed(allow: string): Response {
		return redfishError(405, "Base.1.19.OperationNotAllowed", "The HTTP method is not allowed on this resource.", {
			Allow: allow,
		});
	}

	private async login(req: Request): Promise<Response> {
		const body = await this.body(req);
		if (!body || typeof body.UserName !== "string" || typeof body.Password !== "string") {
			return redfishError(400, "Base.1.19.PropertyMissing", "The property UserName or Password is required.");
		}
		if (body.UserName !== this.username || body.Password !== this.password) {
			this.stats.loginFailures++;
			return redfishError(
				401,
				"Base.1.19.ResourceAtUriUnauthorized",
				"While accessing the resource at /redfish/v1/SessionService/Sessions, the service received an authorization error.",
				{
					"WWW-Authenticate": 'Basic realm="Redfish"',
				},
			);
		}
		if (this.sessions.size >= (this.options.sessionLimit ?? 4)) {
			if (this.vendor === "dell") {
				return json(
					{
						error: {
							code: "Base.1.7.GeneralError",
							message: "A general error has occurred. See ExtendedInfo for more information.",
							"@Message.ExtendedInfo": [
								{
									MessageId: "IDRAC.2.4.RAC0218",
									Message: "The maximum number of user sessions is reached.",
									Resolution: "Close one or more sessions and retry the operation.",
								},
							],
						},
					},
					503,
				);
			}
			return redfishError(
				503,
				"Base.1.19.SessionLimitExceeded",
				"The session establishment failed due to the number of simultaneous sessions exceeding the limit of the implementation.",
			);
		}
		const id = randomBytes(6).toString("hex");
		const token = randomBytes(16).toString("hex");
		this.sessions.set(id, { id, token, user: this.username });
		this.stats.logins++;
		const location = `/redfish/v1/SessionService/Sessions/${id}`;
		const extended = this.options.passwordChangeRequired
			? {
					"@Message.ExtendedInfo": [
						{
							MessageId: "Base.1.19.PasswordChangeRequired",
							Message: "The password provided for this account must be changed before access is granted.",
							Resolution: "Change the password for this account using a PATCH to the Password property.",
						},
					],
				}
			: {};
		return json({ "@odata.id": location, Id: id, UserName: this.username, ...extended }, 201, {
			"X-Auth-Token": token,
			Location: location,
		});
	}

	private reset(id: string, body: Record<string, unknown> | undefined): Response {
		const type = body?.ResetType;
		if (typeof type !== "string") {
			return redfishError(
				400,
				"Base.1.19.ActionParameterMissing",
				"The action ComputerSystem.Reset requires the parameter ResetType to be present in the request body.",
			);
		}
		const allowed = this.resetValuesMode() === "none" ? ENUM : this.allowed();
		if (!allowed.includes(type)) {
			return redfishError(
				400,
				"Base.1.19.ActionParameterValueNotInList",
				`The value '${type}' for the parameter ResetType in the action ComputerSystem.Reset is not in the list of acceptable values.`,
			);
		}
		const now = this.power.get(id);
		const target =
			["On", "ForceOn", "PushPowerButton"].includes(type) && now === "Off"
				? "On"
				: ["ForceOff", "GracefulShutdown", "PushPowerButton"].includes(type)
					? "Off"
					: type === "On" || type === "ForceOn"
						? "On"
						: undefined;
		// A system already powering on is "already powered ON" to an iDRAC (and is On a moment later).
		const alreadyOn = now === "PoweringOn" && target === "On";
		if (alreadyOn && this.options.conflictWhenAlreadyInState) this.power.set(id, "On");
		if (this.options.conflictWhenAlreadyInState && target && (target === now || alreadyOn)) {
			return json(
				{
					error: {
						code: "Base.1.7.GeneralError",
						message: "A general error has occurred.",
						"@Message.ExtendedInfo": [
							{
								MessageId: "IDRAC.2.1.PSU501",
								Message: `Server is already powered ${this.power.get(id) === "On" ? "ON" : "OFF"}.`,
								Resolution: "No response action is required.",
							},
						],
					},
				},
				409,
			);
		}
		this.stats.resets.push(type);
		const delay = this.options.powerDelayMs ?? 150;
		if (!this.options.stuckPower) {
			if (target === "On") {
				this.power.set(id, "PoweringOn");
				this.later(delay, () => this.power.set(id, "On"));
			} else if (target === "Off") {
				this.power.set(id, "PoweringOff");
				this.later(delay, () => this.power.set(id, "Off"));
			} else if (type === "ForceRestart" || type === "GracefulRestart" || type === "PowerCycle") {
				this.power.set(id, "Off");
				this.later(delay, () => this.power.set(id, "On"));
			}
		}
		if (this.options.resetTask) {
			const taskId = randomBytes(4).toString("hex");
			this.tasks.set(taskId, { id: taskId, doneAt: Date.now() + (this.options.taskMs ?? 300) });
			const monitor = `/redfish/v1/TaskService/TaskMonitors/${taskId}`;
			return json({ "@odata.id": `/redfish/v1/TaskService/Tasks/${taskId}`, Id: taskId, TaskState: "Running" }, 202, {
				Location: monitor,
				"Retry-After": "0",
			});
		}
		return new Response(null, { status: 204 });
	}

	private dellScreenshot(body: Record<string, unknown> | undefined): Response {
		if (body?.FileType === undefined)
			return redfishError(400, "Base.1.12.ActionParameterMissing", "The action requires the parameter FileType.");
		if (!["LastCrashScreenShot", "Preview", "ServerScreenShot"].includes(String(body.FileType))) {
			return redfishError(
				400,
				"Base.1.12.ActionParameterValueNotInList",
				`The value ${String(body.FileType)} for FileType is not in the list of acceptable values.`,
			);
		}
		if (this.options.dellPrivilegeError) {
			return redfishError(
				400,
				"IDRAC.2.8.LC081",
				"Unable to perform the operation because the user does not have the Virtual Console privilege.",
			);
		}
		const png = this.options.screen?.png;
		if (!png)
			return redfishError(
				400,
				"IDRAC.2.8.LC099",
				"Unable to capture the screen shot because the video signal is not detected.",
			);
		this.stats.screenshots++;
		return json({
			"@Message.ExtendedInfo": [
				{ MessageId: "Base.1.12.Success", Message: "Successfully Completed Request", Severity: "OK" },
			],
			ServerScreenShotFile: Buffer.from(png).toString("base64"),
		});
	}

	private supermicroCollect(body: Record<string, unknown> | undefined): Response {
		if (body?.DumpType !== "ScreenCapture" && body?.DumpType !== "HGXLogDump") {
			return redfishError(
				400,
				"Base.1.10.ActionParameterValueNotInList",
				"DumpType is missing or not in the list of acceptable values.",
			);
		}
		if (body.ActionType === "Create") {
			this.captured = true;
			return json({
				"@Message.ExtendedInfo": [{ MessageId: "Base.1.10.Success", Message: "Successfully Completed Request" }],
			});
		}
		if (body.ActionType === "Download") {
			const jpeg = this.options.screen?.jpeg;
			if (!this.captured || !jpeg)
				return redfishError(400, "Base.1.10.ActionNotSupported", "No screen capture was created; Create one first.");
			this.stats.screenshots++;
			return new Response(jpeg, { status: 200, headers: { "Content-Type": "application/octet-stream" } });
		}
		return redfishError(
			400,
			"Base.1.10.ActionParameterValueNotInList",
			"ActionType is not in the list of acceptable values.",
		);
	}

	private kvmOpen(ws: ServerWebSocket<KvmData>): void {
		this.kvmSockets.add(ws);
		this.stats.kvmConnections++;
		const upstream = net.connect({ host: "127.0.0.1", port: this.options.rfbPort as number });
		upstream.on("connect", () => {
			ws.data.upstream = upstream;
			for (const chunk of ws.data.pending) upstream.write(chunk);
			ws.data.pending = [];
		});
		upstream.on("data", (chunk: Buffer) => ws.sendBinary(chunk));
		upstream.on("close", () => ws.close());
		upstream.on("error", () => ws.close());
	}
}
