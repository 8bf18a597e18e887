/**
 * Property-based fuzzing (fast-check) of every GraphQL operation's inputs over HTTP and WebSocket, of mutated
 * valid documents, and of every SQL function's inputs. The properties: a client mistake is never a 5xx, every
 * GraphQL error has `extensions.code` and none is `internal_error`, every SQL error is one of the SC codes, and
 * nothing is logged as an unexpected error. A failure prints fast-check's seed and the failing input (no shrinking: a
 * slow server case must not turn into minutes of shrinking);
 * STARCITE_FUZZ_RUNS scales the run (npm run test:faults runs more).
 */
import fc from "fast-check";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import WebSocket from "ws";
import { SQLSTATE_TO_CODE } from "../../src/db/errors.ts";
import { EVENT_LIMITS } from "../../src/shared/limits.ts";
import { captureLogs } from "../helpers/logs.ts";
import { startTestServer, TEST_TOKEN_SECRET, type TestServer } from "../helpers/server.ts";
import { apiKey } from "../auth/helpers.ts";

const RUNS = Number(process.env.STARCITE_FUZZ_RUNS ?? 40);
const logs = captureLogs();
let s: TestServer;
let key: string;
let peakRss = 0;
const cases: Record<string, number> = {};
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);

beforeAll(async () => {
  s = await startTestServer({
    logger: logs.logger,
    auth: { mode: "required", tokenSecret: TEST_TOKEN_SECRET, failureLimit: { failures: 0, windowMs: 1 } },
  });
  key = await apiKey(s.db.sql, "default", ["session:create", "session:read", "session:append", "keys:admin", "tenant:admin"]);
  await s.db.sql`select * from starcite.create_session('ses_fuzz')`;
});
afterAll(async () => {
  clearInterval(sampler);
  await s?.close();
  const total = Object.values(cases).reduce((a, b) => a + b, 0);
  console.log(
    `fuzz: ${total} cases ${JSON.stringify(cases)}; peak RSS of the test process (server inside) ${(peakRss / 2 ** 20).toFixed(0)} MiB`,
  );
});

// ---- arbitraries ----------------------------------------------------------------------------------------

const nasty = fc.constantFrom(
  "",
  "\u0000",
  "a\u0000b",
  "\ud800",
  "x\udfff",
  "\udbff\udc00",
  "😀",
  "ses_fuzz",
  "'; drop table starcite.events; --",
  "a".repeat(129),
  "b".repeat(257),
  "c".repeat(1025),
  "%00",
  "\\u0000",
  "null",
  "-1",
  "1e400",
);
const str = fc.oneof(
  nasty,
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 8 }),
);
const json = fc.jsonValue({ maxDepth: 4, stringUnit: "binary" });
/** A deeply nested value, built as text (JSON.stringify overflows on the deepest). */
const deepText = fc.integer({ min: EVENT_LIMITS.jsonDepth + 1, max: 6000 }).map((n) => '{"v":'.repeat(n) + "1" + "}".repeat(n));
const anyValue = fc.oneof(str, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), json, fc.array(str, { maxLength: 3 }));
const eventArb = fc.record(
  {
    type: fc.oneof(str, anyValue),
    payload: fc.oneof(json, anyValue),
    actor: str,
    source: str,
    metadata: fc.oneof(json, anyValue),
    refs: fc.oneof(json, anyValue),
    idempotencyKey: str,
    producerId: str,
    producerSeq: fc.oneof(fc.integer(), fc.double(), str),
    expectedSeq: fc.oneof(fc.integer({ min: -5, max: 5 }), str),
    extra: anyValue,
  },
  { requiredKeys: [] },
);

interface Operation {
  name: string;
  query: string;
  variables: fc.Arbitrary<Record<string, unknown>>;
}

