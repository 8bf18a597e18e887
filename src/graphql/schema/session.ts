import * as sessions from "../../app/sessions.ts";
import type { Session } from "../../db/types.ts";
import { builder } from "../builder.ts";

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
    resolve: (_root, { id }, ctx) => sessions.get(ctx, String(id)),
  }),
  sessions: t.field({
    type: [SessionRef],
    description: "Sessions ordered by id; page with `after` set to the last id of the previous page.",
    args: {
      limit: t.arg.int({ defaultValue: 100 }),
      after: t.arg.id(),
      archived: t.arg.boolean({ defaultValue: false }),
    },
    resolve: (_root, args, ctx) =>
      sessions.list(ctx, { limit: args.limit, after: args.after == null ? null : String(args.after), archived: args.archived }),
  }),
}));

builder.mutationFields((t) => ({
  createSession: t.field({
    type: SessionRef,
    description: "Creates a session. Without `id`, one is generated (ses_...). A taken id is `session_exists`.",
    args: { id: t.arg.id(), title: t.arg.string(), metadata: t.arg({ type: "JSON" }) },
    resolve: (_root, args, ctx) =>
      sessions.create(ctx, { id: args.id == null ? null : String(args.id), title: args.title, metadata: args.metadata }),
  }),
  deleteSession: t.field({
    type: SessionRef,
    description: "Deletes a session and its events; returns what it was. The lifecycle feed records it as deleted.",
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => sessions.remove(ctx, String(args.id)),
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
    resolve: (_root, args, ctx) =>
      sessions.update(ctx, {
        id: String(args.id),
        title: args.title,
        metadata: args.metadata,
        expectedVersion: args.expectedVersion,
        archived: args.archived,
      }),
  }),
}));
