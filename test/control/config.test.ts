import { describe, expect, test } from "bun:test";
import { loadConfig } from "../../src/config.ts";
import { AuditLog } from "../../src/control/audit.ts";
import { OvhProvider } from "../../src/providers/ovh/provider.ts";
import { parseStaticConfig } from "../../src/providers/static/config.ts";
import { StaticProvider } from "../../src/providers/static/provider.ts";
import { errorOf } from "../support/ikvm-error.ts";

const load = (env: Record<string, string>, control?: string) => loadConfig(env, { control });

describe("control settings", () => {
	test("read-only unless IKVM_CONTROL or --control says otherwise", () => {
		expect([...load({}).control.allowed]).toEqual([]);
		expect([...load({ IKVM_CONTROL: "keyboard, Mouse" }).control.allowed]).toEqual(["keyboard", "mouse"]);
		expect([...load({ IKVM_CONTROL: "all" }).control.allowed]).toEqual(["keyboard", "mouse", "power"]);
		expect([...load({ IKVM_CONTROL: "all" }, "power").control.allowed]).toEqual(["power"]);
		expect([...load({}, "keyboard").control.allowed]).toEqual(["keyboard"]);
	});

	test("bad values are one-line start-up errors", () => {
		expect(errorOf(() => load({ IKVM_CONTROL: "keyboard,typing" })).message).toBe(
			'Invalid IKVM_CONTROL: "typing" is not one of keyboard, mouse, power, all.',
		);
		expect(errorOf(() => load({}, "everything")).message).toBe(
			'Invalid --control: "everything" is not one of keyboard, mouse, power, all.',
		);
		expect(errorOf(() => load({ IKVM_KEYBOARD_LAYOUT: "dvorak" })).message).toBe(
			"Invalid IKVM_KEYBOARD_LAYOUT: IKVM_KEYBOARD_LAYOUT must be one of us, uk, de, fr.",
		);
		expect(errorOf(() => load({ IKVM_CONTROL_TOKEN: "short" })).message).toContain("at least 16 characters");
		const same = "x".repeat(20);
		expect(errorOf(() => load({ MCP_AUTH_TOKEN: same, IKVM_CONTROL_TOKEN: same })).message).toBe(
			"IKVM_CONTROL_TOKEN must differ from MCP_AUTH_TOKEN.",
		);
		expect(errorOf(() => load({ IKVM_KEY_DELAY_MS: "5000" })).message).toContain("between 0 and 1000");
		for (const m of ["IKVM_CONTROL", "IKVM_KEYBOARD_LAYOUT"]) expect(m).not.toContain("\n");
	});

	test("secrets, OVH servers, layout, audit path, key delay", () => {
		const c = load({
			IKVM_SECRET_ROOT: "hunter22",
			IKVM_SECRET_: "ignored",
			IKVM_CONTROL_SERVERS: "ns1.ip-1-2-3.eu, ns2.ip-1-2-3.eu",
			IKVM_KEYBOARD_LAYOUT: "fr",
			IKVM_AUDIT_LOG: "/tmp/a.jsonl",
			IKVM_KEY_DELAY_MS: "15",
		}).control;
		expect([...c.secrets]).toEqual([["ROOT", "hunter22"]]);
		expect(c.ovhServers).toEqual(["ns1.ip-1-2-3.eu", "ns2.ip-1-2-3.eu"]);
		expect(c.ovhKeyboardLayout).toBe("fr");
		expect(c.auditLogPath).toBe("/tmp/a.jsonl");
		expect(c.keyDelayMs).toBe(15);
	});

	test("an audit file that cannot be opened stops start-up", () => {
		expect(errorOf(() => new AuditLog("/nonexistent-dir/audit.jsonl")).message).toContain(
			"IKVM_AUDIT_LOG /nonexistent-dir/audit.jsonl cannot be opened for appending (ENOENT)",
		);
	});
});

describe("per-target control", () => {
	test("targets file: control true, a list, absent; keyboardLayout", () => {
		const servers = parseStaticConfig(
			JSON.stringify({
				servers: [
					{ id: "a", type: "vnc", host: "10.0.0.1", control: true, keyboardLayout: "de" },
					{ id: "b", type: "vnc", host: "10.0.0.2", control: ["keyboard"] },
					{ id: "c", type: "vnc", host: "10.0.0.3" },
					{ id: "d", type: "ami", url: "https://10.0.0.4", username: "u", password: "p", control: ["all"] },
				],
			}),
			"t.json",
			{},
		);
		const provider = new StaticProvider(servers);
		expect([...provider.control("a").allowed]).toEqual(["keyboard", "mouse", "power"]);
		expect(provider.control("a").keyboardLayout).toBe("de");
		expect([...provider.control("b").allowed]).toEqual(["keyboard"]);
		expect(provider.control("b").keyboardLayout).toBe("us");
		expect([...provider.control("c").allowed]).toEqual([]);
		expect(provider.control("c").switchName).toBe('the "control" field of target "c" in the targets file');
		expect([...provider.control("d").allowed]).toEqual(["keyboard", "mouse", "power"]);
	});

	test("targets file: bad control and keyboardLayout values name the field", () => {
		const bad = (entry: Record<string, unknown>) =>
			errorOf(() =>
				parseStaticConfig(JSON.stringify({ servers: [{ id: "a", type: "vnc", host: "h", ...entry }] }), "t.json", {}),
			).message;
		expect(bad({ control: ["typing"] })).toBe(
			"t.json: servers[0].control: must be true, false or a list of keyboard, mouse, power, all",
		);
		expect(bad({ keyboardLayout: "dvorak" })).toBe("t.json: servers[0].keyboardLayout: must be one of us, uk, de, fr");
	});

	test("OVH: IKVM_CONTROL_SERVERS names servers, * allows all", () => {
		const settings = { endpoint: "eu", applicationKey: "k", applicationSecret: "s", consumerKey: "c" };
		const some = new OvhProvider(settings, {
			control: { servers: ["ns1.ip-1-2-3.eu"], keyboardLayout: "uk" },
		});
		expect([...some.control("ns1.ip-1-2-3.eu").allowed]).toEqual(["keyboard", "mouse", "power"]);
		expect(some.control("ns1.ip-1-2-3.eu").keyboardLayout).toBe("uk");
		expect([...some.control("ns2.ip-1-2-3.eu").allowed]).toEqual([]);
		expect(some.control("ns2.ip-1-2-3.eu").switchName).toBe("IKVM_CONTROL_SERVERS");
		const all = new OvhProvider(settings, { control: { servers: ["*"], keyboardLayout: "us" } });
		expect(all.control("anything").allowed.has("power")).toBe(true);
		expect(new OvhProvider(settings).control("x").allowed.size).toBe(0);
	});
});
