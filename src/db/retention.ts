import type { Sql } from "./client.ts";
import { mapErrors, StarciteError } from "./errors.ts";
import type { RetentionPolicyInfo } from "@starcite/sdk/protocol";

/** A retention policy in force: the session's own, or its tenant's (`scope`), or none (`scope` null). */
export type RetentionPolicy = RetentionPolicyInfo;

interface PolicyRow {
  scope: "session" | "tenant" | null;
  max_age_seconds: number | null;
  max_events: number | null;
  archive: boolean | null;
}

const toPolicy = (r: PolicyRow): RetentionPolicy => ({
  scope: r.scope,
  maxAgeSeconds: r.max_age_seconds,
  maxEvents: r.max_events,
  archive: r.archive ?? false,
});

export interface SetRetentionInput {
  tenantId: string;
  /** Omitted: the tenant's policy. */
  sessionId?: string | null;
  maxAgeSeconds?: number | null;
  maxEvents?: number | null;
  archive?: boolean;
}

export async function setRetention(sql: Sql, input: SetRetentionInput): Promise<RetentionPolicy> {
  const seconds = input.maxAgeSeconds ?? null;
  if (seconds !== null && (!Number.isSafeInteger(seconds) || seconds < 1)) {
    throw new StarciteError("invalid_argument", "maxAgeSeconds must be a positive whole number of seconds", { field: "max_age" });
  }
  const [row] = await mapErrors(
    () => sql<PolicyRow[]>`
    select p.scope, extract(epoch from p.max_age)::bigint as max_age_seconds, p.max_events, p.archive
    from starcite.set_retention(max_age => make_interval(secs => ${seconds}::bigint), max_events => ${input.maxEvents ?? null}::bigint,
      archive => ${input.archive ?? false}, session_id => ${input.sessionId ?? null}, tenant_id => ${input.tenantId}) p`,
  );
  return toPolicy(row!);
}

export async function clearRetention(sql: Sql, tenantId: string, sessionId: string | null): Promise<boolean> {
  const [row] = await mapErrors(
    () => sql<{ cleared: boolean }[]>`
    select starcite.clear_retention(${sessionId}, ${tenantId}) as cleared`,
  );
  return row!.cleared;
}

export async function getRetention(sql: Sql, tenantId: string, sessionId: string | null): Promise<RetentionPolicy> {
  const [row] = await mapErrors(
    () => sql<PolicyRow[]>`
    select p.scope, extract(epoch from p.max_age)::bigint as max_age_seconds, p.max_events, p.archive
    from starcite.get_retention(${sessionId}, ${tenantId}) p`,
  );
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
  const [row] = await mapErrors(
    () => sql<{ deleted: number; first_seq: number | null; more: boolean }[]>`
    select * from starcite.trim_session(${sessionId}, ${maxEvents})`,
  );
  return { deleted: row!.deleted, firstSeq: row!.first_seq, more: row!.more };
}

/** Sessions trim_session can shorten now. */
export async function retentionDue(sql: Sql, maxSessions: number): Promise<string[]> {
  const rows = await mapErrors(() => sql<{ session_id: string }[]>`select session_id from starcite.retention_due(${maxSessions})`);
  return rows.map((r) => r.session_id);
}

/** Tenants whose policy has a max_age, which also bounds how long their session changes are kept. */
export async function tenantsWithChangeRetention(sql: Sql): Promise<string[]> {
  const rows = await mapErrors(
    () => sql<{ tenant_id: string }[]>`
    select tenant_id from starcite.retention_policies where session_id is null and max_age is not null order by tenant_id`,
  );
  return rows.map((r) => r.tenant_id);
}

/** Deletes up to maxChanges of a tenant's expired session changes; returns how many went. */
export async function trimChanges(sql: Sql, tenantId: string, maxChanges: number): Promise<number> {
  const [row] = await mapErrors(() => sql<{ n: number }[]>`select starcite.trim_changes(${tenantId}, ${maxChanges}) as n`);
  return row!.n;
}
