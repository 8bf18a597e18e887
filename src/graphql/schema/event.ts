import { appendItems, read } from "../../db/events.ts";
import { getSession } from "../../db/sessions.ts";
import type { AppendResult, EventInput, JsonValue, StoredEvent } from "../../db/types.ts";
import { builder } from "../builder.ts";
import { actorFor, requireScope, requireSession } from "../../auth/guard.ts";
import type { Principal } from "../../auth/principal.ts";
import { checkSessionRef, validateEvent, validateEvents } from "../../write/validate.ts";

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

interface EventPage {
  events: StoredEvent[];
  nextCursor: number;
  lastSeq: number;
}

export const EventPageRef = builder.objectRef<EventPage>("EventPage").implement({
  fields: (t) => ({
    events: t.field({ type: [EventRef], resolve: (p) => p.events }),
    nextCursor: t.exposeInt("nextCursor", { description: "Pass as `after` to get the next page." }),
    lastSeq: t.exposeInt("lastSeq"),
  }),
});

type AppendInputShape = typeof AppendInputRef.$inferInput;

/** The GraphQL input as the write path's EventInput (unchecked; see validateEvent), with the actor the credential may use. */
export function toEventInput(input: AppendInputShape, principal: Principal): EventInput {
  return {
    type: input.type ?? "content",
    payload: input.payload as EventInput["payload"],
    actor: actorFor(principal, input.actor),
    source: input.source,
    metadata: (input.metadata ?? null) as EventInput["metadata"],
    refs: (input.refs ?? null) as JsonValue | null,
    idempotencyKey: input.idempotencyKey,
    producerId: input.producerId,
    producerSeq: input.producerSeq,
    expectedSeq: input.expectedSeq,
  };
}

builder.queryFields((t) => ({
  events: t.field({
    type: EventPageRef,
    description: "Events with seq > after, in seq order (limit 1..1000).",
    args: {
      sessionId: t.arg.id({ required: true }),
      after: t.arg.int({ defaultValue: 0 }),
      limit: t.arg.int({ defaultValue: 100 }),
    },
    resolve: async (_root, args, ctx) => {
      const p = requireScope(ctx.auth, "session:read");
      const sessionId = checkSessionRef(String(args.sessionId));
      requireSession(p, sessionId);
      const after = args.after ?? 0;
      const events = await read(ctx.sql, sessionId, after, args.limit ?? 100, p.tenantId);
      const session = await getSession(ctx.sql, sessionId, p.tenantId);
      const lastSeq = Math.max(session?.lastSeq ?? 0, events.at(-1)?.seq ?? 0);
      return { events, nextCursor: events.at(-1)?.seq ?? after, lastSeq };
    },
  }),
}));

builder.mutationFields((t) => ({
  append: t.field({
    type: AppendResultRef,
    description: "Appends one event. Concurrent appends are group-committed; each gets its own result or error.",
    args: { sessionId: t.arg.id({ required: true }), event: t.arg({ type: AppendInputRef, required: true }) },
    resolve: (_root, args, ctx) => {
      const p = requireScope(ctx.auth, "session:append");
      const sessionId = checkSessionRef(String(args.sessionId));
      requireSession(p, sessionId);
      return ctx.batcher.append({ ...validateEvent(toEventInput(args.event, p)), sessionId, tenantId: p.tenantId });
    },
  }),
  appendBatch: t.field({
    type: [AppendResultRef],
    description: "Appends events atomically, in order: all of them or (on the first error) none.",
    args: { sessionId: t.arg.id({ required: true }), events: t.arg({ type: [AppendInputRef], required: true }) },
    resolve: async (_root, args, ctx) => {
      const p = requireScope(ctx.auth, "session:append");
      const sessionId = checkSessionRef(String(args.sessionId));
      requireSession(p, sessionId);
      const events = validateEvents(args.events.map((e) => toEventInput(e, p)));
      const outcomes = await appendItems(ctx.sql, events.map((e) => ({ ...e, sessionId, tenantId: p.tenantId })), true);
      return outcomes.map((o) => {
        if (!o.ok) throw o.error;
        return o.result;
      });
    },
  }),
}));
