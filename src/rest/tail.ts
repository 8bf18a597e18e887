import type http from "node:http";
import { bearer } from "../auth/authenticator.ts";
import type { AppContext } from "../app/context.ts";
import * as tails from "../app/tail.ts";
import { StarciteError } from "../db/errors.ts";
import type { TailIterator } from "../live/tail-iterator.ts";
import type { RestDeps } from "./deps.ts";
import { intParam } from "./input.ts";
import { MAX_BATCH_SIZE } from "./streams.ts";

export interface TailRequest {
  cursor: number;
  /** Events per frame as a JSON array; undefined: one event object per frame. */
  batchSize: number | undefined;
}

/**
 * The query of a tail URL: `cursor` (default 0), `batch_size` (1..1000), and for SSE the `Last-Event-ID`
 * header, which wins over `cursor` because EventSource reconnects with its original URL.
 */
export function parseTailRequest(query: URLSearchParams, lastEventId?: string | string[]): TailRequest {
  let cursor = intParam(query, "cursor") ?? 0;
  if (typeof lastEventId === "string" && lastEventId !== "") {
    if (!/^\d{1,15}$/.test(lastEventId)) {
      throw new StarciteError("invalid_argument", "Last-Event-ID must be the seq of the last event received", { field: "Last-Event-ID" });
    }
    cursor = Number(lastEventId);
  }
  const batchSize = intParam(query, "batch_size");
  if (batchSize !== undefined && (batchSize < 1 || batchSize > MAX_BATCH_SIZE)) {
    throw new StarciteError("invalid_argument", `batch_size must be between 1 and ${MAX_BATCH_SIZE}`, { field: "batch_size" });
  }
  return { cursor, batchSize };
}

/** Browsers cannot set headers on WebSocket or EventSource: `?access_token=` is accepted on tails only. */
export function tailCredential(req: http.IncomingMessage, query: URLSearchParams): string | undefined {
  return bearer(req.headers.authorization) ?? (query.get("access_token") || undefined);
}

/** Opens the tail through the same operation the GraphQL subscription uses. */
export function openTail(ctx: AppContext, deps: RestDeps, sessionId: string, request: TailRequest): Promise<TailIterator> {
  if (deps.closing()) throw new StarciteError("shutting_down", "the server is shutting down; resume from your cursor");
  return tails.open(ctx, sessionId, request.cursor);
}
