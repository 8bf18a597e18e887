import * as events from "../../app/events.ts";
import type { AppendResult, StoredEvent } from "../../db/types.ts";
import { builder } from "../builder.ts";

export const EventRef = builder.objectRef<StoredEvent>("Event").implement({
  description: "One entry of a session's log.",
  fields: (t) => ({
    seq: t.exposeInt("seq", { description: "Position in the session: 1, 2, 3, ... without gaps, in commit order." }),
    sessionId: t.exposeID("sessionId"),
    type: t.exposeString("type"),
    payload: t.field({ type: "JSON", resolve: (e) => e.payload }),
    actor: t.exposeString("actor", { nullable: true }),
    source: t.exposeString("source", { nullable: true }),
    metadata: t.field({ type: "JSON", nullable: true, resolve: (e) => e.metadata }),
    refs: t.field({ type: "JSON", nullable: true, resolve: (e) => e.refs }),
    idempotencyKey: t.exposeString("idempotencyKey", { nullable: true }),
    producerId: t.exposeString("producerId", { nullable: true }),
    producerSeq: t.exposeInt("producerSeq", { nullable: true }),
    insertedAt: t.field({ type: "DateTime", resolve: (e) => e.insertedAt }),
  }),
});

export const AppendInputRef = builder.inputType("AppendInput", {
  description: "An event to append. `producerId` + `producerSeq` make retries idempotent.",
  fields: (t) => ({
    type: t.string({ defaultValue: "content" }),
    payload: t.field({ type: "JSON", required: true, description: "A JSON object (max 256 KiB)." }),
    actor: t.string({ description: "Who wrote it, e.g. agent:drafter or user:alice." }),
    source: t.string(),
    metadata: t.field({ type: "JSON" }),
    refs: t.field({ type: "JSON" }),
    idempotencyKey: t.string(),
    producerId: t.string(),
    producerSeq: t.int({ description: "Must be the producer's previous producerSeq + 1; a repeat is deduped." }),
    expectedSeq: t.int({ description: "Append only if the session's lastSeq equals this." }),
  }),
});

export const AppendResultRef = builder.objectRef<AppendResult>("AppendResult").implement({
  fields: (t) => ({
    seq: t.exposeInt("seq"),
    lastSeq: t.exposeInt("lastSeq"),
    deduped: t.exposeBoolean("deduped", { description: "True when this was a retry of an event already in the log." }),
  }),
});

export const EventPageRef = builder.objectRef<events.EventPage>("EventPage").implement({
  fields: (t) => ({
    events: t.field({ type: [EventRef], resolve: (p) => p.events }),
    nextCursor: t.exposeInt("nextCursor", { description: "Pass as `after` to get the next page." }),
    lastSeq: t.exposeInt("lastSeq"),
  }),
});

builder.queryFields((t) => ({
  events: t.field({
    type: EventPageRef,
    description: "Events with seq > after, in seq order (limit 1..1000).",
    args: {
      sessionId: t.arg.id({ required: true }),
      after: t.arg.int({ defaultValue: 0 }),
      limit: t.arg.int({ defaultValue: 100 }),
    },
    resolve: (_root, args, ctx) => events.page(ctx, String(args.sessionId), args.after ?? 0, args.limit ?? 100),
  }),
}));

builder.mutationFields((t) => ({
  append: t.field({
    type: AppendResultRef,
    description: "Appends one event. Concurrent appends are group-committed; each gets its own result or error.",
    args: { sessionId: t.arg.id({ required: true }), event: t.arg({ type: AppendInputRef, required: true }) },
    resolve: (_root, args, ctx) => events.append(ctx, String(args.sessionId), args.event),
  }),
  appendBatch: t.field({
    type: [AppendResultRef],
    description: "Appends events atomically, in order: all of them or (on the first error) none.",
    args: { sessionId: t.arg.id({ required: true }), events: t.arg({ type: [AppendInputRef], required: true }) },
    resolve: (_root, args, ctx) => events.appendBatch(ctx, String(args.sessionId), args.events),
  }),
}));
