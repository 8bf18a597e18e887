import type { EventColumn, JsonProjection } from "../../src/db/events.ts";
import type { StoredEvent } from "../../src/db/types.ts";

/** Every stored column with the field a row (StoredEvent) carries it as: the full projection of the JSON readers. */
export const EVENT_COLUMN_FIELDS: readonly [EventColumn, keyof StoredEvent][] = [
  ["seq", "seq"],
  ["session_id", "sessionId"],
  ["type", "type"],
  ["payload", "payload"],
  ["actor", "actor"],
  ["source", "source"],
  ["metadata", "metadata"],
  ["refs", "refs"],
  ["idempotency_key", "idempotencyKey"],
  ["producer_id", "producerId"],
  ["producer_seq", "producerSeq"],
  ["inserted_at", "insertedAt"],
];

/** Every column, under the row's field names. */
export const ALL_COLUMNS: JsonProjection = {
  fields: EVENT_COLUMN_FIELDS.map(([f]) => f),
  keys: EVENT_COLUMN_FIELDS.map(([, k]) => k),
};
