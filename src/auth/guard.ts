import { StarciteError } from "../db/errors.ts";
import type { Principal, Scope, TokenPrincipal } from "./principal.ts";

/** What authentication produced for one request or WebSocket connection. */
export interface AuthState {
  principal?: Principal;
  /** Set when a credential was presented but rejected; raised by the first guard. */
  error?: StarciteError;
  /**
   * For long-lived connections: aborted, with the StarciteError as its reason, once the credential is revoked
   * or expires. Guards refuse new operations from then on, and running tails end with that error.
   */
  lapse?: AbortSignal;
}

export function requirePrincipal(auth: AuthState): Principal {
  if (auth.error) throw auth.error;
  if (auth.lapse?.aborted) throw auth.lapse.reason as StarciteError;
  const p = auth.principal;
  if (!p) throw new StarciteError("unauthorized", "missing credentials: send Authorization: Bearer <api key or session token>");
  if (p.expiresAt !== null && p.expiresAt <= Date.now()) {
    throw p.kind === "service"
      ? new StarciteError("unauthorized", "the API key has expired")
      : new StarciteError("token_expired", "the token has expired");
  }
  return p;
}

/** The caller must hold one of `scopes`. */
export function requireScope(auth: AuthState, ...scopes: Scope[]): Principal {
  const p = requirePrincipal(auth);
  if (!scopes.some((s) => p.scopes.has(s))) {
    throw new StarciteError("forbidden_scope", `this operation needs the ${scopes.join(" or ")} scope`, { required: scopes });
  }
  return p;
}

export const isToken = (p: Principal): p is TokenPrincipal => p.kind === "user" || p.kind === "agent";

/** Session tokens are pinned to one session; any other looks missing, exactly like another tenant's. */
export function requireSession(p: Principal, sessionId: string): void {
  if (isToken(p) && p.sessionId !== sessionId) {
    throw new StarciteError("session_not_found", `session ${sessionId} does not exist`, { session_id: sessionId });
  }
}

/** Operations only a backend (API key or identity-provider user) may perform. */
export function forbidTokens(p: Principal, what: string): void {
  if (isToken(p)) throw new StarciteError("forbidden_scope", `a session token cannot ${what}`);
}

/**
 * The actor recorded on an append. Session tokens and identity-provider users write as themselves and
 * may not claim anyone else; API keys (backends) may set any actor.
 */
export function actorFor(p: Principal, requested: string | null | undefined): string | null {
  const own = isToken(p) ? `${p.kind}:${p.id}` : p.kind === "external" ? `user:${p.subject}` : null;
  if (own === null) return requested ?? null;
  if (requested != null && requested !== own) {
    throw new StarciteError("forbidden_actor", `this credential appends as ${own} and cannot set actor ${JSON.stringify(requested)}`, {
      actor: own,
    });
  }
  return own;
}
