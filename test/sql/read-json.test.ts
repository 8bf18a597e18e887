/**
 * starcite.read_json: a page of events serialised once by the database (SQL API; the server's catch-up frames are
 * written from starcite.read_text rows in src/live/frames.ts instead). It must hold the same events as starcite.read, in the projection and order asked for, and stop at its limits.
 * starcite.read_many: what the live fan-out reads when many sessions advanced at once.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Sql } from "../../src/db/client.ts";
import { mapErrors } from "../../src/db/errors.ts";
import { read, readMany, type JsonProjection } from "../../src/db/events.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { ALL_COLUMNS } from "../helpers/events.ts";
import { createSessionSql, starciteError } from "./_support.ts";

let db: TestDatabase;
let s: string;

/** A read_json page: `[{...},{...}]`, its number of events, and its last seq (the `after` of an empty page). */
interface JsonPage {
  json: string;
  count: number;
  lastSeq: number;
}

/** starcite.read_json, its errors as StarciteErrors like every data-layer call. */
async function readJson(
  sql: Sql,
  sessionId: string,
  afterSeq: number,
  maxEvents: number,
  maxBytes: number,
  projection: JsonProjection,
  tenantId?: string | null,
): Promise<JsonPage> {
  const [row] = await mapErrors(
    () => sql<{ events: string; n: number; last_seq: number | null }[]>`
    select * from starcite.read_json(${sessionId}, ${afterSeq}, ${maxEvents}, ${maxBytes},
                                     ${projection.fields as string[]}::text[], ${projection.keys as string[]}::text[],
                                     ${tenantId ?? null})`,
  );
  return { json: row!.events, count: row!.n, lastSeq: row!.last_seq ?? afterSeq };
}

beforeAll(async () => {
  db = await createTestDatabase();
  s = await createSessionSql(db.sql);
  const items = Array.from({ length: 30 }, (_, i) => ({
    type: i % 2 ? "tool_call" : "content",
    payload: { i, text: `"quoted" \\ \n é 😀 \u2028 ${"x".repeat(i * 10)}`, big: 12345678901234567890, f: 1.5 },
    ...(i % 3 === 0
      ? { actor: `agent:"${i}"`, source: "tool\t", metadata: { m: [i, null] }, refs: [{ seq: i }], idempotency_key: `k${i}` }
      : {}),
    ...(i % 4 === 0 ? { producer_id: "p", producer_seq: i / 4 + 1 } : {}),
  }));
  await db.sql`select * from starcite.append_batch(${s}, ${db.sql.json(items)}, true)`;
});

afterAll(async () => {
  await db?.drop();
});

