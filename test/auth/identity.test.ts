import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { createLogger } from "../../src/shared/logger.ts";
import { collectTail, startTestServer, TEST_TOKEN_SECRET, type TestServer } from "../helpers/server.ts";
import { createTestDatabase } from "../helpers/db.ts";
import { apiKey, bearer, expiredToken, mintToken, startAuthServer } from "./helpers.ts";

let s: TestServer;
let admin: string;
const logLines: string[] = [];

beforeAll(async () => {
  s = await startAuthServer({ logger: createLogger("debug", (line) => logLines.push(line)) });
  admin = await apiKey(s.db.sql, "default");
});
afterAll(async () => {
  await s?.close();
});

async function createSession(id: string): Promise<void> {
  const r = await s.gql(`mutation C($id: ID!) { createSession(id: $id) { id } }`, { id }, bearer(admin));
  expect(r.errors).toBeUndefined();
}

const APPEND = `mutation A($sessionId: ID!, $event: AppendInput!) { append(sessionId: $sessionId, event: $event) { seq } }`;

describe("actors", () => {
  test("a session token appends as its principal and cannot spoof actor; an API key can set it", async () => {
    await createSession("ses_actor");
    const token = await mintToken(s, admin, "ses_actor", { type: "agent", id: "drafter" });

    const own = await s.gql(APPEND, { sessionId: "ses_actor", event: { payload: { text: "mine" } } }, bearer(token));
    expect(own.errors).toBeUndefined();
    const same = await s.gql(
      APPEND,
      { sessionId: "ses_actor", event: { payload: { text: "explicit" }, actor: "agent:drafter" } },
      bearer(token),
    );
    expect(same.errors).toBeUndefined();
    const spoof = await s.gql(APPEND, { sessionId: "ses_actor", event: { payload: { text: "spoof" }, actor: "user:ceo" } }, bearer(token));
    expect(spoof.errors?.[0]?.extensions?.code).toBe("forbidden_actor");
    const spoofBatch = await s.gql(
      `mutation { appendBatch(sessionId: "ses_actor", events: [{ payload: { t: 1 } }, { payload: { t: 2 }, actor: "user:ceo" }]) { seq } }`,
      {},
      bearer(token),
    );
    expect(spoofBatch.errors?.[0]?.extensions?.code).toBe("forbidden_actor");

    const byKey = await s.gql(
      APPEND,
      { sessionId: "ses_actor", event: { payload: { text: "as tool" }, actor: "tool:search" } },
      bearer(admin),
    );
    expect(byKey.errors).toBeUndefined();

    const rows = await s.db.sql<{ actor: string | null; payload: { text: string } }[]>`
      select actor, payload from starcite.events where session_id = 'ses_actor' order by seq`;
    expect(rows.map((r) => [r.actor, r.payload.text])).toEqual([
      ["agent:drafter", "mine"],
      ["agent:drafter", "explicit"],
      ["tool:search", "as tool"],
    ]);
  });
});

