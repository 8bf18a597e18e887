/**
 * The public GraphQL contract, exercised over a real server on a real port: the committed SDL, every
 * query and mutation over HTTP with its documented error codes, subscription errors over graphql-ws, and
 * group commit of concurrent appends. Every wait is on a real condition with a bounded deadline.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { buildSchema, type GraphQLArgument, type GraphQLSchema } from "graphql";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { printedSchema, schema as liveSchema } from "../../src/graphql/schema/index.ts";
import { ROOT } from "../helpers/node.ts";
import { collectTail, startTestServer, type GraphQLResponse, type TestServer } from "../helpers/server.ts";
import { sid, within } from "../sql/_support.ts";

const SCHEMA_FILE = path.join(ROOT, "schema.graphql");

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
});

afterAll(async () => {
  await t?.close();
});

// ------------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------------

type Ext = Record<string, unknown>;

/** The single error of a failed operation; asserts its extensions.code. */
function expectError(res: GraphQLResponse, code: string): Ext {
  expect(res.errors, `expected error ${code}, got ${JSON.stringify(res)}`).toBeDefined();
  expect(res.errors!.length).toBeGreaterThanOrEqual(1);
  const ext = res.errors![0]!.extensions ?? {};
  expect(ext.code, JSON.stringify(res.errors)).toBe(code);
  return ext;
}

function expectOk<T>(res: GraphQLResponse<T>): T {
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  expect(res.data).toBeTruthy();
  return res.data!;
}

const SESSION_FIELDS = "id title metadata lastSeq version archived createdAt updatedAt";
const EVENT_FIELDS = "seq sessionId type payload actor source metadata refs idempotencyKey producerId producerSeq insertedAt";
/** ISO-8601 in UTC; the exact six-digit form is checked deterministically in its own test. */
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;

const CREATE = `mutation($id: ID, $title: String, $metadata: JSON) {
  createSession(id: $id, title: $title, metadata: $metadata) { ${SESSION_FIELDS} } }`;
const GET = `query($id: ID!) { session(id: $id) { ${SESSION_FIELDS} } }`;
const LIST = `query($limit: Int, $after: ID, $archived: Boolean) {
  sessions(limit: $limit, after: $after, archived: $archived) { id archived } }`;
const UPDATE = `mutation($id: ID!, $title: String, $metadata: JSON, $expectedVersion: Int, $archived: Boolean) {
  updateSession(id: $id, title: $title, metadata: $metadata, expectedVersion: $expectedVersion, archived: $archived) {
    ${SESSION_FIELDS} } }`;
const APPEND = `mutation($sessionId: ID!, $event: AppendInput!) {
  append(sessionId: $sessionId, event: $event) { seq lastSeq deduped } }`;
const APPEND_BATCH = `mutation($sessionId: ID!, $events: [AppendInput!]!) {
  appendBatch(sessionId: $sessionId, events: $events) { seq lastSeq deduped } }`;
const EVENTS = `query($sessionId: ID!, $after: Int, $limit: Int) {
  events(sessionId: $sessionId, after: $after, limit: $limit) { nextCursor lastSeq events { ${EVENT_FIELDS} } } }`;

interface AppendResult {
  seq: number;
  lastSeq: number;
  deduped: boolean;
}

async function newSession(prefix = "c"): Promise<string> {
  const id = sid(prefix);
  expectOk(await t.gql(CREATE, { id }));
  return id;
}

const append = (sessionId: string, event: Record<string, unknown>) => t.gql<{ append: AppendResult }>(APPEND, { sessionId, event });

async function seqsOf(sessionId: string): Promise<number[]> {
  const data = expectOk(await t.gql(EVENTS, { sessionId, limit: 1000 }));
  return (data.events.events as { seq: number }[]).map((e) => e.seq);
}

async function metricValue(name: string): Promise<number> {
  const res = await fetch(`${t.url}/metrics`);
  expect(res.status).toBe(200);
  const text = await res.text();
  const m = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
  expect(m, `metric ${name} in /metrics`).not.toBeNull();
  return Number(m![1]);
}

// ------------------------------------------------------------------------------------------------
// Schema
// ------------------------------------------------------------------------------------------------