describe("starcite.read_json", () => {
  test("every column, under the keys given: the same events as starcite.read", async () => {
    const page = await readJson(db.sql, s, 0, 100, 1_000_000, ALL_COLUMNS);
    expect(page.count).toBe(30);
    expect(page.lastSeq).toBe(30);
    const rows = await read(db.sql, s, 0, 100);
    const parsed = JSON.parse(page.json) as Record<string, unknown>[];
    // Numbers beyond double precision parse alike on both sides: JSON.parse reads both texts.
    expect(parsed).toEqual(rows);
    // Keys in the order asked for.
    expect(Object.keys(parsed[0]!)).toEqual(ALL_COLUMNS.keys);
  });

  test("a projection: some columns, other keys and order; keys are JSON-escaped", async () => {
    const page = await readJson(db.sql, s, 10, 3, 1_000_000, { fields: ["payload", "seq", "inserted_at"], keys: ['p"1', "s", "t"] });
    const parsed = JSON.parse(page.json) as Record<string, unknown>[];
    expect(parsed.map((e) => Object.keys(e))).toEqual([
      ['p"1', "s", "t"],
      ['p"1', "s", "t"],
      ['p"1', "s", "t"],
    ]);
    expect(parsed.map((e) => e.s)).toEqual([11, 12, 13]);
    const rows = await read(db.sql, s, 10, 3);
    expect(parsed.map((e) => e.t)).toEqual(rows.map((r) => r.insertedAt));
    expect(parsed.map((e) => e['p"1'])).toEqual(rows.map((r) => r.payload));
    expect(page).toMatchObject({ count: 3, lastSeq: 13 });
  });

  test("max_bytes ends the page after the event that crosses it, and a page always holds one event", async () => {
    const sizes = await db.sql<{ seq: number; size: number }[]>`
      select seq, pg_column_size(payload) as size from starcite.events where session_id = ${s} order by seq`;
    const budget = sizes[0]!.size + sizes[1]!.size + 1;
    const page = await readJson(db.sql, s, 0, 100, budget, { fields: ["seq"], keys: ["seq"] });
    expect(JSON.parse(page.json)).toEqual([{ seq: 1 }, { seq: 2 }, { seq: 3 }]);
    expect(await readJson(db.sql, s, 0, 100, 1, { fields: ["seq"], keys: ["seq"] })).toEqual({ json: '[{"seq":1}]', count: 1, lastSeq: 1 });
  });

  test("an empty page past the end", async () => {
    expect(await readJson(db.sql, s, 30, 100, 1000, ALL_COLUMNS)).toEqual({ json: "[]", count: 0, lastSeq: 30 });
  });

  test.each([
    ["an unknown column", { fields: ["seq", "password"], keys: ["a", "b"] }, 10],
    ["a null column", { fields: [null], keys: ["a"] }, 10],
    ["keys of another length", { fields: ["seq"], keys: ["a", "b"] }, 10],
    ["no columns", { fields: [], keys: [] }, 10],
    ["too many events", { fields: ["seq"], keys: ["seq"] }, 10_001],
  ])("%s: invalid_argument", async (_what, projection, maxEvents) => {
    await starciteError(readJson(db.sql, s, 0, maxEvents, 1000, projection as typeof ALL_COLUMNS), "invalid_argument");
  });

  test("other tenants' and missing sessions: session_not_found", async () => {
    await db.sql`select starcite.create_tenant('other')`;
    await starciteError(readJson(db.sql, s, 0, 10, 1000, ALL_COLUMNS, "other"), "session_not_found");
    await starciteError(readJson(db.sql, "ses_missing", 0, 10, 1000, ALL_COLUMNS), "session_not_found");
  });
});

describe("starcite.read_many", () => {
  test("each session's events after its own cursor, at most its own max, in seq order; unknown sessions give nothing", async () => {
    const t = await createSessionSql(db.sql);
    await db.sql`select * from starcite.append_batch(${t}, ${db.sql.json([{ payload: { a: 1 } }, { payload: { a: 2 } }])}, true)`;
    const got = await readMany(db.sql, [
      { sessionId: s, after: 10, max: 3 },
      { sessionId: t, after: 0, max: 100 },
      { sessionId: "ses_missing", after: 0, max: 5 },
    ]);
    expect([...got.keys()].sort()).toEqual([s, t].sort());
    expect(got.get(s)).toEqual(await read(db.sql, s, 10, 3));
    expect(got.get(t)).toEqual(await read(db.sql, t, 0, 100));
    expect(await readMany(db.sql, [{ sessionId: s, after: 30, max: 10 }])).toEqual(new Map());
  });

  test("another tenant's sessions give nothing", async () => {
    await db.sql`select starcite.create_tenant('elsewhere')`;
    expect(await readMany(db.sql, [{ sessionId: s, after: 0, max: 10 }], "elsewhere")).toEqual(new Map());
  });

  test.each([
    ["a max of 0", [{ sessionId: "x", after: 0, max: 0 }]],
    ["a max over the read limit", [{ sessionId: "x", after: 0, max: 1001 }]],
    ["a negative cursor", [{ sessionId: "x", after: -1, max: 1 }]],
    ["more sessions than the read limit", Array.from({ length: 1001 }, (_, i) => ({ sessionId: `x${i}`, after: 0, max: 1 }))],
  ])("%s: invalid_argument", async (_what, requests) => {
    await starciteError(readMany(db.sql, requests), "invalid_argument");
  });
});