describe("token expiry", () => {
  test("a token expiring mid-tail ends the subscription with token_expired; a fresh token resumes from the cursor losing nothing", async () => {
    await createSession("ses_expiry");
    const shortLived = await mintToken(s, admin, "ses_expiry", { type: "user", id: "alice" }, ["session:read"], 2);
    const client = s.wsClient({ connectionParams: { authorization: `Bearer ${shortLived}` } });
    const first = collectTail(client, "ses_expiry", 0);
    for (let k = 1; k <= 5; k++) await s.gql(APPEND, { sessionId: "ses_expiry", event: { payload: { k } } }, bearer(admin));
    await first.until(() => first.events.length === 5, 10_000, "before expiry");
    // The server ends the tail when the token's exp passes (about 2 s after minting).
    await first.ended(10_000, "the tail to end at the token's expiry");
    const codes = first.errors
      .flatMap((e) => (Array.isArray(e) ? e : [e]))
      .map((e) => (e as { extensions?: { code?: string } }).extensions?.code);
    expect(codes).toContain("token_expired");

    for (let k = 6; k <= 10; k++) await s.gql(APPEND, { sessionId: "ses_expiry", event: { payload: { k } } }, bearer(admin));
    const fresh = await mintToken(s, admin, "ses_expiry", { type: "user", id: "alice" }, ["session:read"]);
    const resumed = collectTail(
      s.wsClient({ connectionParams: { authorization: `Bearer ${fresh}` } }),
      "ses_expiry",
      first.events.at(-1)!.seq,
    );
    await resumed.until(() => resumed.events.length === 5, 10_000, "after refresh");
    expect([...first.events, ...resumed.events].map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    resumed.unsubscribe();
  });

  test("tokens with a wrong signature, issuer or audience are rejected", async () => {
    await createSession("ses_forged");
    const now = Math.floor(Date.now() / 1000);
    const sign = (secret: string, iss: string, aud: string) =>
      new SignJWT({ tid: "default", sid: "ses_forged", scope: "session:read session:append" })
        .setProtectedHeader({ alg: "HS256" })
        .setIssuer(iss)
        .setAudience(aud)
        .setSubject("user:mallory")
        .setIssuedAt(now)
        .setExpirationTime(now + 600)
        .sign(new TextEncoder().encode(secret));
    const forged = [
      await sign("another-secret-another-secret-another-secret", "starcite", "starcite"),
      await sign(TEST_TOKEN_SECRET, "evil", "starcite"),
      await sign(TEST_TOKEN_SECRET, "starcite", "someone-else"),
    ];
    for (const token of forged) {
      const r = await s.gql(`{ events(sessionId: "ses_forged") { lastSeq } }`, {}, bearer(token));
      expect(r.errors?.[0]?.extensions?.code).toBe("unauthorized");
    }
    const expired = await s.gql(`{ events(sessionId: "ses_forged") { lastSeq } }`, {}, bearer(await expiredToken("ses_forged")));
    expect(expired.errors?.[0]?.extensions?.code).toBe("token_expired");
  });
});

describe("tenant isolation", () => {
  test("listing, reading and tailing never show another tenant's sessions or events", async () => {
    const acme = await apiKey(s.db.sql, "acme");
    const globex = await apiKey(s.db.sql, "globex");
    for (const [key, id] of [
      [acme, "ses_acme_1"],
      [globex, "ses_globex_1"],
    ] as const) {
      expect((await s.gql(`mutation { createSession(id: "${id}") { id } }`, {}, bearer(key))).errors).toBeUndefined();
      expect((await s.gql(APPEND, { sessionId: id, event: { payload: { secret: id } } }, bearer(key))).errors).toBeUndefined();
    }
    const list = await s.gql<{ sessions: { id: string }[] }>(`{ sessions(limit: 1000) { id } }`, {}, bearer(acme));
    expect(list.data!.sessions.map((x) => x.id)).toEqual(["ses_acme_1"]);
    const read = await s.gql(`{ events(sessionId: "ses_globex_1") { events { payload } } }`, {}, bearer(acme));
    expect(read.errors?.[0]?.extensions?.code).toBe("session_not_found");
    const t = collectTail(s.wsClient({ connectionParams: { authorization: `Bearer ${acme}` } }), "ses_globex_1", 0);
    await t.ended(5_000, "the cross-tenant tail to be refused");
    expect(t.events).toEqual([]);
    expect(JSON.stringify(t.errors)).toContain("session_not_found");
    // Same id namespace, different owners: globex cannot append into acme's session either.
    const cross = await s.gql(APPEND, { sessionId: "ses_acme_1", event: { payload: { x: 1 } } }, bearer(globex));
    expect(cross.errors?.[0]?.extensions?.code).toBe("session_not_found");
  });

  test("direct SQL calls with a tenant argument (or setting) are confined the same way", async () => {
    const sql = s.db.sql;
    const codeOf = (p: Promise<unknown>) =>
      p.then(
        () => "ok",
        (e: { code?: string }) => e.code,
      );
    // A tenant must exist before it can own sessions.
    expect(await codeOf(sql`select * from starcite.create_session('ses_sql_t1', 'T1', null, tenant_id => 'tenant_one')`)).toBe("SC001");
    await sql`select starcite.create_tenant('tenant_one')`;
    await sql`select starcite.create_tenant('tenant_two')`;
    await sql`select * from starcite.create_session('ses_sql_t1', 'T1', null, tenant_id => 'tenant_one')`;
    await sql`select * from starcite.append('ses_sql_t1', 'content', '{"n":1}', tenant_id => 'tenant_one')`;
    expect(await codeOf(sql`select * from starcite.read('ses_sql_t1', 0, 10, 'tenant_two')`)).toBe("SC100");
    expect(await codeOf(sql`select * from starcite.append('ses_sql_t1', 'content', '{"n":2}', tenant_id => 'tenant_two')`)).toBe("SC100");
    expect(await codeOf(sql`select * from starcite.append_batch('ses_sql_t1', '[{"payload":{}}]', true, 'tenant_two')`)).toBe("SC100");
    expect(await codeOf(sql`select * from starcite.update_session('ses_sql_t1', 'x', tenant_id => 'tenant_two')`)).toBe("SC100");
    expect((await sql`select * from starcite.get_session('ses_sql_t1', 'tenant_two') where id is not null`).length).toBe(0);
    expect((await sql`select id from starcite.list_sessions(1000, null, false, 'tenant_two')`).length).toBe(0);
    // Without the argument, the default tenant (or the starcite.tenant_id setting) applies.
    expect(await codeOf(sql`select * from starcite.read('ses_sql_t1')`)).toBe("SC100");
    const viaSetting = await sql.begin(async (tx) => {
      await tx`select set_config('starcite.tenant_id', 'tenant_one', true)`;
      return tx`select seq from starcite.read('ses_sql_t1')`;
    });
    expect(viaSetting.map((r) => r.seq)).toEqual([1]);
    const [count] = await sql<{ n: number }[]>`select count(*)::int as n from starcite.events where session_id = 'ses_sql_t1'`;
    expect(count!.n).toBe(1);
  });
});

describe("external identity provider", () => {
  test("RS256 JWTs from a JWKS URL with tenant_id, sub and scope claims are accepted; actor is user:<sub>", async () => {
    const { publicKey, privateKey } = await generateKeyPair("RS256");
    const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "RS256", use: "sig" };
    const jwks = http.createServer((_req, res) =>
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [jwk] })),
    );
    await new Promise<void>((r) => jwks.listen(0, "127.0.0.1", r));
    const db = await createTestDatabase();
    const ext = await startTestServer(
      {
        auth: {
          mode: "required",
          tokenSecret: TEST_TOKEN_SECRET,
          external: {
            jwksUrl: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`,
            issuer: "https://idp.example",
            audience: "starcite",
          },
        },
      },
      db,
    );
    try {
      await db.sql`select starcite.create_tenant('idp_tenant')`;
      await db.sql`select * from starcite.create_session('ses_idp', null, null, 'idp_tenant')`;
      const now = Math.floor(Date.now() / 1000);
      const jwt = (claims: Record<string, unknown>, key = privateKey) =>
        new SignJWT(claims)
          .setProtectedHeader({ alg: "RS256", kid: "k1" })
          .setIssuer("https://idp.example")
          .setAudience("starcite")
          .setSubject("alice")
          .setIssuedAt(now)
          .setExpirationTime(now + 600)
          .sign(key);
      const good = await jwt({ tenant_id: "idp_tenant", scope: "session:read session:append" });
      const r = await ext.gql(APPEND, { sessionId: "ses_idp", event: { payload: { hi: 1 } } }, bearer(good));
      expect(r.errors).toBeUndefined();
      const [row] = await db.sql<{ actor: string }[]>`select actor from starcite.events where session_id = 'ses_idp'`;
      expect(row!.actor).toBe("user:alice");
      const readOnly = await jwt({ tenant_id: "idp_tenant", scope: "session:read" });
      const denied = await ext.gql(APPEND, { sessionId: "ses_idp", event: { payload: { hi: 2 } } }, bearer(readOnly));
      expect(denied.errors?.[0]?.extensions?.code).toBe("forbidden_scope");
      const otherKey = (await generateKeyPair("RS256")).privateKey;
      const forged = await jwt({ tenant_id: "idp_tenant", scope: "session:read" }, otherKey);
      const bad = await ext.gql(`{ sessions { id } }`, {}, bearer(forged));
      expect(bad.errors?.[0]?.extensions?.code).toBe("unauthorized");
    } finally {
      await ext.close();
      await db.drop();
      jwks.close();
    }
  });
});

describe("secrets", () => {
  test("API keys and tokens never appear in logs or error messages", async () => {
    const key = await apiKey(s.db.sql, "default");
    const keys = await s.gql<{ apiKeys: { id: string; keyPrefix: string }[] }>(`{ apiKeys { id keyPrefix } }`, {}, bearer(key));
    const keyId = keys.data!.apiKeys.find((k) => key.startsWith(k.keyPrefix))!.id;
    const token = await mintToken(s, key, "ses_actor", { type: "user", id: "alice" }, ["session:read"]);
    const bogus = key.slice(0, -4) + "zzzz";
    const responses: string[] = [];
    const record = async (p: Promise<unknown>) => responses.push(JSON.stringify(await p));
    await record(s.gql(`{ sessions { id } }`, {}, bearer(bogus)));
    await record(s.gql(`mutation { createSession(id: "ses_secret") { id } }`, {}, bearer(token)));
    await record(s.gql(APPEND, { sessionId: "ses_actor", event: { payload: { a: 1 }, actor: "user:x" } }, bearer(token)));
    await record(s.gql(`mutation R($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }`, { id: keyId }, bearer(key)));
    await record(s.gql(`{ sessions { id } }`, {}, bearer(key)));
    await record(s.gql(`{ sessions { id } }`, {}, bearer(token + "x")));
    const closed = await new Promise<string>((resolve) => {
      const c = createClient({
        url: s.wsUrl,
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        connectionParams: { authorization: `Bearer ${bogus}` },
      });
      c.subscribe(
        { query: `subscription { tail(sessionId: "ses_actor") { cursor } }` },
        {
          next: () => {},
          complete: () => resolve("complete"),
          error: (e) => {
            void c.dispose();
            resolve(JSON.stringify({ code: (e as { code?: number }).code, reason: (e as { reason?: string }).reason }));
          },
        },
      );
    });
    responses.push(closed);
    // The revoked key is refused at once, by this server's cache as well.
    expect(responses[4]).toContain("unauthorized");
    const everything = [...responses, ...logLines].join("\n");
    expect(logLines.length).toBeGreaterThan(0);
    for (const secret of [key, bogus, token, key.slice(3), token.split(".")[2]!]) {
      expect(everything).not.toContain(secret);
    }
  });
});
