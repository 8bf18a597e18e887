/**
 * starcite.append_groups: several append_items calls in one transaction (the server's group commit sends
 * concurrent appendBatch calls this way). Each group's outcome is its own: an atomic group that fails writes
 * nothing and leaves the others alone; sessions are locked up front so that concurrent calls never deadlock.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { appendGroups, type AddressedEvent } from "../../src/db/events.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createSessionSql, eventCount, lastSeq, pgError, sid } from "./_support.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const ev = (sessionId: string, n: number, extra: Partial<AddressedEvent> = {}): AddressedEvent => ({ sessionId, payload: { n }, ...extra });

const payloads = async (id: string) =>
  (await db.sql<{ n: number }[]>`select (payload->>'n')::int as n from starcite.events where session_id = ${id} order by seq`).map(
    (r) => r.n,
  );

test("single appends and atomic batches in one call: each gets its own results, in order, gapless per session", async () => {
  const a = await createSessionSql(db.sql);
  const b = await createSessionSql(db.sql);
  const out = await appendGroups(db.sql, [
    { events: [ev(a, 1), ev(b, 1)], atomic: false },
    { events: [ev(b, 2), ev(b, 3)], atomic: true },
    { events: [ev(a, 2)], atomic: true },
  ]);
  expect(out).toEqual([
    {
      ok: true,
      outcomes: [
        { ok: true, result: { seq: 1, lastSeq: 1, deduped: false } },
        { ok: true, result: { seq: 1, lastSeq: 1, deduped: false } },
      ],
    },
    {
      ok: true,
      outcomes: [
        { ok: true, result: { seq: 2, lastSeq: 2, deduped: false } },
        { ok: true, result: { seq: 3, lastSeq: 3, deduped: false } },
      ],
    },
    { ok: true, outcomes: [{ ok: true, result: { seq: 2, lastSeq: 2, deduped: false } }] },
  ]);
  expect(await payloads(a)).toEqual([1, 2]);
  expect(await payloads(b)).toEqual([1, 2, 3]);
});

test("an atomic group that fails writes nothing and gets its error; the groups around it are written", async () => {
  const a = await createSessionSql(db.sql);
  const missing = sid("missing");
  const out = await appendGroups(db.sql, [
    { events: [ev(a, 1)], atomic: true },
    { events: [ev(a, 2), { sessionId: a, payload: [1] as never }], atomic: true },
    { events: [ev(missing, 1)], atomic: true },
    { events: [ev(a, 3, { producerId: "p", producerSeq: 5 })], atomic: true },
    { events: [ev(a, 4), { sessionId: a, payload: [2] as never }], atomic: false },
  ]);
  expect(out[0]).toMatchObject({ ok: true, outcomes: [{ ok: true, result: { seq: 1 } }] });
  expect(out[1]).toMatchObject({ ok: false, error: { code: "invalid_event" } });
  expect(out[2]).toMatchObject({ ok: false, error: { code: "session_not_found", detail: { session_id: missing } } });
  expect(out[3]).toMatchObject({ ok: true, outcomes: [{ ok: true, result: { seq: 2 } }] });
  // Not atomic: the bad item fails alone.
  expect(out[4]).toMatchObject({
    ok: true,
    outcomes: [
      { ok: true, result: { seq: 3 } },
      { ok: false, error: { code: "invalid_event" } },
    ],
  });
  expect(await payloads(a)).toEqual([1, 3, 4]);
  expect(await lastSeq(db.sql, a)).toBe(3);
});

test("a producer's conflict inside an atomic group comes back with the engine's detail", async () => {
  const a = await createSessionSql(db.sql);
  await appendGroups(db.sql, [{ events: [ev(a, 1, { producerId: "p", producerSeq: 1 })], atomic: true }]);
  const [out] = await appendGroups(db.sql, [{ events: [ev(a, 2, { producerId: "p", producerSeq: 3 })], atomic: true }]);
  expect(out).toMatchObject({ ok: false, error: { code: "producer_seq_conflict", detail: { expected_producer_seq: 2 } } });
  expect(await eventCount(db.sql, a)).toBe(1);
});

test("malformed groups: invalid_argument (SC001), nothing written", async () => {
  const a = await createSessionSql(db.sql);
  for (const groups of [{}, [1], [{ items: {} }], [{ items: [], atomic: "yes" }]]) {
    await pgError(db.sql`select * from starcite.append_groups(${db.sql.json(groups as never)}::jsonb)`, "SC001");
  }
  expect(await eventCount(db.sql, a)).toBe(0);
});

test("concurrent calls whose groups take the same sessions in opposite orders never deadlock", async () => {
  const ids = await Promise.all(Array.from({ length: 4 }, () => createSessionSql(db.sql)));
  const reversed = [...ids].reverse();
  const rounds = 25;
  const caller = async (order: string[], tag: number) => {
    for (let r = 0; r < rounds; r++) {
      const out = await appendGroups(
        db.sql,
        order.map((id) => ({ events: [ev(id, tag * 1000 + r)], atomic: true })),
      );
      expect(out.every((g) => g.ok)).toBe(true);
    }
  };
  await Promise.all([caller(ids, 1), caller(reversed, 2), caller(ids, 3), caller(reversed, 4)]);
  for (const id of ids) {
    expect(await lastSeq(db.sql, id)).toBe(4 * rounds);
    const seqs = (await db.sql<{ seq: number }[]>`select seq from starcite.events where session_id = ${id} order by seq`).map((r) => r.seq);
    expect(seqs).toEqual(Array.from({ length: 4 * rounds }, (_, i) => i + 1));
  }
});

test("when an atomic group fails, later groups see the log without it (as if each group were its own call)", async () => {
  const a = await createSessionSql(db.sql);
  const p = { producerId: "p", producerSeq: 1 };
  const out = await appendGroups(db.sql, [
    { events: [ev(a, 1, p), { sessionId: a, payload: { n: 2 }, producerId: "p", producerSeq: 1 }], atomic: true },
    { events: [ev(a, 3, p)], atomic: true },
    { events: [ev(a, 4, { producerId: "p", producerSeq: 2 }), ev(a, 5, { producerId: "p", producerSeq: 2 })], atomic: false },
  ]);
  expect(out[0]).toMatchObject({ ok: false, error: { code: "producer_replay_conflict" } });
  // Group 1 wrote nothing, so producer p's seq 1 is new here, not a repeat of group 1's.
  expect(out[1]).toEqual({ ok: true, outcomes: [{ ok: true, result: { seq: 1, lastSeq: 1, deduped: false } }] });
  expect(out[2]).toMatchObject({
    ok: true,
    outcomes: [
      { ok: true, result: { seq: 2, deduped: false } },
      { ok: false, error: { code: "producer_replay_conflict" } },
    ],
  });
  expect(await payloads(a)).toEqual([3, 4]);
});

test("more items than one engine call takes: the groups go one by one, with the same outcomes", async () => {
  const a = await createSessionSql(db.sql);
  const groups = Array.from({ length: 3 }, (_, g) => ({ events: Array.from({ length: 400 }, (_, i) => ev(a, g * 400 + i)), atomic: true }));
  const out = await appendGroups(db.sql, groups);
  expect(out.map((g) => (g.ok ? g.outcomes.length : -1))).toEqual([400, 400, 400]);
  expect(await lastSeq(db.sql, a)).toBe(1200);
  expect(await payloads(a)).toEqual(Array.from({ length: 1200 }, (_, i) => i));
});
