/**
 * The compiled append/appendBatch executor (src/server/append-executor.ts) against graphql-js: one database,
 * two servers, one with the fast paths and one without, sent the same requests over HTTP and over graphql-ws.
 * Every answer (status, data, errors with their locations, paths and codes, key order included) must be the
 * same, and the log each one leaves must be the same. The unit tests at the end pin down which documents and
 * variables take the compiled path, so that the comparison is known to compare the two executors.
 */
import { parse } from "graphql";
import type { Client } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { schema } from "../../src/graphql/schema/index.ts";
import { APPEND as SDK_APPEND, APPEND_BATCH as SDK_APPEND_BATCH } from "../../src/sdk/queries.ts";
import { compileAppendMutation } from "../../src/server/append-executor.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { sid } from "../sql/_support.ts";

const APPEND = `mutation($sessionId: ID!, $event: AppendInput!) { append(sessionId: $sessionId, event: $event) { seq lastSeq deduped } }`;
const APPEND_ALIASED = `mutation Add($event: AppendInput!, $sessionId: ID!) {
  added: append(event: $event, sessionId: $sessionId) { __typename deduped at: seq lastSeq } }`;
const BATCH = `mutation($sessionId: ID!, $events: [AppendInput!]!) { appendBatch(sessionId: $sessionId, events: $events) { seq lastSeq deduped } }`;

interface Case {
  name: string;
  query: string;
  variables: (sessionId: string) => Record<string, unknown> | undefined;
  /** Runs on both sides' sessions before the request. */
  setup?: (db: TestDatabase, sessionId: string) => Promise<void>;
  /** The session is not created (session_not_found). */
  missing?: boolean;
}

const event = (extra: Record<string, unknown> = {}) => ({ type: "chunk", payload: { text: "hi" }, ...extra });

