import { isIP } from "node:net";
import { StarciteError } from "../db/errors.ts";

function privateIpv4(host: string): boolean {
  const [a, b] = host.split(".").map(Number) as [number, number];
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    (a === 100 && b >= 64 && b <= 127) ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    a >= 224
  );
}

function privateIpv6(host: string): boolean {
  const h = host.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  if (mapped) return privateIpv4(mapped[1]!);
  return h === "::" || h === "::1" || /^f[cd]/.test(h) || /^fe[89ab]/.test(h) || /^ff/.test(h);
}

/**
 * Webhook URLs, of webhook endpoints and of Durable Streams subscriptions alike, must not let a caller aim the
 * server at its own network (SSRF; Durable Streams PROTOCOL.md 12.8): https to a public host; http only to localhost
 * or 127.0.0.x, and only when `allowLocalHttp` (outside production). Hosts are checked as written; a name that
 * resolves to a private address is not caught here (filter egress for that). `field` names the input in the error.
 */
export function checkWebhookUrl(raw: string, allowLocalHttp: boolean, field = "webhook.url"): void {
  const reject = (message: string) => new StarciteError("webhook_url_rejected", message.replace("webhook.url", field), { field });
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw reject("webhook.url is not a URL");
  }
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const local = host === "localhost" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
  if (url.username || url.password) throw reject("webhook.url may not carry credentials");
  if (url.protocol === "http:") {
    if (local && allowLocalHttp) return;
    throw reject(allowLocalHttp ? "http webhook URLs are only for localhost or 127.0.0.x" : "webhook URLs must use https");
  }
  if (url.protocol !== "https:") throw reject("webhook URLs must use https");
  if (local || (isIP(host) === 4 && privateIpv4(host)) || (isIP(host) === 6 && privateIpv6(host))) {
    throw reject("webhook URLs may not target private, link-local or loopback addresses");
  }
}
