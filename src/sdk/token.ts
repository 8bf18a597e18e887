import { StarciteError } from "./errors.ts";
import type { PrincipalType } from "./protocol.ts";

export interface SessionTokenClaims {
  sessionId: string;
  tenantId: string | undefined;
  principal: { type: PrincipalType; id: string } | undefined;
  scopes: string[];
  /** Epoch ms. */
  expiresAt: number | undefined;
}

function base64UrlDecode(segment: string): string {
  const b64 = segment
    .replace(/-/g, "+")
    .replace(/_/g, "/")
    .padEnd(Math.ceil(segment.length / 4) * 4, "=");
  const binary = atob(b64);
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/**
 * Reads a session token's claims WITHOUT verifying it (the server does that): enough to know which
 * session it is for, who it speaks for, and when it expires.
 */
export function decodeSessionToken(token: string): SessionTokenClaims {
  const parts = token.split(".");
  let claims: Record<string, unknown>;
  try {
    if (parts.length !== 3) throw new Error("not a JWT");
    claims = JSON.parse(base64UrlDecode(parts[1]!)) as Record<string, unknown>;
  } catch {
    throw new StarciteError("invalid_argument", "not a session token (expected a JWT from createSessionToken)");
  }
  if (typeof claims.sid !== "string" || claims.sid === "") {
    throw new StarciteError("invalid_argument", "the token names no session (no sid claim)");
  }
  const sub = typeof claims.sub === "string" ? /^(user|agent):(.+)$/.exec(claims.sub) : null;
  return {
    sessionId: claims.sid,
    tenantId: typeof claims.tid === "string" ? claims.tid : undefined,
    principal: sub ? { type: sub[1] as PrincipalType, id: sub[2]! } : undefined,
    scopes: typeof claims.scope === "string" ? claims.scope.split(" ").filter(Boolean) : [],
    expiresAt: typeof claims.exp === "number" ? claims.exp * 1000 : undefined,
  };
}