const OPERATIONS: Operation[] = [
  {
    name: "createSession",
    query: `mutation($id: ID, $title: String, $metadata: JSON) { createSession(id: $id, title: $title, metadata: $metadata) { id } }`,
    variables: fc.record({ id: str, title: fc.oneof(str, anyValue), metadata: anyValue }, { requiredKeys: [] }),
  },
  {
    name: "updateSession",
    query: `mutation($id: ID!, $title: String, $metadata: JSON, $v: Int, $a: Boolean) { updateSession(id: $id, title: $title, metadata: $metadata, expectedVersion: $v, archived: $a) { id } }`,
    variables: fc.record(
      { id: fc.oneof(str, fc.constant("ses_fuzz")), title: str, metadata: anyValue, v: anyValue, a: anyValue },
      { requiredKeys: [] },
    ),
  },
  {
    name: "append",
    query: `mutation($sessionId: ID!, $event: AppendInput!) { append(sessionId: $sessionId, event: $event) { seq } }`,
    variables: fc.record({ sessionId: fc.oneof(fc.constant("ses_fuzz"), str), event: fc.oneof(eventArb, anyValue) }),
  },
  {
    name: "appendBatch",
    query: `mutation($sessionId: ID!, $events: [AppendInput!]!) { appendBatch(sessionId: $sessionId, events: $events) { seq } }`,
    variables: fc.record({
      sessionId: fc.oneof(fc.constant("ses_fuzz"), str),
      events: fc.oneof(fc.array(eventArb, { maxLength: 5 }), anyValue),
    }),
  },
  {
    name: "events",
    query: `query($sessionId: ID!, $after: Int, $limit: Int) { events(sessionId: $sessionId, after: $after, limit: $limit) { lastSeq } }`,
    variables: fc.record(
      { sessionId: fc.oneof(fc.constant("ses_fuzz"), str), after: anyValue, limit: fc.oneof(fc.integer(), anyValue) },
      { requiredKeys: [] },
    ),
  },
  { name: "session", query: `query($id: ID!) { session(id: $id) { id } }`, variables: fc.record({ id: anyValue }, { requiredKeys: [] }) },
  {
    name: "sessions",
    query: `query($limit: Int, $after: ID, $archived: Boolean) { sessions(limit: $limit, after: $after, archived: $archived) { id } }`,
    variables: fc.record({ limit: fc.oneof(fc.integer(), anyValue), after: str, archived: anyValue }, { requiredKeys: [] }),
  },
  {
    name: "createSessionToken",
    query: `mutation($s: ID!, $p: PrincipalInput!, $scopes: [String!], $ttl: Int) { createSessionToken(sessionId: $s, principal: $p, scopes: $scopes, ttlSeconds: $ttl) { token } }`,
    variables: fc.record(
      {
        s: fc.oneof(fc.constant("ses_fuzz"), str),
        p: fc.oneof(fc.record({ type: fc.constantFrom("user", "agent", "admin"), id: str }), anyValue),
        scopes: fc.oneof(fc.array(str, { maxLength: 3 }), anyValue),
        ttl: fc.oneof(fc.integer(), anyValue),
      },
      { requiredKeys: [] },
    ),
  },
  {
    name: "createApiKey",
    query: `mutation($name: String!, $t: String, $scopes: [String!], $exp: DateTime) { createApiKey(name: $name, tenantId: $t, scopes: $scopes, expiresAt: $exp) { key { id } } }`,
    variables: fc.record(
      {
        name: str,
        t: str,
        scopes: fc.oneof(fc.array(fc.oneof(str, fc.constantFrom("session:read", "admin")), { maxLength: 3 }), anyValue),
        exp: fc.oneof(
          str,
          fc.date({ noInvalidDate: false }).map((d) => (Number.isNaN(d.getTime()) ? "Invalid" : d.toISOString())),
          fc.constantFrom("+275760-09-13T00:00:00Z", "0000-01-01", "9999-12-31T23:59:59Z", "2026-02-30"),
        ),
      },
      { requiredKeys: [] },
    ),
  },
  {
    name: "revokeApiKey",
    query: `mutation($id: ID!) { revokeApiKey(id: $id) { id } }`,
    variables: fc.record({ id: anyValue }, { requiredKeys: [] }),
  },
  {
    name: "apiKeys",
    query: `query($t: String) { apiKeys(tenantId: $t) { id } }`,
    variables: fc.record({ t: anyValue }, { requiredKeys: [] }),
  },
  {
    name: "createWebhookEndpoint",
    query: `mutation($url: String!, $s: [ID!], $t: [String!], $e: Boolean, $l: Boolean) { createWebhookEndpoint(url: $url, sessionIds: $s, types: $t, events: $e, lifecycle: $l) { secret } }`,
    variables: fc.record(
      {
        url: fc.oneof(str, fc.constantFrom("http://127.0.0.1:9/h", "https://example.com/\u0000", "ftp://x", "http://", "http://[::1")),
        s: fc.oneof(fc.array(str, { maxLength: 3 }), anyValue),
        t: fc.oneof(fc.array(str, { maxLength: 3 }), anyValue),
        e: anyValue,
        l: anyValue,
      },
      { requiredKeys: [] },
    ),
  },
  {
    name: "updateWebhookEndpoint",
    query: `mutation($id: ID!, $url: String, $s: [ID!], $t: [String!], $en: Boolean, $cs: Boolean, $ct: Boolean) { updateWebhookEndpoint(id: $id, url: $url, sessionIds: $s, types: $t, enabled: $en, clearSessions: $cs, clearTypes: $ct) { id } }`,
    variables: fc.record(
      {
        id: fc.oneof(str, anyValue),
        url: str,
        s: fc.oneof(fc.array(str, { maxLength: 3 }), anyValue),
        t: fc.oneof(fc.array(str, { maxLength: 3 }), anyValue),
        en: anyValue,
        cs: anyValue,
        ct: anyValue,
      },
      { requiredKeys: [] },
    ),
  },
  {
    name: "deleteWebhookEndpoint",
    query: `mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { id } }`,
    variables: fc.record({ id: anyValue }, { requiredKeys: [] }),
  },
  { name: "webhookEndpoints", query: `query { webhookEndpoints { id } }`, variables: fc.record({ x: anyValue }, { requiredKeys: [] }) },
  {
    name: "webhookDeliveries",
    query: `query($id: ID!, $limit: Int, $status: WebhookDeliveryStatus) { webhookDeliveries(endpointId: $id, limit: $limit, status: $status) { id } }`,
    variables: fc.record(
      { id: anyValue, limit: fc.oneof(fc.integer(), anyValue), status: fc.oneof(fc.constantFrom("pending", "succeeded"), anyValue) },
      { requiredKeys: [] },
    ),
  },
  {
    name: "setRetention",
    query: `mutation($s: ID, $age: Int, $n: Int, $a: Boolean) { setRetention(sessionId: $s, maxAgeSeconds: $age, maxEvents: $n, archive: $a) { scope } }`,
    variables: fc.record(
      {
        s: fc.oneof(fc.constant("ses_fuzz"), str),
        age: fc.oneof(fc.integer(), anyValue),
        n: fc.oneof(fc.integer(), anyValue),
        a: anyValue,
      },
      { requiredKeys: [] },
    ),
  },
  {
    name: "clearRetention",
    query: `mutation($s: ID) { clearRetention(sessionId: $s) }`,
    variables: fc.record({ s: fc.oneof(fc.constant("ses_fuzz"), str, anyValue) }, { requiredKeys: [] }),
  },
  {
    name: "retention",
    query: `query($s: ID) { retention(sessionId: $s) { scope } }`,
    variables: fc.record({ s: fc.oneof(str, anyValue) }, { requiredKeys: [] }),
  },
  {
    name: "sessionChanges",
    query: `query($after: Int, $limit: Int) { sessionChanges(after: $after, limit: $limit) { lastSeq } }`,
    variables: fc.record({ after: fc.oneof(fc.integer(), anyValue), limit: fc.oneof(fc.integer(), anyValue) }, { requiredKeys: [] }),
  },
  // Never ses_fuzz: the tests after this one append to it.
  {
    name: "deleteSession",
    query: `mutation($id: ID!) { deleteSession(id: $id) { id } }`,
    variables: fc.record({ id: anyValue.filter((v) => v !== "ses_fuzz") }, { requiredKeys: [] }),
  },
];

