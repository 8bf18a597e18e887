import { eventColumns, toEvent } from "../db/rows.ts";
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

/** A line: the events table's columns as `eventColumns` writes them (a binary message's bytes already in its payload). */
type ArchivedLine = ReturnType<typeof eventColumns>;

export function decodeSegment(text: string): StoredEvent[] {
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => toEvent({ ...(JSON.parse(line) as ArchivedLine), body: null }));
}
