/**
 * The OVH API's JSON, as zod schemas. Field names follow OVH's public schema
 * (`/1.0/dedicated/server.json`). Only fields we read are
 * required; everything else is optional so a newer OVH payload still parses.
 */
import { z } from "zod";

/** `GET /auth/time`: a bare JSON integer, Unix seconds. */
export const AuthTimeSchema = z.number().int();

/** `GET /dedicated/server`: service names such as `ns1234567.ip-1-2-3.eu`. */
export const ServiceNamesSchema = z.array(z.string().min(1));

/** `GET /dedicated/server/{serviceName}` (`dedicated.server.DedicatedWithIAM`). */
export const DedicatedServerSchema = z.object({
	name: z.string(),
	serverId: z.number().nullish(),
	datacenter: z.string().nullish(),
	ip: z.string().nullish(),
	reverse: z.string().nullish(),
	os: z.string().nullish(),
	state: z.string().nullish(),
	powerState: z.string().nullish(),
	commercialRange: z.string().nullish(),
	region: z.string().nullish(),
	rack: z.string().nullish(),
	iam: z
		.object({
			id: z.string().nullish(),
			urn: z.string().nullish(),
			displayName: z.string().nullish(),
		})
		.nullish(),
});
export type DedicatedServer = z.infer<typeof DedicatedServerSchema>;

/** `dedicated.server.IpmiSupportedFeatures`: OVH sends every key; we trust values, not key presence. */
export const IpmiSupportedFeaturesSchema = z.object({
	kvmipHtml5URL: z.boolean().nullish(),
	kvmipJnlp: z.boolean().nullish(),
	serialOverLanSshKey: z.boolean().nullish(),
	serialOverLanURL: z.boolean().nullish(),
});
export type IpmiSupportedFeatures = z.infer<typeof IpmiSupportedFeaturesSchema>;

/** `GET /dedicated/server/{serviceName}/features/ipmi` (`dedicated.server.Ipmi`). */
export const IpmiSchema = z.object({
	activated: z.boolean(),
	supportedFeatures: IpmiSupportedFeaturesSchema,
});
export type Ipmi = z.infer<typeof IpmiSchema>;

export const IPMI_ACCESS_TYPES = ["kvmipHtml5URL", "kvmipJnlp", "serialOverLanSshKey", "serialOverLanURL"] as const;
export type IpmiAccessType = (typeof IPMI_ACCESS_TYPES)[number];

/** `dedicated.server.CacheTTLEnum`, minutes. */
export const IPMI_ACCESS_TTLS = [1, 3, 5, 10, 15] as const;

/** Body of `POST /dedicated/server/{serviceName}/features/ipmi/access`. */
export interface IpmiAccessRequest {
	type: IpmiAccessType;
	ttl: (typeof IPMI_ACCESS_TTLS)[number];
	ipToAllow?: string;
	sshKey?: string;
}

/** `GET .../features/ipmi/access?type=...` (`dedicated.server.IpmiAccessValue`). `value` may be empty right after the task. */
export const IpmiAccessValueSchema = z.object({
	value: z.string().nullish(),
	expiration: z.string().nullish(),
});
export type IpmiAccessValue = z.infer<typeof IpmiAccessValueSchema>;

/** `dedicated.TaskStatusEnum`: exactly these seven in every schema copy. */
export const TASK_STATUSES = ["init", "todo", "doing", "done", "cancelled", "customerError", "ovhError"] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export const FAILED_TASK_STATUSES: readonly TaskStatus[] = ["cancelled", "customerError", "ovhError"];

/** `dedicated.server.Task`. `status` stays a string: an unknown future value is treated as still pending. */
export const TaskSchema = z.object({
	taskId: z.number().int(),
	function: z.string().nullish(),
	status: z.string(),
	comment: z.string().nullish(),
	startDate: z.string().nullish(),
	doneDate: z.string().nullish(),
	lastUpdate: z.string().nullish(),
});
export type Task = z.infer<typeof TaskSchema>;

/** An access rule of a consumer key; `*` matches any characters, `/` included. */
export const AccessRuleSchema = z.object({
	method: z.enum(["GET", "POST", "PUT", "DELETE"]),
	path: z.string().startsWith("/"),
});
export type AccessRule = z.infer<typeof AccessRuleSchema>;

/** `POST /auth/credential` answer. */
export const CredentialRequestResultSchema = z.object({
	validationUrl: z.string(),
	consumerKey: z.string(),
	state: z.string(),
});
export type CredentialRequestResult = z.infer<typeof CredentialRequestResultSchema>;

/** `GET /auth/currentCredential` (`api.Credential`). */
export const CurrentCredentialSchema = z.object({
	credentialId: z.number().nullish(),
	applicationId: z.number().nullish(),
	status: z.string(),
	rules: z.array(AccessRuleSchema).nullish(),
	creation: z.string().nullish(),
	expiration: z.string().nullish(),
	lastUse: z.string().nullish(),
	ovhSupport: z.boolean().nullish(),
	allowedIPs: z.array(z.string()).nullish(),
});
export type CurrentCredential = z.infer<typeof CurrentCredentialSchema>;

/** OVH's JSON error body. `httpCode` is a string like "403 Forbidden", not a number. */
export const OvhErrorBodySchema = z.object({
	message: z.string().nullish(),
	errorCode: z.string().nullish(),
	httpCode: z.string().nullish(),
	class: z.string().nullish(),
	details: z.record(z.string(), z.string()).nullish(),
});
export type OvhErrorBody = z.infer<typeof OvhErrorBodySchema>;
