/**
 * Catch-up frames (src/live/frames.ts): starcite.read_text rows, as the bytes the database sent, written as JSON
 * arrays of bounded size. Each frame must parse to exactly the events starcite.read gives, in the projection
 * asked for, with insertedAt in the same ISO form as rows; frames must cut where the size says and never lose,
 * repeat or reorder an event.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { eachTextRaw, read, type JsonProjection } from "../../src/db/events.ts";
import type { StoredEvent } from "../../src/db/types.ts";
import { FrameEncoder, frameColumns, type Frame } from "../../src/live/frames.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { ALL_COLUMNS, EVENT_COLUMN_FIELDS } from "../helpers/events.ts";
import { createSessionSql } from "./_support.ts";

let db: TestDatabase;
let s: string;
let rows: StoredEvent[];

beforeAll(async () => {
  db = await createTestDatabase();
  s = await createSessionSql(db.sql);
  const items = Array.from({ length: 40 }, (_, i) => ({
    type: i % 2 ? 'tool "call"\n' : "content",
    payload: { i, text: `"quoted" \\ \n \u0001 é 😀 \u2028 ${"x".repeat(i * 37)}`, big: 12345678901234567890, f: 1.5 },
    ...(i % 3 === 0
      ? { actor: `agent:"${i}"`, source: "tool\t", metadata: { m: [i, null] }, refs: [{ seq: i }], idempotency_key: `k${i}\\` }
      : {}),
    ...(i % 4 === 0 ? { producer_id: "p\u00e9", producer_seq: i / 4 + 1 } : {}),
  }));
  await db.sql`select * from starcite.append_batch(${s}, ${db.sql.json(items)}, true)`;
  // Timestamps with every number of fractional digits Postgres writes (trailing zeros dropped), and none.
  const stamps = ["2026-01-02 03:04:05+00", "2026-01-02 03:04:05.1+00", "2026-01-02 03:04:05.12+00", "2026-01-02 03:04:05.123456+00"];
  for (const [k, stamp] of stamps.entries()) {
    await db.sql`update starcite.events set inserted_at = ${stamp}::timestamptz where session_id = ${s} and seq = ${k + 1}`;
  }
  rows = await read(db.sql, s, 0, 1000);
});

afterAll(async () => {
  await db?.drop();
});

/** The frames of a page, encoded the way the server's catch-up pages are (src/live/json-pages.ts). */
async function frames(projection: JsonProjection, frameBytes: number, after = 0): Promise<Frame[]> {
  const encoder = new FrameEncoder(projection, frameBytes);
  await eachTextRaw(db.sql, s, after, 1000, frameColumns(projection), null, (row) => encoder.add(row));
  return encoder.finish();
}

const project = (projection: JsonProjection, e: StoredEvent) =>
  Object.fromEntries(projection.fields.map((f, i) => [projection.keys[i], e[EVENT_COLUMN_FIELDS.find(([c]) => c === f)![1]]]));

test("every column: the events starcite.read gives, insertedAt as rows have it (six digits, Z)", async () => {
  const [only, ...rest] = await frames(ALL_COLUMNS, 1_000_000);
  expect(rest).toEqual([]);
  expect(only!.count).toBe(rows.length);
  expect(only!.lastSeq).toBe(rows.length);
  expect(JSON.parse(only!.bytes.toString("utf8"))).toEqual(rows.map((e) => project(ALL_COLUMNS, e)));
  expect(rows.slice(0, 4).map((e) => e.insertedAt)).toEqual([
    "2026-01-02T03:04:05.000000Z",
    "2026-01-02T03:04:05.100000Z",
    "2026-01-02T03:04:05.120000Z",
    "2026-01-02T03:04:05.123456Z",
  ]);
});

test("a projection without seq, in its own order and keys; seq still gives each frame's last seq", async () => {
  const projection: JsonProjection = { fields: ["payload", "type", "type"], keys: ["p", "t", "t2"] };
  const out = await frames(projection, 1_000_000, 10);
  expect(out).toHaveLength(1);
  expect(out[0]!.lastSeq).toBe(rows.length);
  expect(JSON.parse(out[0]!.bytes.toString("utf8"))).toEqual(rows.slice(10).map((e) => ({ p: e.payload, t: e.type, t2: e.type })));
});

test.each([1, 200, 700, 5000])("frames of at most %i bytes (or one event): nothing lost, repeated or out of order", async (size) => {
  // Each event's length in bytes, from frames of one event each.
  const lengths = (await frames(ALL_COLUMNS, 1)).map((f) => f.bytes.length - 2);
  expect(lengths).toHaveLength(rows.length);
  const out = await frames(ALL_COLUMNS, size);
  let after = 0;
  const events: unknown[] = [];
  for (const [i, frame] of out.entries()) {
    const parsed = JSON.parse(frame.bytes.toString("utf8")) as { seq: number }[];
    expect(parsed.length).toBe(frame.count);
    expect(frame.count).toBeGreaterThan(0);
    expect(parsed.map((e) => e.seq)).toEqual(Array.from({ length: frame.count }, (_, k) => after + k + 1));
    const own = lengths.slice(after, frame.lastSeq);
    expect(frame.bytes.length).toBe(2 + own.reduce((a, b) => a + b, 0) + frame.count - 1);
    if (frame.count > 1) expect(frame.bytes.length).toBeLessThanOrEqual(size);
    // Greedy: a frame ends only where the next event would not fit.
    if (i + 1 < out.length) expect(frame.bytes.length + 1 + lengths[frame.lastSeq]!).toBeGreaterThan(size);
    after = frame.lastSeq;
    events.push(...parsed);
  }
  expect(events).toEqual(rows.map((e) => project(ALL_COLUMNS, e)));
});

test("nothing after the cursor: no frames", async () => {
  expect(await frames(ALL_COLUMNS, 1000, rows.length)).toEqual([]);
});
