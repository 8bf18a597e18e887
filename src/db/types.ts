export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface Session {
  id: string;
  tenantId: string;
  title: string | null;
  metadata: JsonObject;
  lastSeq: number;
  version: number;
  archived: boolean;
  /** ISO-8601 with microseconds. */
  createdAt: string;
  updatedAt: string;
}

export interface StoredEvent {
  sessionId: string;
  seq: number;
  type: string;
  payload: JsonObject;
  actor: string | null;
  source: string | null;
  metadata: JsonObject | null;
  refs: JsonValue | null;
  idempotencyKey: string | null;
  producerId: string | null;
  producerSeq: number | null;
  /** ISO-8601 with microseconds. */
  insertedAt: string;
}

/** One event to append. `type` defaults to "content". */
export interface EventInput {
  type?: string | null;
  payload: JsonObject;
  actor?: string | null;
  source?: string | null;
  metadata?: JsonObject | null;
  refs?: JsonValue | null;
  idempotencyKey?: string | null;
  producerId?: string | null;
  producerSeq?: number | null;
  expectedSeq?: number | null;
}

export interface AppendResult {
  seq: number;
  lastSeq: number;
  deduped: boolean;
}
