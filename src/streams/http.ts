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

/** After refusing a body, read and drop the rest (bounded) so the client sees the answer rather than a reset. */
const DRAIN_LIMIT_BYTES = 64 * 1024 * 1024;

export function drain(req: http.IncomingMessage): void {
  let dropped = 0;
  req.removeAllListeners("data");
  req.on("data", (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > DRAIN_LIMIT_BYTES) req.socket.destroy();
  });
  req.resume();
}

function tooLarge(limit: number): StarciteError {
  return new StarciteError("payload_too_large", `the request body is over ${limit} bytes`, { limit });
}

/** The request body's bytes (a chunked one too), refused with payload_too_large past `limit`. */
export async function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? NaN);
  if (declared > limit) throw tooLarge(limit);
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off("data", onData);
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.once("end", () => resolve(Buffer.concat(chunks)));
    req.once("error", () => reject(new StarciteError("bad_request", "the request body could not be read")));
  });
}