describe("schema", () => {
  const sdl = fs.readFileSync(SCHEMA_FILE, "utf8");

  test("printedSchema() equals the committed schema.graphql (run `npm run schema:print` after changing the schema)", () => {
    expect(printedSchema()).toBe(sdl);
  });

  test("`npm run schema:print` (tsx, plain Node module resolution) prints the same SDL", () => {
    const printed = execFileSync(
      process.execPath,
      [
        "--conditions=@starcite/source",
        "--import",
        "tsx",
        "--input-type=module",
        "-e",
        'const { printedSchema } = await import("./src/graphql/schema/index.ts"); process.stdout.write(printedSchema());',
      ],
      { cwd: ROOT, encoding: "utf8", timeout: 15_000 },
    );
    expect(printed).toBe(sdl);
  });

  /** Field name -> printed type, for exact nullability comparisons. */
  function fieldTypes(s: GraphQLSchema, typeName: string): Record<string, string> {
    const type = s.getType(typeName) as { getFields?: () => Record<string, { type: unknown }> } | undefined;
    expect(type?.getFields, `type ${typeName}`).toBeTypeOf("function");
    return Object.fromEntries(Object.entries(type!.getFields!()).map(([k, f]) => [k, String(f.type)]));
  }

  function field(s: GraphQLSchema, typeName: string, name: string): { args: readonly GraphQLArgument[] } {
    const type = s.getType(typeName) as { getFields(): Record<string, { args: readonly GraphQLArgument[] }> };
    const f = type.getFields()[name];
    expect(f, `${typeName}.${name}`).toBeDefined();
    return f!;
  }

  function args(s: GraphQLSchema, typeName: string, name: string): Record<string, { type: string; default: unknown }> {
    return Object.fromEntries(field(s, typeName, name).args.map((a) => [a.name, { type: String(a.type), default: a.defaultValue }]));
  }

  for (const [label, getSchema] of [
    ["committed schema.graphql", () => buildSchema(sdl)],
    ["the `schema` export", () => liveSchema],
  ] as const) {
    describe(label, () => {
      const s = getSchema();

      // Data types are compared exactly; root types only for the contract's fields (other features add fields).
      test("Session, Event, AppendResult, EventPage and TailBatch have exactly the contract's fields and nullability", () => {
        expect(fieldTypes(s, "Session")).toEqual({
          id: "ID!",
          title: "String",
          metadata: "JSON!",
          lastSeq: "Int!",
          version: "Int!",
          archived: "Boolean!",
          createdAt: "DateTime!",
          updatedAt: "DateTime!",
        });
        expect(fieldTypes(s, "Event")).toEqual({
          seq: "Int!",
          sessionId: "ID!",
          type: "String!",
          payload: "JSON!",
          actor: "String",
          source: "String",
          metadata: "JSON",
          refs: "JSON",
          idempotencyKey: "String",
          producerId: "String",
          producerSeq: "Int",
          insertedAt: "DateTime!",
        });
        expect(fieldTypes(s, "AppendResult")).toEqual({ seq: "Int!", lastSeq: "Int!", deduped: "Boolean!" });
        expect(fieldTypes(s, "EventPage")).toEqual({ events: "[Event!]!", nextCursor: "Int!", lastSeq: "Int!" });
        expect(fieldTypes(s, "TailBatch")).toEqual({ events: "[Event!]!", cursor: "Int!", live: "Boolean!" });
        expect(String(s.getType("JSON")?.constructor.name)).toBe("GraphQLScalarType");
        expect(String(s.getType("DateTime")?.constructor.name)).toBe("GraphQLScalarType");
      });

      test('AppendInput: payload JSON!, type defaults to "content", everything else optional', () => {
        expect(fieldTypes(s, "AppendInput")).toEqual({
          type: "String",
          payload: "JSON!",
          actor: "String",
          source: "String",
          metadata: "JSON",
          refs: "JSON",
          idempotencyKey: "String",
          producerId: "String",
          producerSeq: "Int",
          expectedSeq: "Int",
        });
        const input = (s.getType("AppendInput") as unknown as { getFields(): Record<string, { defaultValue: unknown }> }).getFields();
        expect(input.type!.defaultValue).toBe("content");
        for (const [name, f] of Object.entries(input)) if (name !== "type") expect(f.defaultValue, name).toBeUndefined();
      });

      test("Query, Mutation and Subscription fields, arguments and defaults", () => {
        expect(fieldTypes(s, "Query")).toMatchObject({ session: "Session", sessions: "[Session!]!", events: "EventPage!" });
        expect(args(s, "Query", "session")).toEqual({ id: { type: "ID!", default: undefined } });
        expect(args(s, "Query", "sessions")).toEqual({
          limit: { type: "Int", default: 100 },
          after: { type: "ID", default: undefined },
          archived: { type: "Boolean", default: false },
        });
        expect(args(s, "Query", "events")).toEqual({
          sessionId: { type: "ID!", default: undefined },
          after: { type: "Int", default: 0 },
          limit: { type: "Int", default: 100 },
        });

        expect(fieldTypes(s, "Mutation")).toMatchObject({
          createSession: "Session!",
          updateSession: "Session!",
          append: "AppendResult!",
          appendBatch: "[AppendResult!]!",
        });
        expect(args(s, "Mutation", "createSession")).toEqual({
          id: { type: "ID", default: undefined },
          title: { type: "String", default: undefined },
          metadata: { type: "JSON", default: undefined },
        });
        expect(args(s, "Mutation", "updateSession")).toEqual({
          id: { type: "ID!", default: undefined },
          title: { type: "String", default: undefined },
          metadata: { type: "JSON", default: undefined },
          expectedVersion: { type: "Int", default: undefined },
          archived: { type: "Boolean", default: undefined },
        });
        expect(args(s, "Mutation", "append")).toEqual({
          sessionId: { type: "ID!", default: undefined },
          event: { type: "AppendInput!", default: undefined },
        });
        expect(args(s, "Mutation", "appendBatch")).toEqual({
          sessionId: { type: "ID!", default: undefined },
          events: { type: "[AppendInput!]!", default: undefined },
        });

        expect(fieldTypes(s, "Subscription")).toMatchObject({ tail: "TailBatch!" });
        expect(args(s, "Subscription", "tail")).toEqual({
          sessionId: { type: "ID!", default: undefined },
          cursor: { type: "Int", default: 0 },
        });
      });
    });
  }
});

// ------------------------------------------------------------------------------------------------
// Sessions over HTTP
// ------------------------------------------------------------------------------------------------