const CASES: Case[] = [
  { name: "a plain append", query: APPEND, variables: (s) => ({ sessionId: s, event: event() }) },
  { name: "type left out (its default)", query: APPEND, variables: (s) => ({ sessionId: s, event: { payload: { a: 1 } } }) },
  { name: "type given as null", query: APPEND, variables: (s) => ({ sessionId: s, event: { type: null, payload: { a: 1 } } }) },
  {
    name: "every field",
    query: APPEND,
    variables: (s) => ({
      sessionId: s,
      event: event({
        actor: "agent:x",
        source: "test",
        metadata: { m: [1, 2] },
        refs: ["a"],
        idempotencyKey: "k1",
        producerId: "p",
        producerSeq: 1,
        expectedSeq: 0,
      }),
    }),
  },
  { name: "aliases, __typename, fields reordered", query: APPEND_ALIASED, variables: (s) => ({ sessionId: s, event: event() }) },
  {
    name: "a producer retry (deduped)",
    query: APPEND,
    variables: (s) => ({ sessionId: s, event: event({ producerId: "p", producerSeq: 1 }) }),
    setup: async (db, s) => {
      await db.sql`select * from starcite.append(${s}, 'chunk', ${db.sql.json({ text: "hi" })}::jsonb, producer_id => 'p', producer_seq => 1)`;
    },
  },
  { name: "session_not_found", query: APPEND, variables: (s) => ({ sessionId: s, event: event() }), missing: true },
  { name: "invalid_event: a payload that is not an object", query: APPEND, variables: (s) => ({ sessionId: s, event: { payload: [1] } }) },
  { name: "invalid_event: an empty type", query: APPEND, variables: (s) => ({ sessionId: s, event: { type: "", payload: {} } }) },
  {
    name: "payload_too_large",
    query: APPEND,
    variables: (s) => ({ sessionId: s, event: { payload: { big: "x".repeat(300 * 1024) } } }),
  },
  { name: "expected_seq_conflict", query: APPEND, variables: (s) => ({ sessionId: s, event: event({ expectedSeq: 5 }) }) },
  { name: "producer_seq_conflict", query: APPEND, variables: (s) => ({ sessionId: s, event: event({ producerId: "p", producerSeq: 3 }) }) },
  {
    name: "a seq past 32 bits (the executor's serialisation error, located on the field)",
    query: APPEND_ALIASED,
    variables: (s) => ({ sessionId: s, event: event() }),
    setup: async (db, s) => {
      await db.sql`update starcite.sessions set last_seq = ${2 ** 31 - 1} where id = ${s}`;
    },
  },
  // Variables graphql-js coerces itself (the compiled executor hands these over before anything runs).
  { name: "no variables", query: APPEND, variables: () => undefined },
  { name: "payload missing", query: APPEND, variables: (s) => ({ sessionId: s, event: { type: "x" } }) },
  { name: "payload null", query: APPEND, variables: (s) => ({ sessionId: s, event: { payload: null } }) },
  { name: "an unknown field", query: APPEND, variables: (s) => ({ sessionId: s, event: event({ colour: "red" }) }) },
  {
    name: "producerSeq past 32 bits",
    query: APPEND,
    variables: (s) => ({ sessionId: s, event: event({ producerId: "p", producerSeq: 2 ** 31 }) }),
  },
  {
    name: "producerSeq not an integer",
    query: APPEND,
    variables: (s) => ({ sessionId: s, event: event({ producerId: "p", producerSeq: 1.5 }) }),
  },
  { name: "actor a number", query: APPEND, variables: (s) => ({ sessionId: s, event: event({ actor: 7 }) }) },
  { name: "event an array", query: APPEND, variables: (s) => ({ sessionId: s, event: [event()] }) },
  { name: "event null", query: APPEND, variables: (s) => ({ sessionId: s, event: null }) },
  { name: "sessionId null", query: APPEND, variables: () => ({ sessionId: null, event: event() }) },
  {
    name: "appendBatch of three",
    query: BATCH,
    variables: (s) => ({ sessionId: s, events: [event(), event({ type: "b" }), { payload: {} }] }),
  },
  { name: "appendBatch, empty", query: BATCH, variables: (s) => ({ sessionId: s, events: [] }) },
  {
    name: "appendBatch, one bad event (nothing written)",
    query: BATCH,
    variables: (s) => ({ sessionId: s, events: [event(), { payload: 1 }] }),
  },
  {
    name: "appendBatch, one object for the list (coerced by graphql-js)",
    query: BATCH,
    variables: (s) => ({ sessionId: s, events: event() }),
  },
  { name: "appendBatch, an unknown field in one", query: BATCH, variables: (s) => ({ sessionId: s, events: [event(), event({ x: 1 })] }) },
  {
    name: "appendBatch past 32 bits (error path includes the list index)",
    query: BATCH,
    variables: (s) => ({ sessionId: s, events: [event(), event()] }),
    setup: async (db, s) => {
      await db.sql`update starcite.sessions set last_seq = ${2 ** 31 - 2} where id = ${s}`;
    },
  },
];

let db: TestDatabase;
let fast: TestServer;
let slow: TestServer;

beforeAll(async () => {
  db = await createTestDatabase();
  fast = await startTestServer({ fastPaths: true }, db);
  slow = await startTestServer({ fastPaths: false }, db);
});

afterAll(async () => {
  await fast?.close();
  await slow?.close();
  await db?.drop();
});

/** A session per side, prepared the same way; returns its id. */
async function prepare(c: Case, side: string): Promise<string> {
  const id = sid(`ca-${side}`);
  if (!c.missing) await db.sql`select starcite.create_session(${id})`;
  if (c.setup) await c.setup(db, id);
  return id;
}

