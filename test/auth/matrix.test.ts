import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { revokeApiKey, listApiKeys } from "../../src/db/keys.ts";
import { TAIL_QUERY, type TestServer } from "../helpers/server.ts";
import { apiKey, bearer, expiredToken, expireKey, mintToken, startAuthServer } from "./helpers.ts";

/**
 * Every credential kind against every operation: the exact error code, and nothing written.
 * "ok" means the operation is allowed for that credential.
 */
let s: TestServer;
const S = "ses_matrix";
const OTHER = "ses_matrix_other";
const creds: Record<string, string | undefined> = {};

beforeAll(async () => {
  s = await startAuthServer();
  const admin = await apiKey(s.db.sql, "default");
  for (const id of [S, OTHER]) {
    const r = await s.gql(`mutation C($id: ID!) { createSession(id: $id) { id } }`, { id }, bearer(admin));
    expect(r.errors).toBeUndefined();
  }
  const a = await s.gql(`mutation { append(sessionId: "${S}", event: { payload: { text: "seed" } }) { seq } }`, {}, bearer(admin));
  expect(a.errors).toBeUndefined();

  const revoked = await apiKey(s.db.sql, "default");
  const keys = await listApiKeys(s.db.sql, "default");
  await revokeApiKey(s.db.sql, keys.at(-1)!.id, null);

  creds.none = undefined;
  creds.bad = "sk_this_is_not_a_real_key_at_all_000000000";
  creds.expired = await expiredToken(S);
  creds.expiredKey = await apiKey(s.db.sql, "default", undefined, new Date(Date.now() + 3_600_000).toISOString());
  await expireKey(s.db.sql, creds.expiredKey);
  creds.revoked = revoked;
  creds.otherTenant = await apiKey(s.db.sql, "acme");
  creds.readOnly = await mintToken(s, admin, S, { type: "user", id: "alice" }, ["session:read"]);
  creds.appendOnly = await mintToken(s, admin, S, { type: "agent", id: "drafter" }, ["session:append"]);
  creds.otherSession = await mintToken(s, admin, OTHER, { type: "user", id: "bob" });
});

afterAll(async () => {
  await s?.close();
});

type Outcome = "ok" | string;

const OPERATIONS: Record<string, { run: (cred: string | undefined) => Promise<{ code?: string; data?: unknown }> }> = {
  create: {
    run: async (cred) =>
      first(
        await s.gql(`mutation { createSession(id: "ses_matrix_new_${Math.random().toString(36).slice(2)}") { id } }`, {}, bearer(cred)),
      ),
  },
  read: { run: async (cred) => first(await s.gql(`{ events(sessionId: "${S}") { lastSeq events { seq } } }`, {}, bearer(cred))) },
  list: { run: async (cred) => first(await s.gql(`{ sessions { id } }`, {}, bearer(cred))) },
  append: {
    run: async (cred) =>
      first(await s.gql(`mutation { append(sessionId: "${S}", event: { payload: { text: "x" } }) { seq } }`, {}, bearer(cred))),
  },
  mint: {
    run: async (cred) =>
      first(
        await s.gql(
          `mutation { createSessionToken(sessionId: "${S}", principal: { type: user, id: "eve" }, scopes: ["session:read"]) { token } }`,
          {},
          bearer(cred),
        ),
      ),
  },
  keys: { run: async (cred) => first(await s.gql(`mutation { createApiKey(name: "sneaky") { secret } }`, {}, bearer(cred))) },
  tail: { run: (cred) => tailOnce(cred) },
};

function first(res: { data?: unknown; errors?: { extensions?: Record<string, unknown> }[] }): { code?: string; data?: unknown } {
  const code = res.errors?.[0]?.extensions?.code;
  return typeof code === "string" ? { code } : { data: res.data };
}

/** Subscribes over graphql-ws with the credential in connection_init; resolves with the first result or failure. */
function tailOnce(cred: string | undefined): Promise<{ code?: string; data?: unknown }> {
  return new Promise((resolve) => {
    const client = createClient({
      url: s.wsUrl,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazy: true,
      connectionParams: cred === undefined ? {} : { authorization: `Bearer ${cred}` },
    });
    const done = (r: { code?: string; data?: unknown }) => {
      unsubscribe();
      void client.dispose();
      resolve(r);
    };
    const unsubscribe = client.subscribe(
      { query: TAIL_QUERY, variables: { sessionId: S, cursor: 0 } },
      {
        next: (result) => done(result.errors ? { code: String(result.errors[0]?.extensions?.code) } : { data: result.data }),
        error: (error) => {
          // A rejected credential closes the socket: 4401 with reason "<code>: <message>".
          const e = error as { code?: number; reason?: string; [k: number]: { extensions?: { code?: string } } };
          if (typeof e.code === "number") done({ code: `close:${e.code}:${String(e.reason).split(":")[0]}` });
          else done({ code: String(e[0]?.extensions?.code ?? e) });
        },
        complete: () => done({ code: "completed" }),
      },
    );
  });
}

const DENY_ALL = (code: string, tail = `close:4401:${code}`): Record<string, Outcome> => ({
  create: code,
  read: code,
  list: code,
  append: code,
  mint: code,
  keys: code,
  tail,
});