describe("sessions over HTTP", () => {
  test("createSession with an id, then session(id) returns it; unknown id is null", async () => {
    const id = sid("named");
    const created = expectOk(await t.gql(CREATE, { id, title: "hello", metadata: { a: 1, nested: { b: [1, 2] } } }));
    expect(created.createSession).toMatchObject({
      id,
      title: "hello",
      metadata: { a: 1, nested: { b: [1, 2] } },
      lastSeq: 0,
      version: 1,
      archived: false,
    });
    expect(created.createSession.createdAt).toMatch(ISO_UTC);
    expect(created.createSession.updatedAt).toMatch(ISO_UTC);

    expect(expectOk(await t.gql(GET, { id })).session).toEqual(created.createSession);
    expect(expectOk(await t.gql(GET, { id: sid("missing") })).session).toBeNull();
  });

  test("createSession without id generates a ses_ id; defaults are title null, metadata {}", async () => {
    const a = expectOk(await t.gql(CREATE, {})).createSession;
    const b = expectOk(await t.gql(`mutation { createSession { id title metadata version } }`)).createSession;
    expect(a.id).toMatch(/^ses_[A-Za-z0-9_-]+$/);
    expect(b.id).toMatch(/^ses_/);
    expect(a.id).not.toBe(b.id);
    expect(a).toMatchObject({ title: null, metadata: {}, lastSeq: 0, version: 1, archived: false });
  });

  test("createSession errors: taken id -> session_exists, bad id / non-object metadata -> invalid_argument", async () => {
    const id = await newSession();
    expect(expectError(await t.gql(CREATE, { id }), "session_exists").sessionId).toBe(id);
    expectError(await t.gql(CREATE, { id: "has space" }), "invalid_argument");
    expectError(await t.gql(CREATE, { id: "-leading-dash" }), "invalid_argument");
    expect(expectError(await t.gql(CREATE, { metadata: [1, 2] }), "invalid_argument").field).toBe("metadata");
    expect(expectError(await t.gql(CREATE, { metadata: "text" }), "invalid_argument").field).toBe("metadata");
  });

  test("updateSession bumps version; expectedVersion mismatch -> version_conflict; unknown -> session_not_found", async () => {
    const id = await newSession();
    const v2 = expectOk(await t.gql(UPDATE, { id, title: "renamed" })).updateSession;
    expect(v2).toMatchObject({ id, title: "renamed", metadata: {}, version: 2, archived: false });

    const v3 = expectOk(await t.gql(UPDATE, { id, metadata: { k: "v" }, expectedVersion: 2 })).updateSession;
    expect(v3).toMatchObject({ title: "renamed", metadata: { k: "v" }, version: 3 });
    expect(Date.parse(v3.updatedAt)).toBeGreaterThanOrEqual(Date.parse(v2.updatedAt));

    const ext = expectError(await t.gql(UPDATE, { id, title: "stale", expectedVersion: 2 }), "version_conflict");
    expect(ext).toMatchObject({ version: 3, expectedVersion: 2, sessionId: id });
    // The failed update changed nothing.
    expect(expectOk(await t.gql(GET, { id })).session).toMatchObject({ title: "renamed", version: 3 });

    expectError(await t.gql(UPDATE, { id: sid("missing"), title: "x" }), "session_not_found");
    expectError(await t.gql(UPDATE, { id, metadata: [1] }), "invalid_argument");
  });

  test("DateTime values are UTC ISO-8601 with exactly six fractional digits, as the scalar documents", async () => {
    const id = await newSession();
    expectOk(await append(id, { payload: {} }));
    // Timestamps whose microseconds end in zeros: Postgres prints them shortened (".12", or no fraction at all).
    await t.db.sql`update starcite.sessions set created_at = '2026-01-02 03:04:05.12+00', updated_at = '2026-01-02 03:04:05+00'
                   where id = ${id}`;
    await t.db.sql`update starcite.events set inserted_at = '2026-01-02 03:04:05.1234+00' where session_id = ${id}`;
    const session = expectOk(await t.gql(GET, { id })).session;
    const event = expectOk(await t.gql(EVENTS, { sessionId: id })).events.events[0];
    expect({ createdAt: session.createdAt, updatedAt: session.updatedAt, insertedAt: event.insertedAt }).toEqual({
      createdAt: "2026-01-02T03:04:05.120000Z",
      updatedAt: "2026-01-02T03:04:05.000000Z",
      insertedAt: "2026-01-02T03:04:05.123400Z",
    });
  });

  test("sessions: keyset paging with after/limit, archived filter after updateSession(archived: true)", async () => {
    // Ids that sort after every other id this file creates, so paging from "zzpage-" sees exactly these.
    const ids = ["zzpage-01", "zzpage-02", "zzpage-03", "zzpage-04", "zzpage-05"];
    for (const id of [...ids].reverse()) expectOk(await t.gql(CREATE, { id }));

    const seen: string[] = [];
    let after = "zzpage-";
    for (let page = 0; page < 10; page++) {
      const list = expectOk(await t.gql(LIST, { after, limit: 2 })).sessions as { id: string }[];
      expect(list.length).toBeLessThanOrEqual(2);
      if (list.length === 0) break;
      seen.push(...list.map((s) => s.id));
      after = list.at(-1)!.id;
    }
    expect(seen).toEqual(ids);

    // Default limit (100) and order by id: the whole list is sorted and contains ours at the end.
    const all = (expectOk(await t.gql(`{ sessions { id } }`)).sessions as { id: string }[]).map((s) => s.id);
    expect(all).toEqual([...all].sort());
    expect(all.slice(-5)).toEqual(ids);

    const archived = expectOk(await t.gql(UPDATE, { id: "zzpage-03", archived: true })).updateSession;
    expect(archived).toMatchObject({ archived: true, version: 2 });

    const active = (expectOk(await t.gql(LIST, { after: "zzpage-" })).sessions as { id: string }[]).map((s) => s.id);
    expect(active).toEqual(["zzpage-01", "zzpage-02", "zzpage-04", "zzpage-05"]);
    const onlyArchived = expectOk(await t.gql(LIST, { archived: true })).sessions as { id: string; archived: boolean }[];
    expect(onlyArchived).toEqual([{ id: "zzpage-03", archived: true }]);
    // An archived session is still readable by id.
    expect(expectOk(await t.gql(GET, { id: "zzpage-03" })).session.archived).toBe(true);

    expectError(await t.gql(LIST, { limit: 0 }), "invalid_argument");
    expectError(await t.gql(LIST, { limit: 1001 }), "invalid_argument");
  });
});

