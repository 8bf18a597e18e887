import { actorFor, requireScope, requireSession } from "../auth/guard.ts";
import type { Principal } from "../auth/principal.ts";
import { StarciteError } from "../db/errors.ts";
import { getSession } from "../db/sessions.ts";
import type { AppendResult, EventInput, JsonValue, StoredEvent } from "../db/types.ts";
import type { AppContext } from "./context.ts";
import { checkSessionRef, validateEvent, validateEvents } from "../write/validate.ts";

/** An event as a transport received it (camelCase); the JSON fields are not yet checked. */
export interface AppendInput {
  type?: string | null;
  payload?: JsonValue;
  actor?: string | null;
  source?: string | null;
  metadata?: JsonValue | null;
  refs?: JsonValue | null;
  idempotencyKey?: string | null;
  producerId?: string | null;
  producerSeq?: number | null;
  expectedSeq?: number | null;
}

export interface EventPage {
  events: StoredEvent[];
  nextCursor: number;
  lastSeq: number;
}

/** The event as the write path takes it, with the actor the credential may use; checked by validateEvent. */
export function toEventInput(input: AppendInput, principal: Principal): EventInput {
  return {
    type: input.type ?? "content",
    payload: input.payload as EventInput["payload"],
    actor: actorFor(principal, input.actor),
    source: input.source,
    metadata: (input.metadata ?? null) as EventInput["metadata"],
    refs: input.refs ?? null,
    idempotencyKey: input.idempotencyKey,
    producerId: input.producerId,
    producerSeq: input.producerSeq,
    expectedSeq: input.expectedSeq,
  };
}

/** One event through the group commit; concurrent appends share a transaction, each gets its own result. */
export function append(ctx: AppContext, sessionId: string, input: AppendInput): Promise<AppendResult> {
  const p = requireScope(ctx.auth, "session:append");
  requireSession(p, checkSessionRef(sessionId));
  return ctx.batcher.append({ ...validateEvent(toEventInput(input, p)), sessionId, tenantId: p.tenantId });
}

/** Events in order, atomically: all of them or (on the first error, which is thrown) none. */
export async function appendBatch(ctx: AppContext, sessionId: string, inputs: readonly AppendInput[]): Promise<AppendResult[]> {
  const p = requireScope(ctx.auth, "session:append");
  requireSession(p, checkSessionRef(sessionId));
  const events = validateEvents(inputs.map((e) => toEventInput(e, p)));
  // Through the group commit too: concurrent batches share a transaction, each all-or-nothing on its own.
  return ctx.batcher.appendAtomic(events.map((e) => ({ ...e, sessionId, tenantId: p.tenantId })));
}

/** Events with seq > after in seq order, with the cursor for the next page and the session's last seq. */
export async function page(ctx: AppContext, sessionId: string, after: number, limit: number): Promise<EventPage> {
  const p = requireScope(ctx.auth, "session:read");
  requireSession(p, checkSessionRef(sessionId));
  const events = await ctx.hub.read(sessionId, after, limit, p.tenantId);
  const session = await getSession(ctx.sql, sessionId, p.tenantId);
  const lastSeq = Math.max(session?.lastSeq ?? 0, events.at(-1)?.seq ?? 0);
  return { events, nextCursor: events.at(-1)?.seq ?? after, lastSeq };
}
