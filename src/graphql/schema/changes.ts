import * as changes from "../../app/changes.ts";
import type { SessionChange } from "../../db/types.ts";
import type { ChangeBatch } from "../../live/changes.ts";
import { builder } from "../builder.ts";

const SessionChangeKindRef = builder.enumType("SessionChangeKind", {
  values: ["created", "updated", "archived", "unarchived", "deleted"] as const,
});

export const SessionChangeRef = builder.objectRef<SessionChange>("SessionChange").implement({
  description: "One entry of the tenant's lifecycle feed.",
  fields: (t) => ({
    seq: t.exposeInt("seq", { description: "1, 2, 3, ... per tenant, without gaps, in commit order." }),
    sessionId: t.exposeID("sessionId"),
    kind: t.field({ type: SessionChangeKindRef, resolve: (c) => c.kind }),
    version: t.exposeInt("version", { description: "The session's version after the change (before it, for deleted)." }),
    archived: t.exposeBoolean("archived"),
    changedAt: t.field({ type: "DateTime", resolve: (c) => c.changedAt }),
  }),
});

const SessionChangePageRef = builder.objectRef<changes.ChangePage>("SessionChangePage").implement({
  fields: (t) => ({
    changes: t.field({ type: [SessionChangeRef], resolve: (p) => p.changes }),
    nextCursor: t.exposeInt("nextCursor", { description: "Pass as `after` to get the next page." }),
    lastSeq: t.exposeInt("lastSeq", { description: "The seq of the tenant's newest change." }),
  }),
});

const SessionChangeBatchRef = builder.objectRef<ChangeBatch>("SessionChangeBatch").implement({
  fields: (t) => ({
    changes: t.field({ type: [SessionChangeRef], resolve: (b) => b.changes }),
    cursor: t.exposeInt("cursor", { description: "Seq of the last change delivered so far; resubscribe with it to resume." }),
    live: t.exposeBoolean("live", { description: "False for replayed changes; an empty batch with true marks the catch-up point." }),
  }),
});

builder.queryFields((t) => ({
  sessionChanges: t.field({
    type: SessionChangePageRef,
    description: "Session changes (created, updated, archived, unarchived, deleted) with seq > after, in commit order (limit 1..1000).",
    args: { after: t.arg.int({ defaultValue: 0 }), limit: t.arg.int({ defaultValue: 100 }) },
    resolve: (_root, args, ctx) => changes.page(ctx, args.after ?? 0, args.limit ?? 100),
  }),
}));

builder.subscriptionFields((t) => ({
  sessionChanges: t.field({
    type: SessionChangeBatchRef,
    description:
      "The lifecycle feed: replays session changes with seq > cursor in commit order, then follows live. A backend that restarts resumes from its last cursor and misses nothing.",
    args: { cursor: t.arg.int({ defaultValue: 0 }) },
    subscribe: (_root, args, ctx) => changes.open(ctx, args.cursor ?? 0),
    resolve: (batch) => batch,
  }),
}));
