import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from "jose";
import type { Sql } from "../db/client.ts";
import { StarciteError, toStarciteError } from "../db/errors.ts";
import type { AuthState } from "./guard.ts";
import { FailureLimiter, type FailureLimit } from "./limiter.ts";
import { authenticateApiKey } from "../db/keys.ts";
import { isScope, SCOPES, type Principal, type ServicePrincipal } from "./principal.ts";
import type { SessionTokens } from "./tokens.ts";

export interface ExternalJwtConfig {
  jwksUrl: string;
  issuer?: string;
  audience?: string;
}

export interface AuthenticatorOptions {
  /** "none": every request acts as a service principal of the default tenant with every scope (local experiments only). */
  mode: "required" | "none";
  tokens: SessionTokens;
  external?: ExternalJwtConfig;
  /** How long a verified API key is trusted without asking the database again (revocation through this server is immediate). */
  keyCacheMs?: number;
  /** Failed authentications per client address before it must wait (default: src/shared/limits.ts). */
  failureLimit?: FailureLimit;
}

const DEV_PRINCIPAL: ServicePrincipal = {
  kind: "service",
  tenantId: "default",
  scopes: new Set(SCOPES),
  keyId: null,
  expiresAt: null,
};

/** API keys are ~30 characters and session tokens a few hundred; external JWTs stay well below this. */
const MAX_CREDENTIAL_CHARS = 8192;

/** Reads "Bearer <credential>"; anything else is not a credential. */
export function bearer(header: string | null | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : undefined;
}

/**
 * Turns a credential into a Principal: API keys (`sk_...`, checked in SQL by hash), starcite session
 * tokens (HS256 JWTs), and optionally JWTs of an external identity provider (RS256 via JWKS).
 * Never puts the credential itself into an error or a log line.
 */
export class Authenticator {
  readonly mode: "required" | "none";
  readonly tokens: SessionTokens;
  readonly #jwks: JWTVerifyGetKey | undefined;
  readonly #external: ExternalJwtConfig | undefined;
  readonly #keyCacheMs: number;
  readonly #keyCache = new Map<string, { principal: ServicePrincipal; verifiedAt: number }>();
  readonly #limiter: FailureLimiter;

  constructor(
    private readonly sql: Sql,
    options: AuthenticatorOptions,
  ) {
    this.mode = options.mode;
    this.tokens = options.tokens;
    this.#external = options.external;
    this.#jwks = options.external ? createRemoteJWKSet(new URL(options.external.jwksUrl)) : undefined;
    this.#keyCacheMs = options.keyCacheMs ?? 5000;
    this.#limiter = new FailureLimiter(options.failureLimit);
  }

  /** How long a verified API key is trusted without asking the database again. */
  get keyCacheMs(): number {
    return this.#keyCacheMs;
  }

  /** undefined: no credential was presented (and auth is required). */
  async authenticate(credential: string | undefined, options: { maxAgeMs?: number } = {}): Promise<Principal | undefined> {
    if (this.mode === "none") return DEV_PRINCIPAL;
    if (!credential) return undefined;
    // Never hand the database (or a JWT parser) a string no real credential can be.
    if (credential.length > MAX_CREDENTIAL_CHARS || !/^[\x21-\x7e]+$/.test(credential)) {
      throw new StarciteError("unauthorized", "unrecognised credential: expected an API key (sk_...) or a session token");
    }
    if (credential.startsWith("sk_")) return this.#apiKey(credential, options.maxAgeMs ?? this.#keyCacheMs);
    if (credential.split(".").length === 3) {
      const issuer = peekIssuer(credential);
      if (issuer === "starcite" || !this.#jwks) return this.tokens.verify(credential);
      return this.#externalJwt(credential);
    }
    throw new StarciteError("unauthorized", "unrecognised credential: expected an API key (sk_...) or a session token");
  }

  /**
   * The AuthState of a request or connection: a principal, nothing (no credential), or the reason a presented
   * credential was refused. Never throws: a database failure while checking becomes `database_unavailable`.
   */
  async state(credential: string | undefined, options: { client?: string; maxAgeMs?: number } = {}): Promise<AuthState> {
    const { client } = options;
    if (client !== undefined && credential && this.mode === "required") {
      const wait = this.#limiter.retryAfterMs(client);
      if (wait > 0) {
        return {
          error: new StarciteError("too_many_requests", "too many failed authentications from this address; try again later", {
            retry_after_ms: wait,
          }),
        };
      }
    }
    try {
      const principal = await this.authenticate(credential, options);
      return principal ? { principal } : {};
    } catch (error) {
      const mapped = toStarciteError(error);
      if (client !== undefined && mapped instanceof StarciteError && mapped.code === "unauthorized") this.#limiter.failed(client);
      return {
        error: mapped instanceof StarciteError ? mapped : new StarciteError("database_unavailable", "could not check the credential"),
      };
    }
  }

  async #apiKey(secret: string, maxAgeMs: number): Promise<ServicePrincipal> {
    const cached = this.#keyCache.get(secret);
    const now = Date.now();
    if (cached && now - cached.verifiedAt < maxAgeMs && (cached.principal.expiresAt === null || cached.principal.expiresAt > now)) {
      return cached.principal;
    }
    const key = await authenticateApiKey(this.sql, secret);
    const principal: ServicePrincipal = {
      kind: "service",
      tenantId: key.tenantId,
      scopes: new Set(key.scopes.filter(isScope)),
      keyId: key.keyId,
      expiresAt: key.expiresAt ? Date.parse(key.expiresAt) : null,
    };
    if (this.#keyCache.size > 10_000) this.#keyCache.clear();
    this.#keyCache.set(secret, { principal, verifiedAt: now });
    return principal;
  }

  /** Forgets cached verifications of a key, so its revocation takes effect at once in this process. */
  forgetKey(keyId: string): void {
    for (const [secret, entry] of this.#keyCache) if (entry.principal.keyId === keyId) this.#keyCache.delete(secret);
  }

  async #externalJwt(token: string): Promise<Principal> {
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.#jwks!, {
        algorithms: ["RS256"],
        ...(this.#external?.issuer ? { issuer: this.#external.issuer } : {}),
        ...(this.#external?.audience ? { audience: this.#external.audience } : {}),
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw new StarciteError("token_expired", "the token has expired");
      throw new StarciteError("unauthorized", "invalid token");
    }
    const tenantId = payload.tenant_id;
    const raw = payload.scope ?? payload.scopes;
    const scopes = (Array.isArray(raw) ? raw : typeof raw === "string" ? raw.split(" ") : []).filter(
      (s): s is string => typeof s === "string",
    );
    if (typeof tenantId !== "string" || typeof payload.sub !== "string") {
      throw new StarciteError("unauthorized", "token lacks tenant_id or sub claims");
    }
    return {
      kind: "external",
      subject: payload.sub,
      tenantId,
      // An identity provider cannot grant operator rights.
      scopes: new Set(scopes.filter(isScope).filter((s) => s !== "admin")),
      expiresAt: typeof payload.exp === "number" ? payload.exp * 1000 : null,
    };
  }
}

function peekIssuer(jwt: string): string | undefined {
  try {
    const body = JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString("utf8")) as { iss?: unknown };
    return typeof body.iss === "string" ? body.iss : undefined;
  } catch {
    return undefined;
  }
}
