import type { Sql } from "./client.ts";
import { mapErrors, mapReadErrors } from "./errors.ts";
import { toSession, type SessionRow } from "./rows.ts";
import type { JsonObject, Session } from "./types.ts";

/** Every call acts within one tenant; omitted, the connection's starcite.tenant_id setting or "default". */
export interface TenantScoped {
  tenantId?: string | null;
}

export interface CreateSessionInput extends TenantScoped {
  id?: string | null;
  title?: string | null;
  metadata?: JsonObject | null;
}

export async function createSession(sql: Sql, input: CreateSessionInput = {}): Promise<Session> {
  const [row] = await mapErrors(
    () =>
      sql<
        SessionRow[]
      >`select * from starcite.create_session(${input.id ?? null}, ${input.title ?? null}, ${input.metadata ? sql.json(input.metadata) : null}::jsonb, ${input.tenantId ?? null})`,
  );
  return toSession(row!);
}

export async function getSession(sql: Sql, id: string, tenantId?: string | null): Promise<Session | null> {
  const [row] = await mapReadErrors(
    () => sql<SessionRow[]>`select * from starcite.get_session(${id}, ${tenantId ?? null}) where id is not null`,
  );
  return row ? toSession(row) : null;
}

export interface ListSessionsInput extends TenantScoped {
  limit?: number;
  after?: string | null;
  archived?: boolean;
}

export async function listSessions(sql: Sql, input: ListSessionsInput = {}): Promise<Session[]> {
  const rows = await mapReadErrors(
    () =>
      sql<
        SessionRow[]
      >`select * from starcite.list_sessions(${input.limit ?? 100}, ${input.after ?? null}, ${input.archived ?? false}, ${input.tenantId ?? null})`,
  );
  return rows.map(toSession);
}

export interface UpdateSessionInput extends TenantScoped {
  id: string;
  title?: string | null;
  metadata?: JsonObject | null;
  expectedVersion?: number | null;
  archived?: boolean | null;
}

export async function updateSession(sql: Sql, input: UpdateSessionInput): Promise<Session> {
  const [row] = await mapErrors(
    () =>
      sql<SessionRow[]>`select * from starcite.update_session(${input.id}, ${input.title ?? null},
      ${input.metadata ? sql.json(input.metadata) : null}::jsonb, ${input.expectedVersion ?? null}, ${input.archived ?? null}, ${input.tenantId ?? null})`,
  );
  return toSession(row!);
}

/** Deletes a session and its events; returns what it was. */
export async function deleteSession(sql: Sql, id: string, tenantId?: string | null): Promise<Session> {
  const [row] = await mapErrors(() => sql<SessionRow[]>`select * from starcite.delete_session(${id}, ${tenantId ?? null})`);
  return toSession(row!);
}

/**
 * Each listed session's last_seq, whatever its tenant (the live hub re-reads the positions of the sessions it
 * follows after a LISTEN reconnect). Ids that do not exist are left out.
 */
export async function lastSeqs(sql: Sql, ids: readonly string[]): Promise<Map<string, number>> {
  const rows = await mapErrors(
    () => sql<{ id: string; last_seq: number }[]>`
    select id, last_seq from starcite.sessions where id = any(${[...ids]}::text[])`,
  );
  return new Map(rows.map((r) => [r.id, r.last_seq]));
}
