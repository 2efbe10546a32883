/**
 * An AMI/ASRockRack MegaRAC HTML5 KVM behind a viewer link: `https://<bmc>/?token=<QSESSIONID>`,
 * whose page sets the `QSESSIONID` cookie and a `garc` CSRF token and moves on to `/viewer.html`.
 * The link carries a session token that the AMI console path must present itself (it reads the
 * page's Set-Cookie and CSRF token); a fetch made only to look would start or spend that session,
 * so the target always replays the original link.
 */
import { type ViewerSniffer, viewerParam } from "../console/viewer.ts";
import type { AmiViewerTarget } from "./target.ts";

const AMI_PAGE = /(^|\/)viewer\.html$/i;

function isAmiUrl(url: URL): boolean {
	if (url.protocol !== "http:" && url.protocol !== "https:") return false;
	if (AMI_PAGE.test(url.pathname)) return true;
	return viewerParam(url, "token") !== null || viewerParam(url, "qsessionid") !== null;
}

function amiTarget(viewerUrl: string): AmiViewerTarget {
	return { kind: "ami-viewer", viewerUrl, tls: { insecure: true } };
}

export const amiViewer: ViewerSniffer = {
	rank: 30,
	fromUrl: (url, link) => (isAmiUrl(url) ? amiTarget(link) : null),
	fromPage(url, page, link) {
		if (page.status >= 300 && page.status < 400 && page.location && isAmiUrl(new URL(page.location, url))) {
			return amiTarget(link);
		}
		if (page.setCookie && /QSESSIONID=/i.test(page.setCookie)) return amiTarget(link);
		if (/QSESSIONID|["']garc["']|\bgarc\s*=|viewer\.html|\/api\/kvm\/|MegaRAC/i.test(page.body)) {
			return amiTarget(link);
		}
		return null;
	},
};