async function post(body: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const res = await fetch(`${s.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}`, ...headers },
    body,
  });
  return { status: res.status, text: await res.text() };
}

/** The GraphQL-over-HTTP properties: no 5xx, JSON, every error coded, no internal_error. */
function checkAnswer({ status, text }: { status: number; text: string }, input: unknown): void {
  expect(status, `${status} for ${JSON.stringify(input)}: ${text.slice(0, 300)}`).toBeLessThan(500);
  const body = JSON.parse(text) as { errors?: { extensions?: { code?: unknown } }[] };
  for (const e of body.errors ?? []) {
    expect(typeof e.extensions?.code, `uncoded error for ${JSON.stringify(input)}: ${text.slice(0, 300)}`).toBe("string");
    expect(e.extensions!.code, `for ${JSON.stringify(input)}: ${text.slice(0, 300)}`).not.toBe("internal_error");
  }
}

const count = (category: string) => (cases[category] = (cases[category] ?? 0) + 1);

describe("GraphQL over HTTP", () => {
  test.each(OPERATIONS.map((o) => [o.name, o] as const))("%s: arbitrary variables", async (_name, op) => {
    await fc.assert(
      fc.asyncProperty(op.variables, async (variables) => {
        count("graphql-http");
        checkAnswer(await post(JSON.stringify({ query: op.query, variables })), variables);
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
  });

  test(`append: payloads, metadata and refs nested ${EVENT_LIMITS.jsonDepth + 1} to 6,000 deep`, async () => {
    await fc.assert(
      fc.asyncProperty(deepText, fc.constantFrom("payload", "metadata", "refs"), async (text, field) => {
        count("graphql-deep-json");
        const event = field === "payload" ? `{"payload":${text}}` : `{"payload":{},"${field}":${text}}`;
        const r = await post(`{"query":${JSON.stringify(OPERATIONS[2]!.query)},"variables":{"sessionId":"ses_fuzz","event":${event}}}`);
        checkAnswer(r, `${field} ${text.length} chars`);
        expect(r.text).toMatch(/invalid_event/);
      }),
      { numRuns: Math.max(5, Math.ceil(RUNS / 4)), endOnFailure: true },
    );
  });

  test("mutated valid append documents", async () => {
    const valid = JSON.stringify({
      query: OPERATIONS[2]!.query,
      variables: {
        sessionId: "ses_fuzz",
        event: { type: "message", payload: { text: "hi", n: [1, 2] }, actor: "agent:a", producerId: "p", producerSeq: 1 },
      },
    });
    const mutation = fc.array(
      fc.record({
        at: fc.nat({ max: valid.length }),
        op: fc.constantFrom("insert", "delete", "replace"),
        ch: fc.string({ unit: "binary", minLength: 1, maxLength: 3 }),
      }),
      { minLength: 1, maxLength: 6 },
    );
    await fc.assert(
      fc.asyncProperty(mutation, async (edits) => {
        count("graphql-mutated-documents");
        let doc = valid;
        for (const e of edits) {
          const at = Math.min(e.at, doc.length);
          doc =
            e.op === "insert"
              ? doc.slice(0, at) + e.ch + doc.slice(at)
              : e.op === "delete"
                ? doc.slice(0, at) + doc.slice(at + 1)
                : doc.slice(0, at) + e.ch + doc.slice(at + 1);
        }
        checkAnswer(await post(doc), doc);
      }),
      { numRuns: RUNS * 3, endOnFailure: true },
    );
  });

  test("arbitrary documents (text) and arbitrary bodies", async () => {
    const doc = fc.oneof(
      fc.string({ unit: "binary", maxLength: 200 }),
      fc
        .array(
          fc.constantFrom(
            "{",
            "}",
            "(",
            ")",
            "...",
            "on",
            "Query",
            "fragment",
            "F",
            "a:",
            "__schema",
            "__typename",
            "viewer",
            "@skip(if: true)",
            "$x",
            ":",
            "Int",
            "[",
            "]",
            '"',
            "#",
            "mutation",
            "subscription",
            " ",
          ),
          { maxLength: 80 },
        )
        .map((t) => t.join(" ")),
    );
    await fc.assert(
      fc.asyncProperty(doc, anyValue, async (query, variables) => {
        count("graphql-documents");
        checkAnswer(await post(JSON.stringify({ query, variables })), { query, variables });
        checkAnswer(await post(JSON.stringify({ query: 42, variables })), { query: 42 });
      }),
      { numRuns: RUNS * 2, endOnFailure: true },
    );
  });
});

describe("GraphQL over WebSocket", () => {
  test("arbitrary subscribe payloads and frames: 44xx closes or coded errors, never 4500", async () => {
    const frame = fc.oneof(
      fc.record({
        id: str,
        type: fc.constant("subscribe"),
        payload: fc.record(
          {
            query: fc.oneof(fc.constant(`subscription($s: ID!, $c: Int) { tail(sessionId: $s, cursor: $c) { cursor } }`), str),
            variables: fc.record({ s: anyValue, c: anyValue }, { requiredKeys: [] }),
          },
          { requiredKeys: [] },
        ),
      }),
      fc.record(
        {
          id: fc.oneof(str, anyValue),
          type: fc.oneof(str, fc.constantFrom("next", "error", "complete", "ping", "pong", "connection_init", "connection_ack")),
          payload: anyValue,
        },
        { requiredKeys: [] },
      ),
      fc.string({ unit: "binary", maxLength: 100 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 4 }), async (frames) => {
        count("graphql-ws");
        const ws = new WebSocket(`${s.wsUrl}`, "graphql-transport-ws");
        const errors: unknown[] = [];
        const closed = new Promise<number>((resolve) => ws.on("close", (code) => resolve(code)));
        ws.on("error", () => {});
        ws.on("message", (d) => {
          const m = JSON.parse(String(d)) as { type: string; payload?: unknown };
          if (m.type === "error") errors.push(...(m.payload as unknown[]));
          if (m.type === "next" && (m.payload as { errors?: unknown[] }).errors)
            errors.push(...(m.payload as { errors: unknown[] }).errors);
        });
        await new Promise((r) => ws.once("open", r));
        ws.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${key}` } }));
        for (const f of frames) ws.send(typeof f === "string" ? f : JSON.stringify(f));
        // A ping after the frames: its pong (or the close) means the server has handled everything before it.
        ws.send(JSON.stringify({ type: "ping" }));
        const code = await Promise.race([
          closed,
          new Promise<number>((resolve) => ws.on("message", (d) => String(d).includes('"pong"') && resolve(0))),
        ]);
        ws.close();
        expect(code, JSON.stringify(frames)).not.toBe(4500);
        for (const e of errors as { extensions?: { code?: unknown } }[]) {
          expect(typeof e.extensions?.code, JSON.stringify({ frames, e })).toBe("string");
          expect(e.extensions!.code, JSON.stringify({ frames, e })).not.toBe("internal_error");
        }
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
  });
});

describe("SQL functions", () => {
  const known = new Set(Object.keys(SQLSTATE_TO_CODE).filter((c) => c !== "SC000"));
  /** Storable text: what a SQL caller can send at all (NUL and lone surrogates are the client library's to refuse). */
  const text = fc.oneof(
    fc.constantFrom("", "ses_fuzz", "default", "😀", "a".repeat(300), "'; --"),
    fc.string({ maxLength: 30 }).filter((x) => !x.includes("\u0000")),
  );
  const jsonb = fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.parse(JSON.stringify(v).replace(/\\u0000/g, "")) as unknown);
  const bigint = fc.oneof(fc.constant(null), fc.integer({ min: -3, max: 3 }), fc.constantFrom(0, 1, 2 ** 53 - 1));
  /** Durable Streams: a few paths, so creations, appends and forks meet the same streams. */
  const streamPath = fc.oneof(fc.constantFrom("f/a", "f/b", "f/a/b", "__ds/x", "f/../a"), text);
  const contentType = fc.oneof(
    fc.constantFrom("application/json", "text/plain", "application/octet-stream", "APPLICATION/JSON; charset=x"),
    text,
  );

  async function sqlCall(run: (sql: postgres.Sql) => Promise<unknown>, input: unknown): Promise<void> {
    try {
      await run(s.db.sql as unknown as postgres.Sql);
    } catch (error) {
      const code = (error as { code?: string }).code;
      expect(known.has(String(code)), `SQLSTATE ${code} (${(error as Error).message}) for ${JSON.stringify(input)}`).toBe(true);
    }
  }

  test.each([
    [
      "append",
      fc.tuple(text, text, jsonb, text, text, jsonb, jsonb, text, text, bigint, bigint),
      (sql: postgres.Sql, a: unknown[]) =>
        sql`select * from starcite.append(${a[0] as string}, ${a[1] as string}, ${sql.json(a[2] as never)}::jsonb, ${a[3] as string}, ${a[4] as string}, ${sql.json(a[5] as never)}::jsonb, ${sql.json(a[6] as never)}::jsonb, nullif(${a[7] as string}, ''), nullif(${a[8] as string}, ''), ${a[9] as number}::bigint, ${a[10] as number}::bigint)`,
    ],
    [
      "append_batch",
      fc.tuple(
        text,
        fc.oneof(
          fc.array(
            fc.dictionary(
              fc.constantFrom(
                "type",
                "payload",
                "actor",
                "producer_id",
                "producer_seq",
                "expected_seq",
                "refs",
                "metadata",
                "idempotency_key",
                "session_id",
                "tenant_id",
              ),
              jsonb,
            ),
            { maxLength: 4 },
          ),
          jsonb,
        ),
        fc.boolean(),
      ),
      (sql: postgres.Sql, a: unknown[]) =>
        sql`select * from starcite.append_batch(${a[0] as string}, ${sql.json(a[1] as never)}::jsonb, ${a[2] as boolean})`,
    ],
    [
      "read",
      fc.tuple(text, bigint, fc.integer({ min: -2, max: 2000 })),
      (sql: postgres.Sql, a: unknown[]) =>
        sql`select * from starcite.read(${a[0] as string}, ${a[1] as number}::bigint, ${a[2] as number})`,
    ],
    [
      "create_session",
      fc.tuple(text, text, jsonb),
      (sql: postgres.Sql, a: unknown[]) =>
        sql`select * from starcite.create_session(nullif(${a[0] as string}, ''), ${a[1] as string}, ${sql.json(a[2] as never)}::jsonb)`,
    ],
    [
      "update_session",
      fc.tuple(text, text, jsonb, fc.oneof(fc.constant(null), fc.integer({ min: -3, max: 3 })), fc.boolean()),
      (sql: postgres.Sql, a: unknown[]) =>
        sql`select * from starcite.update_session(${a[0] as string}, ${a[1] as string}, ${sql.json(a[2] as never)}::jsonb, ${a[3] as number}::int, ${a[4] as boolean})`,
    ],
    [
      "list_sessions",
      fc.tuple(fc.integer({ min: -2, max: 2000 }), text),
      (sql: postgres.Sql, a: unknown[]) => sql`select * from starcite.list_sessions(${a[0] as number}, ${a[1] as string})`,
    ],
    [
      "create_api_key",
      fc.tuple(text, text, fc.array(text, { maxLength: 3 })),
      (sql: postgres.Sql, a: unknown[]) =>
        sql`select * from starcite.create_api_key(${a[0] as string}, ${a[1] as string}, ${a[2] as string[]}::text[])`,
    ],
    [
      "authenticate_api_key",
      fc.tuple(text),
      (sql: postgres.Sql, a: unknown[]) => sql`select * from starcite.authenticate_api_key(${a[0] as string})`,
    ],
    [
      "revoke_api_key",
      fc.tuple(text, text),
      (sql: postgres.Sql, a: unknown[]) => sql`select * from starcite.revoke_api_key(${a[0] as string}, ${a[1] as string})`,
    ],
    [
      "ds_create",
      fc.tuple(streamPath, contentType, bigint, fc.boolean(), fc.option(jsonb), fc.option(streamPath), bigint, bigint, bigint),
      (sql: postgres.Sql, a: unknown[]) =>
        sql`select * from starcite.ds_create(${a[0] as string}, ${a[1] as string}, ${a[2] as number}::bigint, closed => ${a[3] as boolean},
          messages => ${a[4] === null ? null : sql.json(a[4] as never)}::jsonb, fork_path => ${a[5] as string | null},
          fork_epoch => ${a[6] as number}::bigint, fork_seq => ${a[7] as number}::bigint, fork_sub_offset => coalesce(${a[8] as number}::bigint, 0))`,
    ],
    [
      "ds_append",
      fc.tuple(streamPath, contentType, fc.option(jsonb), fc.option(text), fc.option(text), bigint, bigint, fc.boolean()),
      (sql: postgres.Sql, a: unknown[]) =>
        sql`select * from starcite.ds_append(${a[0] as string}, ${a[1] as string}, ${a[2] === null ? null : sql.json(a[2] as never)}::jsonb,
          ${a[2] === null ? Buffer.from("x") : null}::bytea, ${a[3] as string | null}, ${a[4] as string | null}, ${a[5] as number}::bigint,
          ${a[6] as number}::bigint, ${a[7] as boolean})`,
    ],
  ] as const)("starcite.%s: arbitrary storable arguments raise only SC codes", async (_name, args, run) => {
    await fc.assert(
      fc.asyncProperty(args as fc.Arbitrary<unknown[]>, async (a) => {
        count("sql");
        await sqlCall((sql) => run(sql, a), a);
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
  });
});

test("nothing in the fuzz run was logged as an unexpected error", () => {
  expect(logs.errors()).toEqual([]);
});
