import { requireScope, requireSession } from "../auth/guard.ts";
import { StarciteError } from "../db/errors.ts";
import { getSession } from "../db/sessions.ts";
import { TailIterator } from "../live/tail-iterator.ts";
import { checkSessionRef } from "../write/validate.ts";
import type { AppContext } from "./context.ts";
import { notFound } from "./sessions.ts";

/**
 * Opens a tail (replay seq > cursor, then live) after the auth and cursor checks every transport shares.
 * The tail ends when the credential does, so clients refresh it and resume from their cursor.
 */
export async function open(ctx: AppContext, sessionId: string, cursor: number): Promise<TailIterator> {
  const p = requireScope(ctx.auth, "session:read");
  requireSession(p, checkSessionRef(sessionId));
  if (!Number.isSafeInteger(cursor) || cursor < 0) throw new StarciteError("invalid_argument", "cursor must be >= 0", { field: "cursor" });
  const session = await getSession(ctx.sql, sessionId, p.tenantId);
  if (!session) throw notFound(sessionId);
  if (cursor > session.lastSeq) {
    throw new StarciteError("invalid_argument", `cursor ${cursor} is beyond the session's last seq ${session.lastSeq}`, {
      field: "cursor",
      last_seq: session.lastSeq,
    });
  }
  return new TailIterator(ctx.sql, ctx.hub, {
    sessionId,
    cursor,
    tenantId: p.tenantId,
    epoch: session.createdAt,
    // A credential revoked while its connection is open ends the tail (see AuthState.lapse).
    ...(ctx.auth.lapse ? { stop: ctx.auth.lapse } : {}),
    ...(p.expiresAt !== null
      ? {
          deadline: {
            at: p.expiresAt,
            error: () =>
              p.kind === "service"
                ? new StarciteError("unauthorized", "the API key has expired")
                : new StarciteError("token_expired", "the token expired; resume from your cursor with a fresh one"),
          },
        }
      : {}),
  });
}
