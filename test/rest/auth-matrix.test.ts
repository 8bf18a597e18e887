/**
 * Every credential kind against every REST route: the exact error code with its HTTP status (or close
 * code), nothing written on a refusal, and the same answer GraphQL gives for the same operation.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { listApiKeys, revokeApiKey } from "../../src/db/keys.ts";
import { closeCodeOf, HTTP_STATUS } from "../../src/rest/errors.ts";
import type { ErrorCode } from "../../src/db/errors.ts";
import { TAIL_QUERY, type TestServer } from "../helpers/server.ts";
import { apiKey, bearer, expiredToken, mintToken, startAuthServer } from "../auth/helpers.ts";
import { call, recordingLogger, sseTail, wsTail } from "./support.ts";

let s: TestServer;
const S = "ses_rmatrix";
const OTHER = "ses_rmatrix_other";
const creds: Record<string, string | undefined> = {};
const log = recordingLogger();

beforeAll(async () => {
  s = await startAuthServer({ logger: log.logger });
  const admin = await apiKey(s.db.sql, "default");
  for (const id of [S, OTHER]) expect((await call(s.url, "POST", "/v1/sessions", { id }, bearer(admin))).status).toBe(201);
  expect((await call(s.url, "POST", `/v1/sessions/${S}/append`, { payload: { text: "seed" } }, bearer(admin))).status).toBe(201);

  const revoked = await apiKey(s.db.sql, "default");
  const keys = await listApiKeys(s.db.sql, "default");
  await revokeApiKey(s.db.sql, keys.at(-1)!.id, null);

  creds.none = undefined;
  creds.bad = "sk_this_is_not_a_real_key_at_all_000000000";
  creds.expired = await expiredToken(S);
  creds.expiredKey = await apiKey(s.db.sql, "default", undefined, new Date(Date.now() + 1500).toISOString());
  creds.revoked = revoked;
  creds.otherTenant = await apiKey(s.db.sql, "acme");
  creds.readOnly = await mintToken(s, admin, S, { type: "user", id: "alice" }, ["session:read"]);
  creds.appendOnly = await mintToken(s, admin, S, { type: "agent", id: "drafter" }, ["session:append"]);
  creds.otherSession = await mintToken(s, admin, OTHER, { type: "user", id: "bob" });
  // Let the short-lived key expire for real (a wall-clock condition, not synchronisation).
  const until = Date.now() + 1600;
  while (Date.now() < until) await new Promise((r) => setTimeout(r, 100));
});

afterAll(async () => {
  await s?.close();
});

type Result = { code?: string; status?: number };

const rest =
  (method: string, path: string, body?: unknown) =>
  async (cred: string | undefined): Promise<Result> => {
    const res = await call(s.url, method, path, body, bearer(cred));
    return res.status < 300 ? { status: res.status } : { code: res.body.error, status: res.status };
  };

function wsOnce(cred: string | undefined): Promise<Result> {
  const t = wsTail(`${s.url.replace(/^http/, "ws")}/v1/sessions/${S}/tail`, bearer(cred));
  return new Promise((resolve) => {
    void t
      .until(() => t.caughtUp || t.closed !== null, 10_000)
      .catch(() => {})
      .then(() => {
        const closed = t.closed;
        t.close();
        resolve(closed ? { code: closed.reason.split(":")[0], status: closed.code } : { status: 101 });
      });
  });
}

async function sseOnce(cred: string | undefined): Promise<Result> {
  const t = sseTail(`${s.url}/v1/sessions/${S}/tail`, bearer(cred));
  await t.until(() => t.ended || t.messages.some((m) => m.event === "caught_up")).catch(() => {});
  t.close();
  return t.status === 200 ? { status: 200 } : { code: JSON.parse(t.errorBody).error, status: t.status };
}

const unique = () => `ses_rmatrix_new_${Math.random().toString(36).slice(2)}`;

/** Each REST route, and the GraphQL operation that does the same thing (when there is one). */
const OPERATIONS: Record<string, { rest: (cred: string | undefined) => Promise<Result>; gql?: string }> = {
  create: { rest: (c) => rest("POST", "/v1/sessions", { id: unique() })(c), gql: `mutation { createSession { id } }` },
  get: { rest: rest("GET", `/v1/sessions/${S}`) },
  list: { rest: rest("GET", "/v1/sessions"), gql: `{ sessions { id } }` },
  patch: {
    rest: rest("PATCH", `/v1/sessions/${S}`, { title: "nope" }),
    gql: `mutation { updateSession(id: "${S}", title: "nope") { id } }`,
  },
  archive: { rest: rest("POST", `/v1/sessions/${S}/archive`), gql: `mutation { updateSession(id: "${S}", archived: true) { id } }` },
  unarchive: { rest: rest("POST", `/v1/sessions/${S}/unarchive`) },
  append: {
    rest: rest("POST", `/v1/sessions/${S}/append`, { payload: { text: "x" } }),
    gql: `mutation { append(sessionId: "${S}", event: { payload: { text: "x" } }) { seq } }`,
  },
  batch: {
    rest: rest("POST", `/v1/sessions/${S}/append_batch`, { events: [{ payload: { text: "x" } }] }),
    gql: `mutation { appendBatch(sessionId: "${S}", events: [{ payload: { text: "x" } }]) { seq } }`,
  },
  events: { rest: rest("GET", `/v1/sessions/${S}/events`), gql: `{ events(sessionId: "${S}") { lastSeq } }` },
  mint: {
    rest: rest("POST", "/v1/session-tokens", { session_id: S, principal: { type: "user", id: "eve" }, scopes: ["session:read"] }),
    gql: `mutation { createSessionToken(sessionId: "${S}", principal: { type: user, id: "eve" }, scopes: ["session:read"]) { token } }`,
  },
  mintHosted: {
    rest: rest("POST", "/api/v1/session-tokens", { session_id: S, principal: { type: "user", id: "eve" }, scopes: ["session:read"] }),
  },
  tailWs: { rest: wsOnce, gql: "tail" },
  tailSse: { rest: sseOnce },
};

