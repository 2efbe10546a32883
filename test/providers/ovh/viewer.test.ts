import { describe, expect, test } from "bun:test";
import type { AmiViewerTarget } from "../../../src/ami/target.ts";
import { targetFromViewerPage, targetFromViewerUrl, viewerSecrets } from "../../../src/providers/ovh/viewer.ts";

describe("viewer URL → console target, by the URL alone", () => {
	test("an OVH/AMI viewer URL with a session token is an AMI viewer (page not needed)", () => {
		const url = "https://10.1.2.3/?token=Qs3ss10n1d";
		expect(targetFromViewerUrl(url)).toEqual({ kind: "ami-viewer", viewerUrl: url, tls: { insecure: true } });
		expect(targetFromViewerUrl("https://bmc.example/viewer.html")?.kind).toBe("ami-viewer");
		expect(targetFromViewerUrl("https://bmc.example/index.html?QSESSIONID=abc")?.kind).toBe("ami-viewer");
	});

	test("a noVNC page URL becomes the websockify WebSocket it would open", () => {
		expect(targetFromViewerUrl("https://kvm.example:4443/vnc.html?autoconnect=1")).toEqual({
			kind: "vnc",
			url: "wss://kvm.example:4443/websockify",
			tls: { insecure: true },
		});
		expect(
			targetFromViewerUrl("http://127.0.0.1:6080/vnc_lite.html?host=127.0.0.1&port=5701&path=ws%3Ftoken%3Dabc"),
		).toEqual({ kind: "vnc", url: "ws://127.0.0.1:5701/ws?token=abc" });
		expect(targetFromViewerUrl("https://kvm.example/console?path=websockify&encrypt=0&password=pw12")).toEqual({
			kind: "vnc",
			url: "ws://kvm.example/websockify",
			password: "pw12",
		});
		// noVNC also reads its settings from the fragment.
		expect(targetFromViewerUrl("https://kvm.example/vnc.html#path=custom")?.kind).toBe("vnc");
	});

	test("a ws(s) URL is a VNC WebSocket as it is", () => {
		expect(targetFromViewerUrl("ws://127.0.0.1:5700/")).toEqual({ kind: "vnc", url: "ws://127.0.0.1:5700/" });
	});

	test("a URL that names neither kind needs the page", () => {
		expect(targetFromViewerUrl("https://bmc.example/console")).toBeNull();
		expect(targetFromViewerUrl("https://bmc.example/")).toBeNull();
	});
});

describe("viewer URL → console target, by the page", () => {
	const url = "https://bmc.example/console";

	test("an AMI page: QSESSIONID cookie, garc script, or a redirect to viewer.html", () => {
		const ami: AmiViewerTarget = { kind: "ami-viewer", viewerUrl: url, tls: { insecure: true } };
		expect(targetFromViewerPage(url, { status: 200, setCookie: "QSESSIONID=abc; path=/", body: "" })).toEqual(ami);
		expect(
			targetFromViewerPage(url, { status: 200, body: '<script>sessionStorage.setItem("garc", "x1")</script>' }),
		).toEqual(ami);
		expect(targetFromViewerPage(url, { status: 302, location: "/viewer.html", body: "" })).toEqual(ami);
	});

	test("a noVNC page, or a redirect to one", () => {
		expect(
			targetFromViewerPage(url, { status: 200, body: '<script type="module" src="core/rfb.js"></script>' }),
		).toEqual({ kind: "vnc", url: "wss://bmc.example/websockify", tls: { insecure: true } });
		expect(
			targetFromViewerPage(url, { status: 302, location: "http://10.0.0.5:6080/vnc.html?path=websockify", body: "" }),
		).toEqual({ kind: "vnc", url: "ws://10.0.0.5:6080/websockify" });
	});

	test("anything else is not recognised", () => {
		expect(targetFromViewerPage(url, { status: 200, body: "<html><body>Java applet</body></html>" })).toBeNull();
		expect(targetFromViewerPage(url, { status: 404, body: "" })).toBeNull();
	});
});

test("session tokens and passwords in a viewer URL are known secrets", () => {
	expect(viewerSecrets("https://h/?token=T0k3n&x=1#password=pw99")).toEqual(["T0k3n", "pw99"]);
	expect(viewerSecrets("https://h/vnc.html?autoconnect=true")).toEqual([]);
});