const EXPECTED: Record<string, Record<string, Outcome>> = {
  none: DENY_ALL("unauthorized"),
  bad: DENY_ALL("unauthorized"),
  expired: DENY_ALL("token_expired"),
  expiredKey: DENY_ALL("unauthorized"),
  revoked: DENY_ALL("unauthorized"),
  // Another tenant's full key: may create in its own tenant; our session looks missing.
  otherTenant: {
    create: "ok",
    read: "session_not_found",
    list: "ok",
    append: "session_not_found",
    mint: "session_not_found",
    keys: "ok",
    tail: "session_not_found",
  },
  readOnly: {
    create: "forbidden_scope",
    read: "ok",
    list: "ok",
    append: "forbidden_scope",
    mint: "forbidden_scope",
    keys: "forbidden_scope",
    tail: "ok",
  },
  appendOnly: {
    create: "forbidden_scope",
    read: "forbidden_scope",
    list: "forbidden_scope",
    append: "ok",
    mint: "forbidden_scope",
    keys: "forbidden_scope",
    tail: "forbidden_scope",
  },
  otherSession: {
    create: "forbidden_scope",
    read: "session_not_found",
    list: "ok",
    append: "session_not_found",
    mint: "forbidden_scope",
    keys: "forbidden_scope",
    tail: "session_not_found",
  },
};

async function snapshot() {
  const [row] = await s.db.sql<{ events: number; sessions: number; keys: number; default_sessions: number }[]>`
    select (select count(*)::int from starcite.events where session_id = ${S}) as events,
           (select count(*)::int from starcite.sessions) as sessions,
           (select count(*)::int from starcite.sessions where tenant_id = 'default') as default_sessions,
           (select count(*)::int from starcite.api_keys) as keys`;
  return row!;
}

describe("authorization matrix", () => {
  for (const [credName, row] of Object.entries(EXPECTED)) {
    for (const [op, expected] of Object.entries(row)) {
      test(`${credName} x ${op} -> ${expected}`, async () => {
        const before = await snapshot();
        const result = await OPERATIONS[op]!.run(creds[credName]);
        if (expected === "ok") {
          expect(result.code).toBeUndefined();
        } else {
          expect(result.code).toBe(expected);
          const after = await snapshot();
          expect(after).toEqual(before);
        }
      });
    }
  }

  test("what the allowed calls see is confined", async () => {
    // Another tenant's list never shows ours; a token's list is its one session.
    const other = await s.gql<{ sessions: { id: string }[] }>(`{ sessions { id } }`, {}, bearer(creds.otherTenant));
    expect(other.data!.sessions.map((x) => x.id)).not.toContain(S);
    const mine = await s.gql<{ sessions: { id: string }[] }>(`{ sessions { id } }`, {}, bearer(creds.readOnly));
    expect(mine.data!.sessions.map((x) => x.id)).toEqual([S]);
    const theirs = await s.gql<{ sessions: { id: string }[] }>(`{ sessions { id } }`, {}, bearer(creds.otherSession));
    expect(theirs.data!.sessions.map((x) => x.id)).toEqual([OTHER]);
    // A key-admin's key list is its own tenant's.
    const keys = await s.gql<{ apiKeys: { tenantId: string }[] }>(`{ apiKeys { tenantId } }`, {}, bearer(creds.otherTenant));
    expect(new Set(keys.data!.apiKeys.map((k) => k.tenantId))).toEqual(new Set(["acme"]));
    const session = await s.gql<{ session: null }>(`{ session(id: "${S}") { id } }`, {}, bearer(creds.otherTenant));
    expect(session.data!.session).toBeNull();
  });

  test("the access_token query parameter authenticates a WebSocket too; a bad one is closed with 4401", async () => {
    const good = await mintToken(s, await apiKey(s.db.sql, "default"), S, { type: "user", id: "carol" }, ["session:read"]);
    for (const [token, expectOk] of [
      [good, true],
      ["sk_nope_nope_nope_nope_nope_nope_nope_nope_00", false],
    ] as const) {
      const result = await new Promise<{ ok: boolean; code?: number; reason?: string }>((resolve) => {
        const client = createClient({
          url: `${s.wsUrl}?access_token=${encodeURIComponent(token)}`,
          webSocketImpl: WebSocket,
          retryAttempts: 0,
        });
        const stop = client.subscribe(
          { query: TAIL_QUERY, variables: { sessionId: S, cursor: 0 } },
          {
            next: (r) => {
              stop();
              void client.dispose();
              resolve({ ok: !r.errors });
            },
            error: (e) => {
              void client.dispose();
              const ev = e as { code?: number; reason?: string };
              resolve({ ok: false, code: ev.code, reason: ev.reason });
            },
            complete: () => {},
          },
        );
      });
      expect(result.ok).toBe(expectOk);
      if (!expectOk) {
        expect(result.code).toBe(4401);
        expect(result.reason).toMatch(/^unauthorized: /);
        expect(result.reason).not.toContain("sk_nope");
      }
    }
  });
});
