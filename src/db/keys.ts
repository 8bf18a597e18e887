import type { Sql } from "./client.ts";
import { mapErrors, mapReadErrors } from "./errors.ts";

export interface ApiKey {
  id: string;
  tenantId: string;
  name: string;
  keyPrefix: string;
  scopes: string[];
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

interface ApiKeyRow {
  id: string;
  tenant_id: string;
  name: string;
  key_prefix: string;
  scopes: string[];
  created_at: string;
  expires_at: string | null;
  revoked_at?: string | null;
}

const toApiKey = (r: ApiKeyRow): ApiKey => ({
  id: r.id,
  tenantId: r.tenant_id,
  name: r.name,
  keyPrefix: r.key_prefix,
  scopes: r.scopes,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  revokedAt: r.revoked_at ?? null,
});

export interface CreateApiKeyInput {
  tenantId: string;
  name: string;
  scopes?: string[] | null;
  expiresAt?: string | null;
  /**
   * The scopes of the credential creating the key. Unless they include admin, the new key may hold only scopes
   * among them (forbidden_scope otherwise). Omitted: a trusted caller (the server's own bootstrap, a DBA).
   */
  creatorScopes?: readonly string[] | null;
}

/** Creates a key (and its tenant if new). The secret is returned here once and never stored. */
export async function createApiKey(sql: Sql, input: CreateApiKeyInput): Promise<{ key: ApiKey; secret: string }> {
  const [row] = await mapErrors(
    () => sql<(ApiKeyRow & { secret: string })[]>`
    select * from starcite.create_api_key(${input.tenantId}, ${input.name},
      coalesce(${input.scopes ?? null}::text[], starcite.default_key_scopes()),
      ${input.expiresAt ?? null}::timestamptz, ${input.creatorScopes ? [...input.creatorScopes] : null}::text[])`,
  );
  return { key: toApiKey(row!), secret: row!.secret };
}

export interface AuthenticatedKey {
  keyId: string;
  tenantId: string;
  scopes: string[];
  expiresAt: string | null;
}

/** Throws StarciteError `unauthorized` for unknown, revoked and expired keys. */
export async function authenticateApiKey(sql: Sql, secret: string): Promise<AuthenticatedKey> {
  const [row] = await mapReadErrors(
    () => sql<{ key_id: string; tenant_id: string; scopes: string[]; expires_at: string | null }[]>`
    select * from starcite.authenticate_api_key(${secret})`,
  );
  return { keyId: row!.key_id, tenantId: row!.tenant_id, scopes: row!.scopes, expiresAt: row!.expires_at };
}

export async function listApiKeys(sql: Sql, tenantId: string | null): Promise<ApiKey[]> {
  const rows = await mapReadErrors(() => sql<ApiKeyRow[]>`select * from starcite.list_api_keys(${tenantId})`);
  return rows.map(toApiKey);
}

export async function revokeApiKey(sql: Sql, id: string, tenantId: string | null): Promise<ApiKey> {
  const [row] = await mapErrors(() => sql<ApiKeyRow[]>`select * from starcite.revoke_api_key(${id}, ${tenantId})`);
  return toApiKey(row!);
}

export async function countApiKeys(sql: Sql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from starcite.api_keys`;
  return row!.n;
}
