import type { Sql } from "./client.ts";
import { mapErrors } from "./errors.ts";
import type { SessionChange, SessionChangeKind } from "./types.ts";

interface ChangeRow {
  tenant_id: string;
  seq: number;
  session_id: string;
  kind: SessionChangeKind;
  version: number;
  archived: boolean;
  changed_at: string;
}

const toChange = (r: ChangeRow): SessionChange => ({
  seq: r.seq,
  sessionId: r.session_id,
  kind: r.kind,
  version: r.version,
  archived: r.archived,
  changedAt: r.changed_at,
});

/** The tenant's session changes with seq > afterSeq in commit order (`starcite.read_changes`). */
export async function readChanges(sql: Sql, tenantId: string, afterSeq: number, limit: number): Promise<SessionChange[]> {
  const rows = await mapErrors(() => sql<ChangeRow[]>`select * from starcite.read_changes(${afterSeq}, ${limit}, ${tenantId})`);
  return rows.map(toChange);
}

/** The seq of the tenant's newest session change (0 when none). */
export async function lastChangeSeq(sql: Sql, tenantId: string): Promise<number> {
  const [row] = await mapErrors(() => sql<{ seq: number }[]>`select starcite.last_change_seq(${tenantId}) as seq`);
  return row!.seq;
}
