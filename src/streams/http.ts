import type http from "node:http";
import { retryAfterSeconds } from "../auth/limiter.ts";
import { HTTP_STATUS, StarciteError } from "../db/errors.ts";
import { formatOffset, H } from "./protocol.ts";

/**
 * Headers every Durable Streams response carries: the browser-safety ones PROTOCOL.md 12.7 asks for. CORS is the
 * server's policy, set before routing (src/server/guards.ts, with STREAMS_CORS for this prefix).
 */
export const BASE_HEADERS: Readonly<http.OutgoingHttpHeaders> = {
  "x-content-type-options": "nosniff",
  "cross-origin-resource-policy": "cross-origin",
};

/** What an error adds to its response so that clients need not read the body (PROTOCOL.md 5.2, 5.2.1). */
function errorHeaders(error: StarciteError): http.OutgoingHttpHeaders {
  const d = error.detail;
  switch (error.code) {
    case "session_closed":
      return {
        [H.closed]: "true",
        ...(typeof d.offset_epoch === "number" && typeof d.tail_seq === "number"
          ? { [H.nextOffset]: formatOffset(d.offset_epoch, d.tail_seq) }
          : {}),
      };
    case "producer_epoch_stale":
      return { [H.producerEpoch]: String(d.current_epoch) };
    case "producer_seq_conflict":
      return { [H.producerExpectedSeq]: String(d.expected_producer_seq), [H.producerReceivedSeq]: String(d.received_producer_seq) };
    default:
      return typeof d.retry_after_ms === "number" ? { "retry-after": retryAfterSeconds(d.retry_after_ms) } : {};
  }
}

/** An error as `{"error": "<code>", "message": ...}` (the REST shape), with its status and protocol headers. */
export function sendError(res: http.ServerResponse, error: StarciteError, extra: http.OutgoingHttpHeaders = {}): void {
  const body = JSON.stringify({
    error: error.code,
    message: error.message,
    ...(Object.keys(error.detail).length > 0 ? { detail: error.detail } : {}),
  });
  res.writeHead(HTTP_STATUS[error.code], {
    ...BASE_HEADERS,
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
    ...errorHeaders(error),
    ...extra,
  });
  res.end(body);
}

/** Bounded body reading and draining after a refusal: REST's (the one exception to the adapters' isolation). */
export { drain, readBody } from "../rest/body.ts";
