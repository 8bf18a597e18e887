import { createHmac } from "node:crypto";

/** The starcite-signature header value for a body sent at `timestampSeconds` (see WebhookHeader.Signature). */
export function signWebhook(secret: string, body: string, timestampSeconds: number): string {
  const mac = createHmac("sha256", secret).update(`${timestampSeconds}.${body}`).digest("hex");
  return `t=${timestampSeconds},v1=${mac}`;
}
