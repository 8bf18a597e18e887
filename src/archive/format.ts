import { eventColumns } from "../db/rows.ts";
import type { StoredEvent } from "../db/types.ts";

/**
 * The archive format: one object per archived range of one session, named
 *   <tenant>/<session>/<from_seq>-<to_seq>.ndjson   (seqs zero-padded to 20 digits, ids URI-encoded)
 * holding one JSON object per line, one line per event in seq order, with the fields of the events table:
 *   {"session_id", "seq", "type", "payload", "actor", "source", "metadata", "refs", "idempotency_key",
 *    "producer_id", "producer_seq", "inserted_at"}
 * so that any tool can read an archive without starcite.
 */
export function segmentKey(tenantId: string, sessionId: string, fromSeq: number, toSeq: number): string {
  const pad = (n: number) => String(n).padStart(20, "0");
  return `${encodeURIComponent(tenantId)}/${encodeURIComponent(sessionId)}/${pad(fromSeq)}-${pad(toSeq)}.ndjson`;
}

export function encodeSegment(events: readonly StoredEvent[]): string {
  return events.map((e) => JSON.stringify(eventColumns(e))).join("\n") + "\n";
}

interface ArchivedLine {
  session_id: string;
  seq: number;
  type: string;
  payload: StoredEvent["payload"];
  actor: string | null;
  source: string | null;
  metadata: StoredEvent["metadata"];
  refs: StoredEvent["refs"];
  idempotency_key: string | null;
  producer_id: string | null;
  producer_seq: number | null;
  inserted_at: string;
}

export function decodeSegment(text: string): StoredEvent[] {
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      const r = JSON.parse(line) as ArchivedLine;
      return {
        sessionId: r.session_id,
        seq: r.seq,
        type: r.type,
        payload: r.payload,
        actor: r.actor,
        source: r.source,
        metadata: r.metadata,
        refs: r.refs,
        idempotencyKey: r.idempotency_key,
        producerId: r.producer_id,
        producerSeq: r.producer_seq,
        insertedAt: r.inserted_at,
      };
    });
}