// ------------------------------------------------------------------------------------------------
// Appends and reads over HTTP
// ------------------------------------------------------------------------------------------------

describe("append over HTTP", () => {
  test("seq/lastSeq/deduped, and the stored event round-trips every field", async () => {
    const id = await newSession();
    expect(expectOk(await append(id, { payload: { n: 1 } })).append).toEqual({ seq: 1, lastSeq: 1, deduped: false });
    const full = {
      type: "message",
      payload: { text: "hi", list: [1, "two", null], nested: { ok: true } },
      actor: "agent:drafter",
      source: "unit",
      metadata: { m: 1 },
      refs: ["ref-1", { seq: 1 }],
      idempotencyKey: "idem-1",
      producerId: "p1",
      producerSeq: 1,
    };
    expect(expectOk(await append(id, full)).append).toEqual({ seq: 2, lastSeq: 2, deduped: false });

    const page = expectOk(await t.gql(EVENTS, { sessionId: id })).events;
    expect(page.lastSeq).toBe(2);
    expect(page.nextCursor).toBe(2);
    const [first, second] = page.events;
    expect(first).toMatchObject({
      seq: 1,
      sessionId: id,
      type: "content",
      payload: { n: 1 },
      actor: null,
      source: null,
      metadata: null,
      refs: null,
      idempotencyKey: null,
      producerId: null,
      producerSeq: null,
    });
    expect(second).toMatchObject({ seq: 2, sessionId: id, ...full });
    expect(first.insertedAt).toMatch(ISO_UTC);
    expect(Date.parse(second.insertedAt)).toBeGreaterThanOrEqual(Date.parse(first.insertedAt));

    expect(expectOk(await t.gql(GET, { id })).session.lastSeq).toBe(2);
  });

  test("producer retry dedupes to the original seq; gap -> producer_seq_conflict; changed content -> producer_replay_conflict", async () => {
    const id = await newSession();
    const e1 = { type: "msg", payload: { text: "one" }, producerId: "writer", producerSeq: 1 };
    expect(expectOk(await append(id, e1)).append).toEqual({ seq: 1, lastSeq: 1, deduped: false });
    expect(expectOk(await append(id, { payload: { other: true } })).append.seq).toBe(2);
    // The retry reports the original seq and the session's current lastSeq.
    expect(expectOk(await append(id, e1)).append).toEqual({ seq: 1, lastSeq: 2, deduped: true });

    const gap = expectError(await append(id, { ...e1, producerSeq: 3 }), "producer_seq_conflict");
    expect(gap).toMatchObject({ producerId: "writer", expectedProducerSeq: 2, producerSeq: 3, lastProducerSeq: 1 });

    const replay = expectError(await append(id, { ...e1, payload: { text: "changed" } }), "producer_replay_conflict");
    expect(replay).toMatchObject({ producerId: "writer", producerSeq: 1, seq: 1 });

    expect(expectOk(await append(id, { ...e1, producerSeq: 2 })).append).toEqual({ seq: 3, lastSeq: 3, deduped: false });
    expect(await seqsOf(id)).toEqual([1, 2, 3]);
  });

  test("idempotencyKey dedupes; reuse with different content -> idempotency_conflict", async () => {
    const id = await newSession();
    const e = { payload: { a: 1 }, idempotencyKey: "k-1" };
    expect(expectOk(await append(id, e)).append).toEqual({ seq: 1, lastSeq: 1, deduped: false });
    expect(expectOk(await append(id, e)).append).toEqual({ seq: 1, lastSeq: 1, deduped: true });
    expect(expectError(await append(id, { ...e, payload: { a: 2 } }), "idempotency_conflict").seq).toBe(1);
    expect(await seqsOf(id)).toEqual([1]);
  });

  test("expectedSeq: match appends, mismatch -> expected_seq_conflict", async () => {
    const id = await newSession();
    expect(expectOk(await append(id, { payload: {}, expectedSeq: 0 })).append.seq).toBe(1);
    const ext = expectError(await append(id, { payload: {}, expectedSeq: 0 }), "expected_seq_conflict");
    expect(ext).toMatchObject({ sessionId: id, lastSeq: 1, expectedSeq: 0 });
    expect(expectOk(await append(id, { payload: {}, expectedSeq: 1 })).append.seq).toBe(2);
    expect(await seqsOf(id)).toEqual([1, 2]);
  });

  test("rejected appends: session_not_found, invalid_event, payload_too_large; nothing is written", async () => {
    const id = await newSession();
    const missing = sid("missing");
    expect(expectError(await append(missing, { payload: {} }), "session_not_found").sessionId).toBe(missing);

    for (const payload of [[1, 2], "text", 42, true, null]) {
      const res = await append(id, { payload });
      if (payload === null) {
        // null for a JSON! argument is a GraphQL coercion error.
        expectError(res, "bad_request");
      } else {
        expect(expectError(res, "invalid_event").field).toBe("payload");
      }
    }

    const big = { text: "x".repeat(262_144) };
    expect(expectError(await append(id, { payload: big }), "payload_too_large")).toMatchObject({ field: "payload", limit: 262144 });
    // Just under the limit is accepted: {"text": "..."} adds 12 bytes of JSON around the string.
    expect(expectOk(await append(id, { payload: { text: "x".repeat(262_144 - 12) } })).append.seq).toBe(1);

    expect(expectError(await append(id, { payload: {}, producerId: "p" }), "invalid_event").field).toBe("producer_seq");
    expect(expectError(await append(id, { payload: {}, producerSeq: 1 }), "invalid_event").field).toBe("producer_id");
    expect(expectError(await append(id, { payload: {}, type: "" }), "invalid_event").field).toBe("type");
    expect(expectError(await append(id, { payload: {}, producerId: "p", producerSeq: 0 }), "invalid_event").field).toBe("producer_seq");
    // The SQL layer's code for an event's non-object metadata (GraphQL once said invalid_argument here).
    expect(expectError(await append(id, { payload: {}, metadata: [1] }), "invalid_event").field).toBe("metadata");

    expect(await seqsOf(id)).toEqual([1]);
  });

  test("a payload Postgres cannot store (a NUL character) is rejected as invalid_event, not internal_error", async () => {
    const id = await newSession();
    expectError(await append(id, { payload: { text: "nul\u0000byte" } }), "invalid_event");
    expectError(
      await t.gql(APPEND_BATCH, { sessionId: id, events: [{ payload: { ok: 1 } }, { payload: { "k\u0000": 1 } }] }),
      "invalid_event",
    );
    expect(await seqsOf(id)).toEqual([]);
  });

  test("appendBatch appends all, in order, atomically", async () => {
    const id = await newSession();
    const res = expectOk(
      await t.gql(APPEND_BATCH, {
        sessionId: id,
        events: [{ payload: { i: 0 } }, { payload: { i: 1 }, producerId: "b", producerSeq: 1 }, { payload: { i: 2 }, type: "x" }],
      }),
    ).appendBatch;
    expect(res).toEqual([
      { seq: 1, lastSeq: 1, deduped: false },
      { seq: 2, lastSeq: 2, deduped: false },
      { seq: 3, lastSeq: 3, deduped: false },
    ]);
    // A retry of the whole batch inside a new batch: the producer item dedupes, the others append.
    const again = expectOk(
      await t.gql(APPEND_BATCH, {
        sessionId: id,
        events: [{ payload: { i: 1 }, producerId: "b", producerSeq: 1 }, { payload: { i: 3 } }],
      }),
    ).appendBatch;
    expect(again).toEqual([
      { seq: 2, lastSeq: 3, deduped: true },
      { seq: 4, lastSeq: 4, deduped: false },
    ]);

    const events = expectOk(await t.gql(EVENTS, { sessionId: id })).events.events as { seq: number; payload: { i: number } }[];
    expect(events.map((e) => [e.seq, e.payload.i])).toEqual([
      [1, 0],
      [2, 1],
      [3, 2],
      [4, 3],
    ]);
  });

  test("appendBatch with one bad item fails with its error and writes NOTHING", async () => {
    const id = await newSession();
    expectOk(await append(id, { payload: { before: true } }));

    const cases: [Record<string, unknown>, string][] = [
      [{ payload: [1] }, "invalid_event"],
      [{ payload: { big: "y".repeat(262_200) } }, "payload_too_large"],
      [{ payload: {}, producerId: "p" }, "invalid_event"],
      [{ payload: {}, expectedSeq: 0 }, "expected_seq_conflict"],
      [{ payload: {}, type: "" }, "invalid_event"],
    ];
    for (const [bad, code] of cases) {
      const res = await t.gql(APPEND_BATCH, { sessionId: id, events: [{ payload: { a: 1 } }, bad, { payload: { c: 3 } }] });
      expectError(res, code);
      expect(res.data ?? null).toBeNull();
      expect(await seqsOf(id), `after a batch failing with ${code}`).toEqual([1]);
    }
    expectError(await t.gql(APPEND_BATCH, { sessionId: sid("missing"), events: [{ payload: {} }] }), "session_not_found");
    // Position of the culprit is reported for SQL-side rejections.
    const ext = expectError(
      await t.gql(APPEND_BATCH, { sessionId: id, events: [{ payload: {} }, { payload: {} }, { payload: {}, type: "" }] }),
      "invalid_event",
    );
    expect(ext.index).toBe(2);
    expect(await seqsOf(id)).toEqual([1]);
    expect(expectOk(await t.gql(GET, { id })).session.lastSeq).toBe(1);

    // An empty batch is a no-op.
    expect(expectOk(await t.gql(APPEND_BATCH, { sessionId: id, events: [] })).appendBatch).toEqual([]);
  });
});

