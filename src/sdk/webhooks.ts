import { StarciteError } from "./errors.ts";
import { WebhookHeader, type WebhookBody } from "./protocol.ts";

export interface VerifyWebhookOptions {
  /** How old a signature may be, in seconds (default 300): older ones are refused as possible replays. */
  toleranceSeconds?: number;
  /** The current time in ms (default Date.now()). */
  now?: number;
}

const encoder = new TextEncoder();

function hex(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Constant-time comparison of two hex strings. */
function sameHex(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/**
 * Checks a webhook delivery: the `starcite-signature` header (`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw
 * body>">`) against the endpoint's secret, and that `t` is recent. Returns the parsed body; throws StarciteError
 * `unauthorized` otherwise. Pass the raw body text exactly as received (before any JSON parsing). Uses Web Crypto,
 * so it runs in Node >= 20, browsers, Deno and workers. Deliveries are at least once: drop a repeated delivery id
 * (`starcite-delivery` header, `body.id`), or events by (session_id, seq).
 */
export async function verifyWebhook(
  secret: string,
  rawBody: string,
  signatureHeader: string | null | undefined,
  options: VerifyWebhookOptions = {},
): Promise<WebhookBody> {
  const parts = new Map(
    (signatureHeader ?? "").split(",").map((p) => {
      const at = p.indexOf("=");
      return [p.slice(0, at).trim(), p.slice(at + 1).trim()] as const;
    }),
  );
  const t = Number(parts.get("t"));
  const given = parts.get("v1") ?? "";
  if (!Number.isSafeInteger(t) || given === "") {
    throw new StarciteError("unauthorized", `missing or malformed ${WebhookHeader.Signature} header`);
  }
  const now = (options.now ?? Date.now()) / 1000;
  if (Math.abs(now - t) > (options.toleranceSeconds ?? 300)) {
    throw new StarciteError("unauthorized", "the webhook signature is too old (or from the future): a possible replay");
  }
  const key = await globalThis.crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const expected = hex(await globalThis.crypto.subtle.sign("HMAC", key, encoder.encode(`${t}.${rawBody}`)));
  if (!sameHex(expected, given.toLowerCase())) throw new StarciteError("unauthorized", "the webhook signature does not match");
  return JSON.parse(rawBody) as WebhookBody;
}
