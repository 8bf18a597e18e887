import type http from "node:http";
import { TailCloseCode } from "@starcite/sdk/protocol";
import type { RestError } from "@starcite/sdk/protocol";
import { HTTP_STATUS, StarciteError, toStarciteError, type ErrorCode } from "../db/errors.ts";
import { retryAfterSeconds } from "../auth/limiter.ts";
import type { Logger } from "../shared/logger.ts";

export { HTTP_STATUS };

/** Close codes of the plain-WebSocket tail: 4000 + the HTTP status for client errors; standard codes otherwise. */
export function closeCodeOf(code: ErrorCode): TailCloseCode {
  switch (code) {
    case "shutting_down":
      return TailCloseCode.GoingAway;
    case "database_unavailable":
      return TailCloseCode.TryAgainLater;
    case "internal_error":
      return TailCloseCode.InternalError;
    default: {
      const candidate = 4000 + HTTP_STATUS[code];
      return (Object.values(TailCloseCode) as number[]).includes(candidate) ? (candidate as TailCloseCode) : TailCloseCode.BadRequest;
    }
  }
}

/** A WebSocket close reason: "<code>: <message>", within the protocol's 123 bytes. */
export function closeReason(error: StarciteError): string {
  const reason = `${error.code}: ${error.message}`;
  return Buffer.byteLength(reason) <= 123
    ? reason
    : Buffer.from(reason)
        .subarray(0, 120)
        .toString("utf8")
        .replace(/\uFFFD$/, "") + "...";
}

/** Anything thrown while serving a request, as a StarciteError; real bugs are logged and become internal_error. */
export function asStarciteError(error: unknown, logger: Logger): StarciteError {
  const mapped = toStarciteError(error);
  if (mapped instanceof StarciteError) return mapped;
  logger.error("unexpected error", { error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  return new StarciteError("internal_error", "Unexpected error.");
}

export function errorBody(error: StarciteError): RestError {
  const body: RestError = { error: error.code, message: error.message };
  if (Object.keys(error.detail).length > 0) body.detail = error.detail;
  return body;
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}): void {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(json),
    // CORS headers, when the origin is allowed, were set by the server's guards before routing.
    ...headers,
  });
  res.end(json);
}

export function sendError(res: http.ServerResponse, error: StarciteError, headers: http.OutgoingHttpHeaders = {}): void {
  const wait = error.detail.retry_after_ms;
  const retry = typeof wait === "number" ? { "retry-after": retryAfterSeconds(wait) } : {};
  sendJson(res, HTTP_STATUS[error.code], errorBody(error), { ...retry, ...headers });
}