async function overHttp(t: TestServer, c: Case, sessionId: string): Promise<string> {
  const res = await fetch(`${t.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: c.query, variables: c.variables(sessionId) }),
  });
  // Re-serialised so that the comparison is of values and key order, not of whitespace.
  return `${res.status} ${JSON.stringify(await res.json())}`.replaceAll(sessionId, "<session>");
}

function overWs(client: Client, c: Case, sessionId: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const results: unknown[] = [];
    client.subscribe(
      { query: c.query, variables: c.variables(sessionId) },
      {
        next: (r) => results.push(r),
        error: (e) => resolve(`error ${JSON.stringify(e)}`.replaceAll(sessionId, "<session>")),
        complete: () => resolve(JSON.stringify(results).replaceAll(sessionId, "<session>")),
      },
    );
    setTimeout(() => reject(new Error(`${c.name}: no answer over graphql-ws in 10 s`)), 10_000).unref();
  });
}

/** What a session holds afterwards, without what differs by side (session id, insert time). */
async function logOf(sessionId: string): Promise<unknown> {
  const rows = await db.sql`
    select seq, type, payload, actor, source, metadata, refs, idempotency_key, producer_id, producer_seq
    from starcite.events where session_id = ${sessionId} order by seq`;
  const [session] = await db.sql<{ last_seq: number }[]>`select last_seq from starcite.sessions where id = ${sessionId}`;
  return { events: rows.map((r) => ({ ...r })), lastSeq: session?.last_seq ?? null };
}

describe("the same answers with and without the compiled executor", () => {
  for (const c of CASES) {
    test(`HTTP: ${c.name}`, async () => {
      const [a, b] = [await prepare(c, "f"), await prepare(c, "s")];
      const [fromFast, fromSlow] = [await overHttp(fast, c, a), await overHttp(slow, c, b)];
      expect(fromFast).toBe(fromSlow);
      expect(await logOf(a)).toEqual(await logOf(b));
    });
  }

  test("graphql-ws: every case", async () => {
    const fastClient = fast.wsClient();
    const slowClient = slow.wsClient();
    for (const c of CASES) {
      const [a, b] = [await prepare(c, "wf"), await prepare(c, "ws")];
      const [fromFast, fromSlow] = [await overWs(fastClient, c, a), await overWs(slowClient, c, b)];
      expect(fromFast, c.name).toBe(fromSlow);
      expect(await logOf(a), c.name).toEqual(await logOf(b));
    }
  });
});

describe("what compiles", () => {
  const compile = (query: string, operationName?: string) => compileAppendMutation(schema, parse(query), operationName);

  test("the SDK's and the landing page's documents compile; others are left to graphql-js", () => {
    expect(compile(APPEND)).not.toBeNull();
    expect(compile(APPEND_ALIASED, "Add")).not.toBeNull();
    expect(compile(BATCH)).not.toBeNull();
    expect(compile(SDK_APPEND, "Append")).not.toBeNull();
    expect(compile(SDK_APPEND_BATCH, "AppendBatch")).not.toBeNull();
    // A literal argument, a fragment, a directive, a second root field, a nullable variable, a query: not compiled.
    expect(compile(`mutation($e: AppendInput!) { append(sessionId: "s", event: $e) { seq } }`)).toBeNull();
    expect(
      compile(`mutation($s: ID!, $e: AppendInput!) { append(sessionId: $s, event: $e) { ...F } } fragment F on AppendResult { seq }`),
    ).toBeNull();
    expect(compile(`mutation($s: ID!, $e: AppendInput!) { append(sessionId: $s, event: $e) { seq @include(if: true) } }`)).toBeNull();
    expect(
      compile(
        `mutation($s: ID!, $e: AppendInput!) { a: append(sessionId: $s, event: $e) { seq } b: append(sessionId: $s, event: $e) { seq } }`,
      ),
    ).toBeNull();
    expect(compile(`mutation($s: ID!, $e: AppendInput!) { append(sessionId: $s, event: $e) { seq seq } }`)).toBeNull();
    expect(compile(`query($s: ID!) { session(id: $s) { id } }`)).toBeNull();
  });

  test("variables graphql-js would coerce differently (or refuse) are handed back before the resolver runs", async () => {
    const run = compile(APPEND)!;
    let resolved = 0;
    const context = new Proxy({}, { get: () => ((resolved += 1), undefined) });
    for (const variables of [
      undefined,
      { sessionId: 5, event: event() },
      { sessionId: "s", event: { type: "x" } },
      { sessionId: "s", event: event({ producerSeq: 2 ** 31 }) },
      { sessionId: "s", event: event({ expectedSeq: "3" }) },
      { sessionId: "s", event: event({ nope: 1 }) },
      { sessionId: "s", event: [event()] },
    ]) {
      expect(run(context, variables), JSON.stringify(variables)).toBeNull();
    }
    expect(resolved).toBe(0);
    // Plain variables do run here: the resolver reads the context (which has no auth, so it refuses).
    const result = await run(context, { sessionId: "s", event: event({ producerId: "p", producerSeq: 1, metadata: null }) });
    expect(resolved).toBeGreaterThan(0);
    expect(result?.data).toBeNull();
    expect(result?.errors?.[0]?.path).toEqual(["append"]);
  });
});
