import { actorFor, forbidTokens, isToken, requireScope, requireSession } from "../auth/guard.ts";
import { StarciteError } from "../db/errors.ts";
import * as db from "../db/streams.ts";
import type { AppendStreamResult, StreamBody, StreamState } from "../db/streams.ts";
import type { StoredEvent } from "../db/types.ts";
import type { TailIterator } from "../live/tail-iterator.ts";
import type { AppContext } from "./context.ts";
import { EVENT_LIMITS } from "../shared/limits.ts";
import { checkJson } from "../write/validate.ts";
import { open } from "./tails.ts";

/**
 * Durable Streams operations with their auth rules (docs/durable-streams.md), for the protocol adapter: a stream
 * is a session of the caller's tenant, so API keys and session tokens work as they do everywhere. Creating and
 * deleting streams needs session:create and a backend credential; appending session:append; reading session:read.
 * A session token reaches only the stream whose session it was minted for, and appends as its own actor.
 */

export interface CreateStreamRequest {
  path: string;
  contentType: string | null;
  ttlSeconds: number | null;
  expiresAt: string | null;
  closed: boolean;
  body: StreamBody;
  fork: db.CreateStreamInput["fork"];
  actor: string | null;
}

/**
 * A JSON body's messages (a top-level array flattened one level, as SQL does it), checked like any event's payload
 * before Postgres sees them: storable strings, and no deeper than a payload may be (a message that is not an
 * object is stored as {"value": ...}, one level deeper). Sizes are SQL's to refuse.
 */
function checkBody(body: StreamBody): void {
  if (body === null || !("json" in body)) return;
  let value: unknown;
  try {
    value = JSON.parse(body.json);
  } catch {
    throw new StarciteError("invalid_event", "the body is not valid JSON", { field: "body" });
  }
  for (const message of Array.isArray(value) ? (value as unknown[]) : [value]) {
    const isObject = message !== null && typeof message === "object" && !Array.isArray(message);
    checkJson(isObject ? message : { value: message }, "body", "invalid_event", EVENT_LIMITS.jsonDepth);
  }
}

export function create(ctx: AppContext, request: CreateStreamRequest): Promise<{ created: boolean; state: StreamState }> {
  const p = requireScope(ctx.auth, "session:create");
  forbidTokens(p, "create streams");
  checkBody(request.body);
  return db.createStream(ctx.sql, { ...request, actor: actorFor(p, request.actor), tenantId: p.tenantId });
}

export interface AppendStreamRequest {
  path: string;
  contentType: string | null;
  body: StreamBody;
  streamSeq: string | null;
  producer: { id: string; epoch: number; seq: number } | null;
  close: boolean;
  actor: string | null;
}

export async function append(ctx: AppContext, request: AppendStreamRequest): Promise<AppendStreamResult> {
  const p = requireScope(ctx.auth, "session:append");
  checkBody(request.body);
  if (isToken(p)) requireSession(p, (await db.resolveStream(ctx.sql, request.path, false, p.tenantId)).sessionId);
  return db.appendStream(ctx.sql, { ...request, actor: actorFor(p, request.actor), tenantId: p.tenantId });
}

/** The stream, for a read: `touch` (every read but HEAD) moves its sliding TTL. */
export async function resolve(ctx: AppContext, path: string, touch: boolean): Promise<StreamState> {
  const p = requireScope(ctx.auth, "session:read");
  const state = await db.resolveStream(ctx.sql, path, touch, p.tenantId);
  requireSession(p, state.sessionId);
  return state;
}

/** A catch-up page of a stream resolved by `resolve` for this caller. */
export function page(ctx: AppContext, state: StreamState, afterSeq: number, maxEvents: number, maxBytes: number): Promise<StoredEvent[]> {
  const p = requireScope(ctx.auth, "session:read");
  requireSession(p, state.sessionId);
  return db.readStream(ctx.sql, state.sessionId, afterSeq, maxEvents, maxBytes, p.tenantId);
}

/** Follows a stream's session live from `afterSeq`, through the process's shared fan-out (the same tail GraphQL uses). */
export function follow(ctx: AppContext, state: StreamState, afterSeq: number): Promise<TailIterator> {
  return open(ctx, state.sessionId, afterSeq);
}

export function remove(ctx: AppContext, path: string): Promise<void> {
  const p = requireScope(ctx.auth, "session:create");
  forbidTokens(p, "delete streams");
  return db.deleteStream(ctx.sql, path, p.tenantId);
}
