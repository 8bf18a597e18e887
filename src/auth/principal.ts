export const SCOPES = ["session:create", "session:read", "session:append", "keys:admin", "tenant:admin", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

/** Scopes a session token may carry: tokens read and write their one session, nothing else. */
export const TOKEN_SCOPES: readonly Scope[] = ["session:read", "session:append"];

export const isScope = (s: string): s is Scope => (SCOPES as readonly string[]).includes(s);

/** A backend holding an API key: acts for its tenant and may set `actor` freely. */
export interface ServicePrincipal {
  kind: "service";
  tenantId: string;
  scopes: ReadonlySet<Scope>;
  keyId: string | null;
  /** Epoch ms when the key expires, if it does. */
  expiresAt: number | null;
}

/** A browser or agent holding a session token: pinned to one session; its events' actor is `<type>:<id>`. */
export interface TokenPrincipal {
  kind: "user" | "agent";
  id: string;
  tenantId: string;
  sessionId: string;
  scopes: ReadonlySet<Scope>;
  expiresAt: number;
}

/** A user authenticated by an external identity provider's JWT: tenant-wide, actor `user:<sub>`. */
export interface ExternalPrincipal {
  kind: "external";
  subject: string;
  tenantId: string;
  scopes: ReadonlySet<Scope>;
  expiresAt: number | null;
}

export type Principal = ServicePrincipal | TokenPrincipal | ExternalPrincipal;

export function describePrincipal(p: Principal): string {
  switch (p.kind) {
    case "service":
      return p.keyId ? `api key ${p.keyId}` : "service";
    case "external":
      return `user:${p.subject}`;
    default:
      return `${p.kind}:${p.id}`;
  }
}
