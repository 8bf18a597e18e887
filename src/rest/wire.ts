import type { RestAppendResult, RestEvent, RestSession, RestSessionChange } from "@starcite/sdk/protocol";
import { eventColumns } from "../db/rows.ts";
import type { AppendResult, Session, SessionChange, StoredEvent } from "../db/types.ts";

/** The data layer's records in REST's snake_case shapes. */

export const sessionJson = (s: Session): RestSession => ({
  id: s.id,
  title: s.title,
  metadata: s.metadata,
  last_seq: s.lastSeq,
  archived: s.archived,
  version: s.version,
  created_at: s.createdAt,
  updated_at: s.updatedAt,
});

export const eventJson = (e: StoredEvent): RestEvent => eventColumns(e);

export const changeJson = (c: SessionChange): RestSessionChange => ({
  seq: c.seq,
  session_id: c.sessionId,
  kind: c.kind,
  version: c.version,
  archived: c.archived,
  changed_at: c.changedAt,
});

export const appendResultJson = (r: AppendResult): RestAppendResult => ({ seq: r.seq, last_seq: r.lastSeq, deduped: r.deduped });

/**
 * An event's JSON text, computed once per event object: tails at the same point of a session receive the
 * very same event objects from the feed's ring, so a thousand readers cost one serialisation.
 */
const texts = new WeakMap<StoredEvent, string>();
export function eventText(e: StoredEvent): string {
  let text = texts.get(e);
  if (text === undefined) {
    text = JSON.stringify(eventJson(e));
    texts.set(e, text);
  }
  return text;
}