describe("events over HTTP", () => {
  test("paging with after/limit, nextCursor and lastSeq", async () => {
    const id = await newSession();
    expectOk(await t.gql(APPEND_BATCH, { sessionId: id, events: Array.from({ length: 7 }, (_, i) => ({ payload: { i } })) }));

    const seen: number[] = [];
    let after = 0;
    for (let page = 0; page < 10; page++) {
      const p = expectOk(await t.gql(EVENTS, { sessionId: id, after, limit: 3 })).events;
      expect(p.lastSeq).toBe(7);
      expect(p.events.length).toBeLessThanOrEqual(3);
      if (p.events.length === 0) {
        expect(p.nextCursor).toBe(after);
        break;
      }
      seen.push(...p.events.map((e: { seq: number }) => e.seq));
      expect(p.nextCursor).toBe(p.events.at(-1).seq);
      after = p.nextCursor;
    }
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7]);

    // Defaults: after 0, limit 100.
    const all = expectOk(await t.gql(`query($id: ID!) { events(sessionId: $id) { nextCursor lastSeq events { seq } } }`, { id })).events;
    expect(all).toEqual({ nextCursor: 7, lastSeq: 7, events: seen.map((seq) => ({ seq })) });

    // Beyond the end, and an empty session.
    expect(expectOk(await t.gql(EVENTS, { sessionId: id, after: 100 })).events).toEqual({ nextCursor: 100, lastSeq: 7, events: [] });
    const empty = await newSession();
    expect(expectOk(await t.gql(EVENTS, { sessionId: empty })).events).toEqual({ nextCursor: 0, lastSeq: 0, events: [] });
    // limit 1000 is the maximum allowed.
    expect(expectOk(await t.gql(EVENTS, { sessionId: id, limit: 1000 })).events.events).toHaveLength(7);
  });

  test("limit 0 / 1001 and negative after -> invalid_argument; unknown session -> session_not_found", async () => {
    const id = await newSession();
    expect(expectError(await t.gql(EVENTS, { sessionId: id, limit: 0 }), "invalid_argument").field).toBe("limit");
    expect(expectError(await t.gql(EVENTS, { sessionId: id, limit: 1001 }), "invalid_argument").field).toBe("limit");
    expect(expectError(await t.gql(EVENTS, { sessionId: id, limit: -5 }), "invalid_argument").field).toBe("limit");
    expect(expectError(await t.gql(EVENTS, { sessionId: id, after: -1 }), "invalid_argument").field).toBe("after_seq");
    expectError(await t.gql(EVENTS, { sessionId: sid("missing") }), "session_not_found");
  });
});

