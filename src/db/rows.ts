import type { JsonObject, JsonValue, Session, StoredEvent } from "./types.ts";

export interface SessionRow {
  id: string;
  tenant_id: string;
  title: string | null;
  metadata: JsonObject;
  last_seq: number;
  version: number;
  archived: boolean;
  created_at: string;
  updated_at: string;
}

export interface EventRow {
  session_id: string;
  seq: number;
  type: string;
  payload: JsonObject;
  actor: string | null;
  source: string | null;
  metadata: JsonObject | null;
  refs: JsonValue | null;
  idempotency_key: string | null;
  producer_id: string | null;
  producer_seq: number | null;
  inserted_at: string;
  body: Buffer | null;
}

export const toSession = (r: SessionRow): Session => ({
  id: r.id,
  tenantId: r.tenant_id,
  title: r.title,
  metadata: r.metadata,
  lastSeq: r.last_seq,
  version: r.version,
  archived: r.archived,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/**
 * An event as every surface delivers it. A Durable Streams binary message (a `body`) is shown with its bytes in
 * base64 beside the content type its payload holds: `{"content_type": "...", "base64": "..."}`.
 */
export const toEvent = (r: EventRow): StoredEvent => ({
  sessionId: r.session_id,
  seq: r.seq,
  type: r.type,
  payload: r.body ? { ...r.payload, base64: r.body.toString("base64") } : r.payload,
  actor: r.actor,
  source: r.source,
  metadata: r.metadata,
  refs: r.refs,
  idempotencyKey: r.idempotency_key,
  producerId: r.producer_id,
  producerSeq: r.producer_seq,
  insertedAt: r.inserted_at,
});

/**
 * An event as the columns of starcite.events, in JSON (snake_case): REST's event object and the archive's
 * NDJSON line are both this.
 */
export const eventColumns = (e: StoredEvent) => ({
  session_id: e.sessionId,
  seq: e.seq,
  type: e.type,
  payload: e.payload,
  actor: e.actor,
  source: e.source,
  metadata: e.metadata,
  refs: e.refs,
  idempotency_key: e.idempotencyKey,
  producer_id: e.producerId,
  producer_seq: e.producerSeq,
  inserted_at: e.insertedAt,
});
