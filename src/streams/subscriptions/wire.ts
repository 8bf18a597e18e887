import type { LinkState, Subscription, Wake } from "../../db/subscriptions.ts";
import { formatOffset, STREAM_ROOT } from "../protocol.ts";
import type { WakeKeys } from "./keys.ts";

/** The subscription documents of PROTOCOL.md 6-7, with offsets in the stream's format. */

export const controlUrl = (baseUrl: string, rest: string): string => `${baseUrl}${STREAM_ROOT}__ds/${rest}`;

/** Acked offsets are last processed, inclusive; "-1" before the stream's first message existed. */
const ackedOffset = (l: LinkState): string => (l.ackedEpoch === null ? "-1" : formatOffset(l.ackedEpoch, l.ackedSeq));

export function subscriptionJson(s: Subscription, keys: WakeKeys): Record<string, unknown> {
  return {
    id: s.id,
    subscription_id: s.id,
    type: s.type,
    pattern: s.pattern,
    streams: s.streams.map((l) => ({ path: l.path, link_type: l.linkType, acked_offset: ackedOffset(l) })),
    webhook:
      s.type === "webhook"
        ? { url: s.webhookUrl, signing: { alg: "ed25519", kid: keys.kid, jwks_url: controlUrl(s.baseUrl, "jwks.json") } }
        : null,
    wake_stream: s.wakeStream,
    lease_ttl_ms: s.leaseTtlMs,
    created_at: s.createdAt,
    status: s.status,
    description: s.description,
  };
}

export function wakeStreamsJson(w: Wake): Record<string, unknown>[] {
  return w.streams.map((l) => ({
    path: l.path,
    link_type: l.linkType,
    acked_offset: ackedOffset(l),
    tail_offset: l.tailEpoch === null ? null : formatOffset(l.tailEpoch, l.tailSeq ?? 0),
    has_pending: l.hasPending,
  }));
}
