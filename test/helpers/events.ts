import type { Sql } from "../../src/db/client.ts";
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

/** Bytes of the filler string in each bulk event's payload (`{"i": n, "filler": "xxx..."}`). */
export const BULK_FILLER_BYTES = 4000;

/**
 * Appends `total` events of ~4 KB each to a session (payload `{i, filler}`, i from 0), in atomic batches of 500
 * through SQL: far more bytes than kernel socket buffers hold, to fill a reader that stops reading.
 */
export async function appendBulk(sql: Sql, sessionId: string, total: number): Promise<void> {
  const filler = "x".repeat(BULK_FILLER_BYTES);
  for (let start = 0; start < total; start += 500) {
    const batch = Array.from({ length: Math.min(500, total - start) }, (_, k) => ({ type: "chunk", payload: { i: start + k, filler } }));
    await sql`select * from starcite.append_batch(${sessionId}, ${sql.json(batch)}, true)`;
  }
}
