/**
 * The Durable Streams protocol's vocabulary as this server speaks it (PROTOCOL.md of durable-streams/durable-streams):
 * header names, the offset format, content-type classes and Stream-Cursor values. Every other module of the adapter
 * takes these from here.
 */

/** The URL prefix streams live under (the conformance suite's). */
export const STREAM_ROOT = "/v1/stream/";

/** Request and response headers (lower case, as Node reports them). */
export const H = {
  nextOffset: "stream-next-offset",
  upToDate: "stream-up-to-date",
  cursor: "stream-cursor",
  closed: "stream-closed",
  ttl: "stream-ttl",
  expiresAt: "stream-expires-at",
  seq: "stream-seq",
  forkedFrom: "stream-forked-from",
  forkOffset: "stream-fork-offset",
  forkSubOffset: "stream-fork-sub-offset",
  sseEncoding: "stream-sse-data-encoding",
  producerId: "producer-id",
  producerEpoch: "producer-epoch",
  producerSeq: "producer-seq",
  producerExpectedSeq: "producer-expected-seq",
  producerReceivedSeq: "producer-received-seq",
  /** Extension: the starcite session that holds the stream (a GraphQL or REST `tail` reads the same events). */
  sessionId: "starcite-session-id",
  /** Extension: the actor recorded on appended events (API keys only; session tokens append as themselves). */
  actor: "starcite-actor",
} as const;

/** The HTTP methods of /v1/stream/ (streams and the __ds control APIs). */
export const STREAM_METHODS = "GET, HEAD, POST, PUT, DELETE, OPTIONS";

/**
 * What the server's CORS policy (its origins, STARCITE_CORS_ORIGINS) allows under STREAM_ROOT: the protocol's
 * request headers in preflights and its response headers readable by browsers.
 */
export const STREAMS_CORS = {
  prefix: STREAM_ROOT,
  methods: STREAM_METHODS,
  headers: [
    "authorization",
    "content-type",
    "accept",
    "last-event-id",
    "if-none-match",
    H.seq,
    H.ttl,
    H.expiresAt,
    H.closed,
    H.forkedFrom,
    H.forkOffset,
    H.forkSubOffset,
    H.producerId,
    H.producerEpoch,
    H.producerSeq,
    H.actor,
  ].join(", "),
  expose: [
    "Stream-Next-Offset",
    "Stream-Up-To-Date",
    "Stream-Cursor",
    "Stream-Closed",
    "Stream-TTL",
    "Stream-Expires-At",
    "Stream-SSE-Data-Encoding",
    "Producer-Epoch",
    "Producer-Seq",
    "Producer-Expected-Seq",
    "Producer-Received-Seq",
    "ETag",
    "Location",
    "Starcite-Session-Id",
  ].join(", "),
} as const;

const FIELD = 16;

/**
 * Offsets are `<offset epoch>_<seq>`, both zero-padded to 16 digits: sortable, and strictly increasing within a
 * stream. The epoch names a stream's offset space (a fork shares its source's), so an offset kept across a
 * DELETE and a new PUT of the same path is recognised as gone (410) instead of pointing into other data.
 */
export function formatOffset(epoch: number, seq: number): string {
  return `${String(epoch).padStart(FIELD, "0")}_${String(seq).padStart(FIELD, "0")}`;
}

/** The zero offset, before any data of any stream; accepted like -1 (the conformance suite forks at it). */
export const ZERO_OFFSET = formatOffset(0, 0);

export type Offset = { kind: "start" } | { kind: "now" } | { kind: "at"; epoch: number; seq: number };

const OFFSET = /^(\d{16})_(\d{16})$/;

/** An offset query value or header, or null when it is malformed. */
export function parseOffset(raw: string): Offset | null {
  if (raw === "-1" || raw === ZERO_OFFSET) return { kind: "start" };
  if (raw === "now") return { kind: "now" };
  const m = OFFSET.exec(raw);
  if (!m) return null;
  return { kind: "at", epoch: Number(m[1]), seq: Number(m[2]) };
}

/** The media type: lower case, no parameters. */
export const mediaType = (contentType: string): string => contentType.split(";")[0]!.trim().toLowerCase();

/** JSON mode (PROTOCOL.md 9.1): message boundaries, array flattening, reads as one JSON array. */
export const isJson = (contentType: string): boolean => mediaType(contentType) === "application/json";

/** SSE carries text/* and JSON as text and everything else as base64 (PROTOCOL.md 5.8). */
export const sseIsText = (contentType: string): boolean => isJson(contentType) || mediaType(contentType).startsWith("text/");

/** A non-negative decimal integer without sign, leading zeros, point or exponent, within 2^53 - 1; null otherwise. */
export function strictInteger(raw: string): number | null {
  if (!/^(0|[1-9]\d*)$/.test(raw)) return null;
  const n = Number(raw);
  return Number.isSafeInteger(n) ? n : null;
}

/** Stream-Expires-At: an RFC 3339 date-time with a time zone. */
export function isRfc3339(raw: string): boolean {
  return /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(raw) && !Number.isNaN(Date.parse(raw));
}

/** Stream-Closed counts only when it is exactly "true" (any case); other values are as if absent. */
export const isTrue = (raw: string | string[] | undefined): boolean => typeof raw === "string" && raw.toLowerCase() === "true";

const CURSOR_EPOCH_MS = Date.UTC(2024, 9, 9);
const CURSOR_INTERVAL_MS = 20_000;

/**
 * Stream-Cursor (PROTOCOL.md 10.1): the number of 20-second intervals since 2024-10-09, so caches collapse
 * requests within an interval; a client echoing a cursor at or past the current one gets a larger one (1 to 3600
 * seconds of jitter), so a cached response can never be served back to it in a loop.
 */
export function nextCursor(clientCursor: string | null, now = Date.now()): string {
  const current = Math.floor((now - CURSOR_EPOCH_MS) / CURSOR_INTERVAL_MS);
  const client = clientCursor === null ? null : strictInteger(clientCursor);
  if (client === null || client < current) return String(current);
  const jitterMs = (1 + Math.random() * 3599) * 1000;
  return String(client + Math.max(1, Math.ceil(jitterMs / CURSOR_INTERVAL_MS)));
}