const DENY_ALL = (code: string): Record<string, string> => Object.fromEntries(Object.keys(OPERATIONS).map((op) => [op, code]));
const FS = "forbidden_scope";
const NF = "session_not_found";

const EXPECTED: Record<string, Record<string, string>> = {
  none: DENY_ALL("unauthorized"),
  bad: DENY_ALL("unauthorized"),
  expired: DENY_ALL("token_expired"),
  expiredKey: DENY_ALL("unauthorized"),
  revoked: DENY_ALL("unauthorized"),
  // Another tenant's full key: may create and list in its own tenant; our session looks missing.
  otherTenant: {
    create: "ok",
    get: NF,
    list: "ok",
    patch: NF,
    archive: NF,
    unarchive: NF,
    append: NF,
    batch: NF,
    events: NF,
    mint: NF,
    mintHosted: NF,
    tailWs: NF,
    tailSse: NF,
  },
  readOnly: {
    create: FS,
    get: "ok",
    list: "ok",
    patch: FS,
    archive: FS,
    unarchive: FS,
    append: FS,
    batch: FS,
    events: "ok",
    mint: FS,
    mintHosted: FS,
    tailWs: "ok",
    tailSse: "ok",
  },
  appendOnly: {
    create: FS,
    get: FS,
    list: FS,
    patch: FS,
    archive: FS,
    unarchive: FS,
    append: "ok",
    batch: "ok",
    events: FS,
    mint: FS,
    mintHosted: FS,
    tailWs: FS,
    tailSse: FS,
  },
  otherSession: {
    create: FS,
    get: NF,
    list: "ok",
    patch: FS,
    archive: FS,
    unarchive: FS,
    append: NF,
    batch: NF,
    events: NF,
    mint: FS,
    mintHosted: FS,
    tailWs: NF,
    tailSse: NF,
  },
};

