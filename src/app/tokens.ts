import { forbidTokens, requirePrincipal } from "../auth/guard.ts";
import { isScope, TOKEN_SCOPES, type Scope } from "../auth/principal.ts";
import { StarciteError } from "../db/errors.ts";
import { getSession } from "../db/sessions.ts";
import { checkSessionRef } from "../write/validate.ts";
import type { AppContext } from "./context.ts";
import { notFound } from "./sessions.ts";

/** Longest lifetime of a session token, in seconds (7 days). */
export const MAX_TOKEN_TTL_SECONDS = 7 * 24 * 3600;
export const DEFAULT_TOKEN_TTL_SECONDS = 3600;

export interface MintRequest {
  sessionId: string;
  principal: { type: string; id: string };
  scopes?: readonly string[] | null;
  ttlSeconds?: number | null;
}

/**
 * Mints a session token for a browser or agent: only a backend may, only for a session of its tenant,
 * with at most the scopes the caller holds.
 */
export async function mint(ctx: AppContext, input: MintRequest): Promise<{ token: string; expiresAt: Date; ttlSeconds: number }> {
  const p = requirePrincipal(ctx.auth);
  forbidTokens(p, "mint tokens");
  const scopes = input.scopes ?? ["session:read", "session:append"];
  const bad = scopes.filter((s) => !isScope(s) || !TOKEN_SCOPES.includes(s));
  if (bad.length || scopes.length === 0) {
    throw new StarciteError("invalid_argument", `token scopes must be a non-empty subset of ${TOKEN_SCOPES.join(", ")}`, {
      field: "scopes",
    });
  }
  const missing = scopes.filter((s) => !p.scopes.has(s as Scope));
  if (missing.length) {
    throw new StarciteError("forbidden_scope", `cannot grant scopes you do not hold: ${missing.join(", ")}`, { required: missing });
  }
  const ttl = input.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TOKEN_TTL_SECONDS) {
    throw new StarciteError("invalid_argument", `ttl must be between 1 and ${MAX_TOKEN_TTL_SECONDS} seconds`, { field: "ttl_seconds" });
  }
  const { type, id } = input.principal;
  if (type !== "user" && type !== "agent") {
    throw new StarciteError("invalid_argument", "principal type must be user or agent", { field: "principal.type" });
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9_.@:-]{0,127}$/.test(id)) {
    throw new StarciteError("invalid_argument", "principal id must be 1-128 characters of [A-Za-z0-9_.@:-]", { field: "principal.id" });
  }
  checkSessionRef(input.sessionId);
  if (!(await getSession(ctx.sql, input.sessionId, p.tenantId))) throw notFound(input.sessionId);
  const minted = await ctx.authenticator.tokens.mint({
    tenantId: p.tenantId,
    sessionId: input.sessionId,
    principal: { type, id },
    scopes: scopes as Scope[],
    ttlSeconds: ttl,
  });
  return { ...minted, ttlSeconds: ttl };
}
