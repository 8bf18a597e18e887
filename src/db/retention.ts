import type { Sql } from "./client.ts";
import { mapErrors } from "./errors.ts";

/** A retention policy in force: the session's own, or its tenant's (`scope`), or none (`scope` null). */
export interface RetentionPolicy {
  scope: "session" | "tenant" | null;
  /** Postgres interval text, e.g. "7 days" or "01:00:00". */
  maxAge: string | null;
  maxEvents: number | null;
  archive: boolean;
}

interface PolicyRow {
  scope: "session" | "tenant" | null;
  max_age: string | null;
  max_events: number | null;
  archive: boolean | null;
}

const toPolicy = (r: PolicyRow): RetentionPolicy => ({
  scope: r.scope,
  maxAge: r.max_age,
  maxEvents: r.max_events,
  archive: r.archive ?? false,
});

export interface SetRetentionInput {
  tenantId: string;
  /** Omitted: the tenant's policy. */
  sessionId?: string | null;
  /** Any Postgres interval, e.g. "30 days", "12 hours", "P7D". */
  maxAge?: string | null;
  maxEvents?: number | null;
  archive?: boolean;
}

export async function setRetention(sql: Sql, input: SetRetentionInput): Promise<RetentionPolicy> {
  const [row] = await mapErrors(() => sql<PolicyRow[]>`
    select * from starcite.set_retention(max_age => ${input.maxAge ?? null}::interval, max_events => ${input.maxEvents ?? null}::bigint,
      archive => ${input.archive ?? false}, session_id => ${input.sessionId ?? null}, tenant_id => ${input.tenantId})`);
  return toPolicy(row!);
}

export async function clearRetention(sql: Sql, tenantId: string, sessionId: string | null): Promise<boolean> {
  const [row] = await mapErrors(() => sql<{ cleared: boolean }[]>`
    select starcite.clear_retention(${sessionId}, ${tenantId}) as cleared`);
  return row!.cleared;
}

export async function getRetention(sql: Sql, tenantId: string, sessionId: string | null): Promise<RetentionPolicy> {
  const [row] = await mapErrors(() => sql<PolicyRow[]>`select * from starcite.get_retention(${sessionId}, ${tenantId})`);
  return toPolicy(row!);
}

export interface TrimResult {
  deleted: number;
  firstSeq: number | null;
  /** More expired events remain: call again. */
  more: boolean;
}

/** One small retention step for one session (`starcite.trim_session`), in its own transaction. */
export async function trimSession(sql: Sql, sessionId: string, maxEvents: number): Promise<TrimResult> {
  const [row] = await mapErrors(() => sql<{ deleted: number; first_seq: number | null; more: boolean }[]>`
    select * from starcite.trim_session(${sessionId}, ${maxEvents})`);
  return { deleted: row!.deleted, firstSeq: row!.first_seq, more: row!.more };
}

/** Sessions trim_session can shorten now. */
export async function retentionDue(sql: Sql, maxSessions: number): Promise<string[]> {
  const rows = await mapErrors(() => sql<{ session_id: string }[]>`select session_id from starcite.retention_due(${maxSessions})`);
  return rows.map((r) => r.session_id);
}

/** Tenants whose policy has a max_age, which also bounds how long their session changes are kept. */
export async function tenantsWithChangeRetention(sql: Sql): Promise<string[]> {
  const rows = await mapErrors(() => sql<{ tenant_id: string }[]>`
    select tenant_id from starcite.retention_policies where session_id is null and max_age is not null order by tenant_id`);
  return rows.map((r) => r.tenant_id);
}

/** Deletes up to maxChanges of a tenant's expired session changes; returns how many went. */
export async function trimChanges(sql: Sql, tenantId: string, maxChanges: number): Promise<number> {
  const [row] = await mapErrors(() => sql<{ n: number }[]>`select starcite.trim_changes(${tenantId}, ${maxChanges}) as n`);
  return row!.n;
}
