import { forbidTokens, isToken, requireScope, requireSession } from "../auth/guard.ts";
import { StarciteError } from "../db/errors.ts";
import * as db from "../db/sessions.ts";
import type { JsonValue, Session } from "../db/types.ts";
import type { AppContext } from "./context.ts";
import { checkOptionalText, checkSessionId, checkSessionRef, validateSessionFields } from "../write/validate.ts";

/** Session operations with their auth rules, shared by every transport. */

export function notFound(id: string): StarciteError {
  return new StarciteError("session_not_found", `session ${id} does not exist`, { session_id: id });
}

export function create(
  ctx: AppContext,
  input: { id?: string | null; title?: string | null; metadata?: JsonValue | null },
): Promise<Session> {
  const p = requireScope(ctx.auth, "session:create");
  forbidTokens(p, "create sessions");
  return db.createSession(ctx.sql, {
    id: input.id == null ? null : checkSessionId(input.id),
    ...validateSessionFields(input),
    tenantId: p.tenantId,
  });
}

/** The session, or null when it does not exist for this caller (another tenant's, or not the token's). */
export function get(ctx: AppContext, id: string): Promise<Session | null> {
  const p = requireScope(ctx.auth, "session:read");
  requireSession(p, checkSessionRef(id, "id"));
  return db.getSession(ctx.sql, id, p.tenantId);
}

export async function list(
  ctx: AppContext,
  input: { limit?: number | null; after?: string | null; archived?: boolean | null },
): Promise<Session[]> {
  const p = requireScope(ctx.auth, "session:read", "session:create");
  const sessions = await db.listSessions(ctx.sql, {
    limit: input.limit ?? 100,
    after: checkOptionalText(input.after, "after", "invalid_argument"),
    archived: input.archived ?? false,
    tenantId: p.tenantId,
  });
  // A session token sees only its own session.
  return isToken(p) ? sessions.filter((s) => s.id === p.sessionId) : sessions;
}

/** Deletes a session with its events (the lifecycle feed records it). */
export function remove(ctx: AppContext, id: string): Promise<Session> {
  const p = requireScope(ctx.auth, "session:create");
  forbidTokens(p, "delete sessions");
  return db.deleteSession(ctx.sql, id, p.tenantId);
}

export function update(
  ctx: AppContext,
  input: { id: string; title?: string | null; metadata?: JsonValue | null; expectedVersion?: number | null; archived?: boolean | null },
): Promise<Session> {
  const p = requireScope(ctx.auth, "session:create");
  forbidTokens(p, "update sessions");
  return db.updateSession(ctx.sql, {
    tenantId: p.tenantId,
    id: checkSessionRef(input.id, "id"),
    ...validateSessionFields(input),
    expectedVersion: input.expectedVersion,
    archived: input.archived,
  });
}
