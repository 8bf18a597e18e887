import { createSession, getSession, listSessions, updateSession } from "../../db/sessions.ts";
import type { Session } from "../../db/types.ts";
import { checkOptionalText, checkSessionId, checkSessionRef, validateSessionFields } from "../../write/validate.ts";
import { builder } from "../builder.ts";
import { forbidTokens, isToken, requireScope, requireSession } from "../../auth/guard.ts";

export const SessionRef = builder.objectRef<Session>("Session").implement({
  description: "One ordered, durable timeline of events.",
  fields: (t) => ({
    id: t.exposeID("id"),
    title: t.exposeString("title", { nullable: true }),
    metadata: t.field({ type: "JSON", resolve: (s) => s.metadata }),
    lastSeq: t.exposeInt("lastSeq", { description: "Seq of the newest event (0 when empty)." }),
    version: t.exposeInt("version", { description: "Bumped by every updateSession." }),
    archived: t.exposeBoolean("archived"),
    createdAt: t.field({ type: "DateTime", resolve: (s) => s.createdAt }),
    updatedAt: t.field({ type: "DateTime", resolve: (s) => s.updatedAt }),
  }),
});

builder.queryFields((t) => ({
  session: t.field({
    type: SessionRef,
    nullable: true,
    description: "The session, or null if it does not exist (or belongs to another tenant).",
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => {
      const p = requireScope(ctx.auth, "session:read");
      const sessionId = checkSessionRef(String(id), "id");
      requireSession(p, sessionId);
      return getSession(ctx.sql, sessionId, p.tenantId);
    },
  }),
  sessions: t.field({
    type: [SessionRef],
    description: "Sessions ordered by id; page with `after` set to the last id of the previous page.",
    args: {
      limit: t.arg.int({ defaultValue: 100 }),
      after: t.arg.id(),
      archived: t.arg.boolean({ defaultValue: false }),
    },
    resolve: async (_root, args, ctx) => {
      const p = requireScope(ctx.auth, "session:read", "session:create");
      const sessions = await listSessions(ctx.sql, {
        limit: args.limit ?? 100,
        after: checkOptionalText(args.after == null ? null : String(args.after), "after", "invalid_argument"),
        archived: args.archived ?? false,
        tenantId: p.tenantId,
      });
      // A session token sees only its own session.
      return isToken(p) ? sessions.filter((s) => s.id === p.sessionId) : sessions;
    },
  }),
}));

builder.mutationFields((t) => ({
  createSession: t.field({
    type: SessionRef,
    description: "Creates a session. Without `id`, one is generated (ses_...). A taken id is `session_exists`.",
    args: { id: t.arg.id(), title: t.arg.string(), metadata: t.arg({ type: "JSON" }) },
    resolve: (_root, args, ctx) => {
      const p = requireScope(ctx.auth, "session:create");
      forbidTokens(p, "create sessions");
      return createSession(ctx.sql, {
        id: args.id == null ? null : checkSessionId(String(args.id)),
        ...validateSessionFields(args),
        tenantId: p.tenantId,
      });
    },
  }),
  updateSession: t.field({
    type: SessionRef,
    description: "Changes title and/or metadata (replaced whole). With `expectedVersion`, fails with `version_conflict` unless it matches.",
    args: {
      id: t.arg.id({ required: true }),
      title: t.arg.string(),
      metadata: t.arg({ type: "JSON" }),
      expectedVersion: t.arg.int(),
      archived: t.arg.boolean(),
    },
    resolve: (_root, args, ctx) => {
      const p = requireScope(ctx.auth, "session:create");
      forbidTokens(p, "update sessions");
      return updateSession(ctx.sql, {
        tenantId: p.tenantId,
        id: checkSessionRef(String(args.id), "id"),
        ...validateSessionFields(args),
        expectedVersion: args.expectedVersion,
        archived: args.archived,
      });
    },
  }),
}));
