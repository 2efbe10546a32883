/**
 * TLS identity of the mock BMC (tests and `bun run demo` only).
 *
 * A self-signed P-256 certificate for localhost / 127.0.0.1 / ::1, valid
 * 2020–2119, committed so the demo runs anywhere without `openssl` or a key
 * generator. The private key is public on purpose: it protects nothing, it
 * only lets the mock speak HTTPS/WSS on loopback the way a real BMC does
 * (self-signed), so clients must run with `tls.insecure` as they do against
 * real BMCs. Never trust this certificate anywhere.
 *
 * Made with: openssl ecparam -name prime256v1 -genkey; openssl req -new;
 * openssl ca -selfsign -startdate 20200101000000Z -enddate 21191231235959Z
 * (subjectAltName DNS:localhost, IP:127.0.0.1, IP:::1; serverAuth).
 */

export const MOCK_BMC_KEY = `
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgBiKTXFLjmwVxuowo
nPHycYViLcKJ7Ocf2EraQjw784qhRANCAARRZ6ylZMvw2ZLDUrfzIza12W5Z0faS
/ITayP1lrn0ephZB3erzuCf9J9QbAzjlU4sPfBmkVXxlaHQVYbAbZcIl
-----END PRIVATE KEY-----
`;

export const MOCK_BMC_CERT = `
-----BEGIN CERTIFICATE-----
MIIBxjCCAWugAwIBAgIBATAKBggqhkjOPQQDAjAoMSYwJAYDVQQDDB1pa3ZtLW1j
cCBtb2NrIEJNQyAodGVzdCBvbmx5KTAgFw0yMDAxMDEwMDAwMDBaGA8yMTE5MTIz
MTIzNTk1OVowKDEmMCQGA1UEAwwdaWt2bS1tY3AgbW9jayBCTUMgKHRlc3Qgb25s
eSkwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAARRZ6ylZMvw2ZLDUrfzIza12W5Z
0faS/ITayP1lrn0ephZB3erzuCf9J9QbAzjlU4sPfBmkVXxlaHQVYbAbZcIlo4GD
MIGAMCwGA1UdEQQlMCOCCWxvY2FsaG9zdIcEfwAAAYcQAAAAAAAAAAAAAAAAAAAA
ATAMBgNVHRMBAf8EAjAAMA4GA1UdDwEB/wQEAwIHgDATBgNVHSUEDDAKBggrBgEF
BQcDATAdBgNVHQ4EFgQUt1Q/T6hodQeuOuCk183BNEdFtGswCgYIKoZIzj0EAwID
SQAwRgIhAM6b5r8YNp5vj/KSUvh9G/VruFYOW6hCwgUsBsj8LT9uAiEA1eUf+uLw
FtmFNWTkwPPUMur9Oje8beOieCms3Q1Ksug=
-----END CERTIFICATE-----
`;
