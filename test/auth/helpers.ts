import { SignJWT } from "jose";
import { createApiKey } from "../../src/db/keys.ts";
import type { Sql } from "../../src/db/client.ts";
import { TEST_TOKEN_SECRET, startTestServer, type TestServer } from "../helpers/server.ts";

export const ALL_SCOPES = ["session:create", "session:read", "session:append", "keys:admin"];

export async function startAuthServer(options: { logger?: import("../../src/shared/logger.ts").Logger } = {}): Promise<TestServer> {
  return startTestServer({
    // These files try many bad credentials from one address on purpose; the limit itself is tested in test/hostile/http.test.ts.
    auth: { mode: "required", tokenSecret: TEST_TOKEN_SECRET, failureLimit: { failures: 0, windowMs: 1 } },
    ...(options.logger ? { logger: options.logger } : {}),
  });
}

export async function apiKey(sql: Sql, tenantId: string, scopes = ALL_SCOPES, expiresAt: string | null = null): Promise<string> {
  const { secret } = await createApiKey(sql, { tenantId, name: `key-${tenantId}-${scopes.length}`, scopes, expiresAt });
  return secret;
}

/** Expires a key in SQL (no waiting for the clock): the way an operator would, and what a short expiry reaches. */
export async function expireKey(sql: Sql, secret: string): Promise<void> {
  await sql`update starcite.api_keys set expires_at = now() - interval '1 second'
            where key_hash = sha256(convert_to(${secret}, 'UTF8'))`;
}

export const bearer = (credential: string | undefined): Record<string, string> =>
  credential === undefined ? {} : { authorization: `Bearer ${credential}` };

/** A session token signed with the server's secret but already expired (no waiting for the clock). */
export async function expiredToken(sessionId: string, tenantId = "default"): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ tid: tenantId, sid: sessionId, scope: "session:read session:append" })
    .setProtectedHeader({ alg: "HS256" })
    .setIssuer("starcite")
    .setAudience("starcite")
    .setSubject("user:alice")
    .setIssuedAt(now - 120)
    .setExpirationTime(now - 60)
    .sign(new TextEncoder().encode(TEST_TOKEN_SECRET));
}

export async function mintToken(
  s: TestServer,
  key: string,
  sessionId: string,
  principal: { type: string; id: string },
  scopes: string[] = ["session:read", "session:append"],
  ttlSeconds = 3600,
): Promise<string> {
  const res = await s.gql<{ createSessionToken: { token: string } }>(
    `mutation M($sessionId: ID!, $principal: PrincipalInput!, $scopes: [String!], $ttl: Int) {
      createSessionToken(sessionId: $sessionId, principal: $principal, scopes: $scopes, ttlSeconds: $ttl) { token expiresAt } }`,
    { sessionId, principal, scopes, ttl: ttlSeconds },
    bearer(key),
  );
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data!.createSessionToken.token;
}
