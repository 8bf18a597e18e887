import type { Sql } from "./client.ts";
import { mapErrors } from "./errors.ts";

export interface ArchiveRange {
  sessionId: string;
  tenantId: string;
  fromSeq: number;
  toSeq: number;
}

export interface ArchiveSegment {
  sessionId: string;
  fromSeq: number;
  toSeq: number;
  objectKey: string;
  bytes: number;
}

/** Sessions with expired events their policy wants archived and that are not archived yet. */
export async function archiveDue(sql: Sql, maxSessions: number): Promise<string[]> {
  const rows = await mapErrors(() => sql<{ session_id: string }[]>`select session_id from starcite.archive_due(${maxSessions})`);
  return rows.map((r) => r.session_id);
}

/** The next range of one session to archive, or null. */
export async function archiveRange(sql: Sql, sessionId: string, maxEvents: number): Promise<ArchiveRange | null> {
  const [row] = await mapErrors(
    () => sql<{ tenant_id: string; from_seq: number; to_seq: number }[]>`
    select * from starcite.archive_range(${sessionId}, ${maxEvents})`,
  );
  return row ? { sessionId, tenantId: row.tenant_id, fromSeq: row.from_seq, toSeq: row.to_seq } : null;
}

/** Records an archived object; false when the range was recorded already. */
export async function recordArchiveSegment(sql: Sql, segment: ArchiveSegment): Promise<boolean> {
  const [row] = await mapErrors(
    () => sql<{ recorded: boolean }[]>`
    select starcite.record_archive_segment(${segment.sessionId}, ${segment.fromSeq}, ${segment.toSeq},
      ${segment.objectKey}, ${segment.bytes}) as recorded`,
  );
  return row!.recorded;
}

/** The archived object holding `seq` of the session (in the caller's tenant), or null. */
export async function archiveSegment(sql: Sql, sessionId: string, seq: number, tenantId?: string | null): Promise<ArchiveSegment | null> {
  const [row] = await mapErrors(
    () => sql<{ session_id: string; from_seq: number; to_seq: number; object_key: string; bytes: number }[]>`
    select * from starcite.archive_segment(${sessionId}, ${seq}, ${tenantId ?? null})`,
  );
  return row ? { sessionId: row.session_id, fromSeq: row.from_seq, toSeq: row.to_seq, objectKey: row.object_key, bytes: row.bytes } : null;
}