async function snapshot() {
  const [row] = await s.db.sql<{ events: number; sessions: number; version: number; archived: boolean }[]>`
    select (select count(*)::int from starcite.events where session_id = ${S}) as events,
           (select count(*)::int from starcite.sessions) as sessions,
           (select version from starcite.sessions where id = ${S}) as version,
           (select archived from starcite.sessions where id = ${S}) as archived`;
  return row!;
}

/** The same operation over GraphQL (HTTP, or graphql-ws for the tail): its error code, or undefined. */
async function graphqlCode(op: string, cred: string | undefined): Promise<string | undefined> {
  if (op !== "tail") {
    const res = await s.gql(op, {}, bearer(cred));
    const code = res.errors?.[0]?.extensions?.code;
    return typeof code === "string" ? code : undefined;
  }
  return new Promise((resolve) => {
    const client = createClient({
      url: s.wsUrl,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazy: true,
      connectionParams: cred === undefined ? {} : { authorization: `Bearer ${cred}` },
    });
    const done = (code: string | undefined) => {
      unsubscribe();
      void client.dispose();
      resolve(code);
    };
    const unsubscribe = client.subscribe(
      { query: TAIL_QUERY, variables: { sessionId: S, cursor: 0 } },
      {
        next: (r) => done(r.errors ? String(r.errors[0]?.extensions?.code) : undefined),
        error: (e) => {
          const ev = e as { reason?: string; [k: number]: { extensions?: { code?: string } } };
          done(typeof ev.reason === "string" ? ev.reason.split(":")[0] : String(ev[0]?.extensions?.code));
        },
        complete: () => done("completed"),
      },
    );
  });
}

describe("REST authorization matrix", () => {
  for (const [credName, row] of Object.entries(EXPECTED)) {
    for (const [op, expected] of Object.entries(row)) {
      test(`${credName} x ${op} -> ${expected}`, async () => {
        const before = await snapshot();
        const result = await OPERATIONS[op]!.rest(creds[credName]);
        if (expected === "ok") {
          expect(result.code, JSON.stringify(result)).toBeUndefined();
        } else {
          expect(result.code).toBe(expected);
          const code = expected as ErrorCode;
          expect(result.status).toBe(op === "tailWs" ? closeCodeOf(code) : HTTP_STATUS[code]);
          expect(await snapshot()).toEqual(before);
        }
        const twin = OPERATIONS[op]!.gql;
        if (twin) expect(await graphqlCode(twin, creds[credName])).toBe(expected === "ok" ? undefined : expected);
      });
    }
  }

  test("what allowed calls see is confined: lists, and a token's session only", async () => {
    const other = await call(s.url, "GET", "/v1/sessions?limit=1000", undefined, bearer(creds.otherTenant));
    expect(other.body.sessions.map((x: { id: string }) => x.id)).not.toContain(S);
    const mine = await call(s.url, "GET", "/v1/sessions", undefined, bearer(creds.readOnly));
    expect(mine.body).toEqual({ sessions: [expect.objectContaining({ id: S })], next_cursor: null });
  });

  test("a session token appends as its principal; claiming another actor is 403 forbidden_actor", async () => {
    const ok = await call(s.url, "POST", `/v1/sessions/${S}/append`, { payload: { n: 1 } }, bearer(creds.appendOnly));
    expect(ok.status).toBe(201);
    const [row] = await s.db.sql<{ actor: string }[]>`select actor from starcite.events where session_id = ${S} and seq = ${ok.body.seq}`;
    expect(row!.actor).toBe("agent:drafter");
    const spoof = await call(
      s.url,
      "POST",
      `/v1/sessions/${S}/append`,
      { payload: { n: 2 }, actor: "user:root" },
      bearer(creds.appendOnly),
    );
    expect(spoof.status).toBe(403);
    expect(spoof.body).toMatchObject({ error: "forbidden_actor" });
  });

  test("no route answered with an error code it does not declare", () => {
    expect(log.undeclared()).toEqual([]);
  });
});
