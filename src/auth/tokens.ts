import { randomUUID } from "node:crypto";
import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import { StarciteError } from "../db/errors.ts";
import { isScope, TOKEN_SCOPES, type Scope, type TokenPrincipal } from "./principal.ts";

export const TOKEN_ISSUER = "starcite";
export const TOKEN_AUDIENCE = "starcite";

export interface MintInput {
  tenantId: string;
  sessionId: string;
  principal: { type: "user" | "agent"; id: string };
  scopes: readonly Scope[];
  ttlSeconds: number;
}

/** Session tokens: HS256 JWTs pinned to one session and one principal (`sub` = "<type>:<id>"). */
export class SessionTokens {
  readonly #key: Uint8Array;

  constructor(secret: string) {
    if (secret.length < 32) throw new Error("STARCITE_TOKEN_SECRET must be at least 32 characters");
    this.#key = new TextEncoder().encode(secret);
  }

  async mint(input: MintInput): Promise<{ token: string; expiresAt: Date }> {
    const now = Math.floor(Date.now() / 1000);
    const exp = now + input.ttlSeconds;
    const token = await new SignJWT({ tid: input.tenantId, sid: input.sessionId, scope: input.scopes.join(" ") })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setSubject(`${input.principal.type}:${input.principal.id}`)
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(this.#key);
    return { token, expiresAt: new Date(exp * 1000) };
  }

  /** Verifies signature, issuer, audience and expiry; `token_expired` or `unauthorized` otherwise. */
  async verify(token: string): Promise<TokenPrincipal> {
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.#key, { issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE, algorithms: ["HS256"] }));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw new StarciteError("token_expired", "the session token has expired");
      throw new StarciteError("unauthorized", "invalid session token");
    }
    const sub = typeof payload.sub === "string" ? payload.sub : "";
    const match = /^(user|agent):(.+)$/.exec(sub);
    const { tid, sid, scope } = payload as { tid?: unknown; sid?: unknown; scope?: unknown };
    if (!match || typeof tid !== "string" || typeof sid !== "string" || typeof scope !== "string" || typeof payload.exp !== "number") {
      throw new StarciteError("unauthorized", "invalid session token");
    }
    const scopes = scope
      .split(" ")
      .filter(isScope)
      .filter((s) => TOKEN_SCOPES.includes(s));
    return {
      kind: match[1] as "user" | "agent",
      id: match[2]!,
      tenantId: tid,
      sessionId: sid,
      scopes: new Set(scopes),
      expiresAt: payload.exp * 1000,
    };
  }
}
