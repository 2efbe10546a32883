import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
	faultLine,
	faultToError,
	isSessionLimit,
	messageKey,
	parseErrorBody,
	parseRetryAfter,
} from "../../src/redfish/errors.ts";

describe("Redfish error bodies", () => {
	test("the standard shape: the extended message with its resolution wins over the generic code", () => {
		const body = {
			error: {
				code: "Base.1.7.GeneralError",
				message: "A general error has occurred.",
				"@Message.ExtendedInfo": [
					{
						MessageId: "IDRAC.2.4.RAC0218",
						Message: "The maximum number of user sessions is reached.",
						Resolution: "Close one or more sessions.",
					},
				],
			},
		};
		const fault = { status: 503, messages: parseErrorBody(body) };
		expect(faultLine(fault)).toBe(
			"HTTP 503 IDRAC.2.4.RAC0218: The maximum number of user sessions is reached. (Close one or more sessions.)",
		);
		expect(isSessionLimit(fault)).toBe(true);
		expect(faultToError("bmc", "the login", fault, "redfish-login").code).toBe("BUSY");
	});

	test("trimmed vendor shapes: iLO 6 (only an ExtendedInfo id), old iLO (Messages[].MessageID), a bare error", () => {
		expect(parseErrorBody({ error: { "@Message.ExtendedInfo": [{ MessageId: "Base.1.12.NoValidSession" }] } })).toEqual(
			[{ id: "Base.1.12.NoValidSession", message: undefined, resolution: undefined }],
		);
		expect(parseErrorBody({ Messages: [{ MessageID: "iLO.0.10.NoValidSession" }] })[0]?.id).toBe(
			"iLO.0.10.NoValidSession",
		);
		expect(
			faultLine({ status: 500, messages: parseErrorBody({ error: { code: "X.1.0.Oops", message: "broken" } }) }),
		).toBe("HTTP 500 X.1.0.Oops: broken");
		expect(faultLine({ status: 502, messages: parseErrorBody("<html>") })).toBe("HTTP 502");
		const forged = { error: { code: "A.1.0.B\nINFO fake line", message: "two\r\nlines\u0007" } };
		expect(faultLine({ status: 400, messages: parseErrorBody(forged) })).toBe(
			"HTTP 400 A.1.0.B INFO fake line: two lines",
		);
	});

	test("message keys drop registry and version; Retry-After reads seconds and HTTP dates", () => {
		expect(messageKey("Base.1.12.NoValidSession")).toBe("NoValidSession");
		expect(messageKey("IDRAC.2.4.RAC0218")).toBe("RAC0218");
		expect(parseRetryAfter("5")).toBe(5);
		expect(parseRetryAfter(new Date(Date.UTC(2030, 0, 1, 0, 0, 10)).toUTCString(), Date.UTC(2030, 0, 1))).toBe(10);
		expect(parseRetryAfter("soon")).toBeUndefined();
	});

	test("the status table: 401, 403 (privilege, password change), 404/405, 409, 429, 400 licence", () => {
		const err = (status: number, id = "Base.1.0.X", message = "m") =>
			faultToError("bmc", "x", { status, messages: [{ id, message }] }, "redfish-api");
		expect(err(401).code).toBe("AUTH_FAILED");
		expect(err(403, "Base.1.0.InsufficientPrivilege").hint).toContain("privilege");
		expect(err(403, "Base.1.0.PasswordChangeRequired").hint).toContain("change its password");
		expect(err(404).code).toBe("NOT_SUPPORTED");
		expect(err(405).code).toBe("NOT_SUPPORTED");
		expect(err(409).code).toBe("UPSTREAM");
		expect(err(429).retryable).toBe(true);
		expect(err(400, "Base.1.0.LicenseRequired").hint).toContain("licence");
		expect(err(503, "Base.1.0.SessionLimitExceeded").retryable).toBe(false);
	});

	test("any JSON body: parsing never throws and the line stays one bounded line", () => {
		fc.assert(
			fc.property(fc.jsonValue(), fc.integer({ min: 100, max: 599 }), (body, status) => {
				const line = faultLine({ status, messages: parseErrorBody(body) });
				expect(line.length).toBeLessThanOrEqual(400);
				expect(line.includes("\n")).toBe(false);
			}),
			{ numRuns: 500 },
		);
	});
});
