import { StarciteError } from "../../db/errors.ts";
import { getSession } from "../../db/sessions.ts";
import { TailIterator, type TailBatch } from "../../live/tail.ts";
import { builder } from "../builder.ts";
import { requireScope, requireSession } from "../../auth/guard.ts";
import { EventRef } from "./event.ts";
import { checkSessionRef } from "../../write/validate.ts";

export const TailBatchRef = builder.objectRef<TailBatch>("TailBatch").implement({
  fields: (t) => ({
    events: t.field({ type: [EventRef], resolve: (b) => b.events }),
    cursor: t.exposeInt("cursor", { description: "Seq of the last event delivered so far; resubscribe with it to resume." }),
    live: t.exposeBoolean("live", { description: "False for replayed history; an empty batch with true marks the catch-up point, and every later batch is live." }),
  }),
});

builder.subscriptionFields((t) => ({
  tail: t.field({
    type: TailBatchRef,
    description:
      "Replays events with seq > cursor in order, then follows live. The first batch with live=true marks the catch-up point (it may be empty).",
    args: {
      sessionId: t.arg.id({ required: true }),
      cursor: t.arg.int({ defaultValue: 0 }),
    },
    subscribe: async (_root, args, ctx) => {
      const p = requireScope(ctx.auth, "session:read");
      const sessionId = checkSessionRef(String(args.sessionId));
      requireSession(p, sessionId);
      const cursor = args.cursor ?? 0;
      if (cursor < 0) throw new StarciteError("invalid_argument", "cursor must be >= 0", { field: "cursor" });
      const session = await getSession(ctx.sql, sessionId, p.tenantId);
      if (!session) throw new StarciteError("session_not_found", `session ${sessionId} does not exist`, { session_id: sessionId });
      if (cursor > session.lastSeq) {
        throw new StarciteError("invalid_argument", `cursor ${cursor} is beyond the session's last seq ${session.lastSeq}`,
          { field: "cursor", last_seq: session.lastSeq });
      }
      return new TailIterator(ctx.sql, ctx.hub, {
        sessionId,
        cursor,
        tenantId: p.tenantId,
        ...(ctx.auth.lapse ? { stop: ctx.auth.lapse } : {}),
        // The tail ends when the credential does, so clients refresh it and resume from their cursor.
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
    },
    resolve: (batch) => batch,
  }),
}));