// ------------------------------------------------------------------------------------------------
// Malformed requests
// ------------------------------------------------------------------------------------------------

describe("malformed GraphQL", () => {
  async function post(body: string, contentType = "application/json"): Promise<{ status: number; json: GraphQLResponse }> {
    const res = await fetch(`${t.url}/graphql`, { method: "POST", headers: { "content-type": contentType }, body });
    const text = await res.text();
    let json: GraphQLResponse;
    try {
      json = JSON.parse(text) as GraphQLResponse;
    } catch {
      throw new Error(`non-JSON response ${res.status}: ${text.slice(0, 200)}`);
    }
    return { status: res.status, json };
  }

  test.each([
    ["syntax error", JSON.stringify({ query: '{ session(id: "x" ' })],
    ["unknown field", JSON.stringify({ query: "{ nope }" })],
    ["unknown argument", JSON.stringify({ query: "{ sessions(bogus: 1) { id } }" })],
    ["missing selection set", JSON.stringify({ query: '{ session(id: "x") }' })],
    ["missing required argument", JSON.stringify({ query: "{ session { id } }" })],
    ["wrong variable type", JSON.stringify({ query: "query($l: Int) { sessions(limit: $l) { id } }", variables: { l: "ten" } })],
    ["missing required variable", JSON.stringify({ query: "query($id: ID!) { session(id: $id) { id } }" })],
    ["Int out of 32-bit range", JSON.stringify({ query: '{ events(sessionId: "x", after: 99999999999) { lastSeq } }' })],
    ["no query", JSON.stringify({})],
    ["query not a string", JSON.stringify({ query: 42 })],
    ["body is not JSON", "{not json"],
    ["two operations without operationName", JSON.stringify({ query: "query A { sessions { id } } query B { sessions { id } }" })],
  ])("%s -> bad_request", async (_label, body) => {
    const { status, json } = await post(body);
    expect(status).toBeLessThan(500);
    expect(json.data ?? null).toBeNull();
    expectError(json, "bad_request");
  });

  test("a mutation over GET is refused cleanly, and the server keeps serving", async () => {
    const res = await fetch(`${t.url}/graphql?query=${encodeURIComponent("mutation { createSession { id } }")}`, {
      headers: { accept: "application/json" },
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(expectOk(await t.gql(`{ sessions(limit: 1) { id } }`)).sessions).toBeInstanceOf(Array);
  });
});

// ------------------------------------------------------------------------------------------------
// Subscriptions over graphql-ws
// ------------------------------------------------------------------------------------------------

describe("tail subscription over graphql-ws", () => {
  /** Subscribes and waits (bounded) for the tail to end with an error; returns that error's extensions.code. */
  async function tailErrorCode(sessionId: string, cursor: number): Promise<unknown> {
    const client = t.wsClient();
    const tail = collectTail(client, sessionId, cursor);
    try {
      await within(
        5_000,
        `tail(${sessionId}, ${cursor}) to fail`,
        new Promise<void>((resolve, reject) => {
          tail.until(() => tail.errors.length > 0, 5_000, "tail error").then(resolve, reject);
        }),
      );
      expect(tail.batches).toEqual([]);
      const first = tail.errors[0] as { extensions?: Ext } | Ext[];
      const err = Array.isArray(first) ? (first[0] as { extensions?: Ext }) : first;
      return err.extensions?.code;
    } finally {
      tail.unsubscribe();
      await client.dispose();
    }
  }

  test("unknown session -> session_not_found", async () => {
    expect(await tailErrorCode(sid("missing"), 0)).toBe("session_not_found");
  });

  test("negative cursor -> invalid_argument", async () => {
    const id = await newSession();
    expect(await tailErrorCode(id, -1)).toBe("invalid_argument");
  });

  test("cursor beyond lastSeq -> invalid_argument", async () => {
    const id = await newSession();
    expectOk(await append(id, { payload: {} }));
    expect(await tailErrorCode(id, 2)).toBe("invalid_argument");
    const empty = await newSession();
    expect(await tailErrorCode(empty, 1)).toBe("invalid_argument");
  });

  /** Subscribes with a raw document on `client`; resolves (bounded) with the errors the operation ended with. */
  function operationErrors(client: ReturnType<TestServer["wsClient"]>, query: string): Promise<unknown[]> {
    return within(
      5_000,
      `operation ${JSON.stringify(query)} to fail`,
      new Promise<unknown[]>((resolve) => {
        const errors: unknown[] = [];
        client.subscribe(
          { query },
          {
            next: (r) => {
              if (r.errors) errors.push(...r.errors);
            },
            error: (e) => {
              errors.push(...(Array.isArray(e) ? e : [e]));
              resolve(errors);
            },
            complete: () => resolve(errors),
          },
        );
      }),
    );
  }

  test.each([
    ["unknown field", 'subscription { tail(sessionId: "x") { nope } }'],
    ["missing required argument", "subscription { tail { cursor } }"],
    ["syntax error", 'subscription { tail(sessionId: "x" { cursor } }'],
    ["no operation", "fragment F on TailBatch { cursor }"],
  ])("malformed subscription (%s) -> bad_request on that operation; the connection and its other tails survive", async (_label, query) => {
    const id = await newSession();
    const client = t.wsClient();
    const tail = collectTail(client, id);
    try {
      await tail.until(() => tail.batches.some((b) => b.live), 5_000, "tail live");
      const errors = await operationErrors(client, query);
      expect(errors.length, JSON.stringify(errors)).toBeGreaterThanOrEqual(1);
      expect((errors[0] as { extensions?: Ext }).extensions?.code, JSON.stringify(errors)).toBe("bad_request");
      // The other subscription on the same socket still follows the session.
      expectOk(await append(id, { payload: { after: "malformed" } }));
      await tail.until(() => tail.events.length === 1, 5_000, "tail still live");
    } finally {
      tail.unsubscribe();
      await client.dispose();
    }
  });

  test("happy path: replays from the cursor, marks the catch-up point, then follows live", async () => {
    const id = await newSession();
    expectOk(await t.gql(APPEND_BATCH, { sessionId: id, events: [{ payload: { i: 1 } }, { payload: { i: 2 } }, { payload: { i: 3 } }] }));
    const client = t.wsClient();
    const tail = collectTail(client, id, 1);
    try {
      await tail.until(() => tail.batches.some((b) => b.live), 5_000, "catch-up");
      expect(tail.events.map((e) => e.seq)).toEqual([2, 3]);
      expectOk(await append(id, { type: "late", payload: { i: 4 } }));
      await tail.until(() => tail.events.length === 3, 5_000, "live event");
      expect(tail.events.at(-1)).toMatchObject({ seq: 4, type: "late", payload: { i: 4 } });
      expect(tail.batches.at(-1)).toMatchObject({ cursor: 4, live: true });
    } finally {
      tail.unsubscribe();
      await client.dispose();
    }
  });
});

// ------------------------------------------------------------------------------------------------
// Group commit
// ------------------------------------------------------------------------------------------------

describe("group commit", () => {
  test("50 concurrent appends to one session: all succeed, distinct gapless seqs, coalesced into fewer transactions", async () => {
    const id = await newSession();
    // Warm 50 keep-alive connections, so the appends below leave at once instead of waiting on TCP handshakes.
    await Promise.all(Array.from({ length: 50 }, () => t.gql(`{ __typename }`)));
    const batchesBefore = await metricValue("starcite_append_batch_size_count");
    const sumBefore = await metricValue("starcite_append_batch_size_sum");

    const results = await within(
      15_000,
      "50 concurrent appends",
      Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          append(id, i % 2 === 0 ? { payload: { i }, producerId: `p${i}`, producerSeq: 1 } : { payload: { i } }),
        ),
      ),
    );
    const seqs = results.map((r) => expectOk(r).append.seq as number);
    for (const r of results) expect(r.data!.append.deduped).toBe(false);
    expect([...seqs].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));

    // Each caller got the seq of its own event.
    const events = expectOk(await t.gql(EVENTS, { sessionId: id })).events.events as { seq: number; payload: { i: number } }[];
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    results.forEach((r, i) => expect(events[r.data!.append.seq - 1]!.payload.i, `append ${i}`).toBe(i));

    const batches = (await metricValue("starcite_append_batch_size_count")) - batchesBefore;
    const appended = (await metricValue("starcite_append_batch_size_sum")) - sumBefore;
    expect(appended).toBe(50);
    expect(batches).toBeGreaterThanOrEqual(1);
    expect(batches, "append transactions for 50 concurrent appends").toBeLessThan(50);
  });

  test("one bad event among 20 concurrent good ones fails alone", async () => {
    const a = await newSession();
    const b = await newSession();
    const missing = sid("missing");
    type Job = { kind: "good" | string; run: () => Promise<GraphQLResponse<{ append: AppendResult }>> };
    const jobs: Job[] = Array.from({ length: 20 }, (_, i) => ({
      kind: "good",
      run: () => append(i % 2 ? a : b, { payload: { i } }),
    }));
    // Rejected by the resolver, by append_items per item, and by Postgres for the whole statement (a NUL
    // character jsonb cannot store), which the batcher must isolate.
    jobs.splice(5, 0, { kind: "invalid_event", run: () => append(a, { payload: [1, 2, 3] }) });
    jobs.splice(10, 0, { kind: "session_not_found", run: () => append(missing, { payload: { x: 1 } }) });
    jobs.splice(15, 0, { kind: "payload_too_large", run: () => append(b, { payload: { big: "z".repeat(262_200) } }) });
    jobs.splice(18, 0, { kind: "invalid_event", run: () => append(a, { payload: { text: "bad\u0000byte" } }) });

    await Promise.all(jobs.map(() => t.gql(`{ __typename }`)));
    const batchesBefore = await metricValue("starcite_append_batch_size_count");
    const results = await within(15_000, "concurrent appends", Promise.all(jobs.map((j) => j.run())));
    const batches = (await metricValue("starcite_append_batch_size_count")) - batchesBefore;

    results.forEach((r, i) => {
      const kind = jobs[i]!.kind;
      if (kind === "good") {
        expectOk(r);
      } else {
        expectError(r, kind);
      }
    });
    expect(await seqsOf(a)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(await seqsOf(b)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(batches).toBeLessThan(23);
  });
});

describe("group commit of atomic batches", () => {
  test("concurrent appendBatch calls share transactions; a failing batch writes nothing and leaves the others alone", async () => {
    const sessions = await Promise.all(Array.from({ length: 4 }, () => newSession()));
    await Promise.all(Array.from({ length: 24 }, () => t.gql(`{ __typename }`)));
    const batchesBefore = await metricValue("starcite_append_batch_size_count");
    const sumBefore = await metricValue("starcite_append_batch_size_sum");
    // 20 batches of 3 events over 4 sessions, 4 of them with a bad second event; 4 single appends among them.
    const calls = Array.from({ length: 20 }, (_, i) => {
      const bad = i % 5 === 2;
      // The bad one only the engine can refuse (it repeats a producer seq with other content), inside the transaction.
      const producer = { producerId: `p${i}`, producerSeq: 1 };
      const events = [{ payload: { i, k: 0 }, ...producer }, { payload: { i, k: 1 }, ...(bad ? producer : {}) }, { payload: { i, k: 2 } }];
      return {
        i,
        bad,
        sessionId: sessions[i % 4]!,
        run: () => t.gql<{ appendBatch: AppendResult[] }>(APPEND_BATCH, { sessionId: sessions[i % 4]!, events }),
      };
    });
    const [results, singles] = await within(
      15_000,
      "concurrent batches",
      Promise.all([Promise.all(calls.map((c) => c.run())), Promise.all(sessions.map((id, j) => append(id, { payload: { single: j } })))]),
    );
    const batches = (await metricValue("starcite_append_batch_size_count")) - batchesBefore;
    // Every event of every call went through the group commit (the bad batches' too).
    expect((await metricValue("starcite_append_batch_size_sum")) - sumBefore).toBe(20 * 3 + 4);
    for (const [k, c] of calls.entries()) {
      if (c.bad) expectError(results[k]!, "producer_replay_conflict");
      else {
        const seqs = expectOk(results[k]!).appendBatch.map((r) => r.seq);
        expect(seqs, `batch ${c.i}`).toEqual([seqs[0], seqs[0]! + 1, seqs[0]! + 2]);
      }
    }
    singles.forEach((r) => expectOk(r));
    expect(batches, "append transactions for 24 concurrent calls").toBeLessThan(24);
    // Per session: gapless, each good batch's three events together and in order, nothing of a bad batch.
    for (const [j, id] of sessions.entries()) {
      const events = expectOk(await t.gql(EVENTS, { sessionId: id, limit: 1000 })).events.events as {
        seq: number;
        payload: { i?: number; k?: number };
      }[];
      expect(events.map((e) => e.seq)).toEqual(Array.from({ length: events.length }, (_, n) => n + 1));
      const good = calls.filter((c) => c.sessionId === id && !c.bad);
      expect(events.length).toBe(good.length * 3 + 1);
      for (const c of good) {
        const at = events.findIndex((e) => e.payload.i === c.i);
        expect(events.slice(at, at + 3).map((e) => [e.payload.i, e.payload.k])).toEqual([
          [c.i, 0],
          [c.i, 1],
          [c.i, 2],
        ]);
      }
      expect(
        events.some((e) => calls.some((c) => c.bad && c.sessionId === id && e.payload.i === c.i)),
        `session ${j}`,
      ).toBe(false);
    }
  });
});

describe("fast paths", () => {
  test("STARCITE_FAST_PATHS decides whether tail results are shared (the no-fast-paths project runs this file with it off)", async () => {
    const fast = process.env.STARCITE_FAST_PATHS !== "off";
    // A labelled counter has no line until it is first incremented.
    const tailResults = async () => {
      const text = await (await fetch(`${t.url}/metrics`)).text();
      return [...text.matchAll(/^starcite_tail_results_total\{how="\w+"\} (\S+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
    };
    const id = await newSession();
    await append(id, { payload: { n: 1 } });
    const before = await tailResults();
    const client = t.wsClient();
    const tails = [collectTail(client, id), collectTail(client, id)];
    await Promise.all(tails.map((tail) => tail.until(() => tail.events.length === 1 && tail.batches.some((b) => b.live), 10_000)));
    tails.forEach((tail) => tail.unsubscribe());
    const after = await tailResults();
    expect(after - before > 0).toBe(fast);
  });
});
