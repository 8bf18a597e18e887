/**
 * Dedup: producer_id + producer_seq runs, idempotency keys, and expected_seq (optimistic concurrency),
 * through raw SQL (SQLSTATE + JSON detail) and through the TypeScript data layer (StarciteError.code).
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createPool } from "../../src/db/client.ts";
import { append, appendItems, read } from "../../src/db/events.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createSessionSql, detailOf, eventCount, lastSeq, pgError, starciteError } from "./_support.ts";

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

type AppendRow = { seq: number; last_seq: number; deduped: boolean };

describe("producer_id + producer_seq", () => {
  test("a retry of an earlier producer_seq with identical content returns the original seq and appends nothing", async () => {
    const s = await createSessionSql(db.sql);
    const first = await db.sql<AppendRow[]>`
      select * from starcite.append(${s}, 'msg', '{"text":"hi"}', producer_id => 'p1', producer_seq => 1)`;
    expect([...first]).toEqual([{ seq: 1, last_seq: 1, deduped: false }]);
    await append(db.sql, s, { type: "msg", payload: { text: "two" }, producerId: "p1", producerSeq: 2 });
    await append(db.sql, s, { type: "other", payload: {} });

    const retry = await db.sql<AppendRow[]>`
      select * from starcite.append(${s}, 'msg', '{"text":"hi"}', producer_id => 'p1', producer_seq => 1)`;
    expect([...retry]).toEqual([{ seq: 1, last_seq: 3, deduped: true }]);
    expect(await append(db.sql, s, { type: "msg", payload: { text: "two" }, producerId: "p1", producerSeq: 2 })).toEqual({
      seq: 2,
      lastSeq: 3,
      deduped: true,
    });
    expect(await eventCount(db.sql, s)).toBe(3);
    expect(await lastSeq(db.sql, s)).toBe(3);

    // The run continues after the retries.
    expect(await append(db.sql, s, { type: "msg", payload: { text: "three" }, producerId: "p1", producerSeq: 3 })).toEqual({
      seq: 4,
      lastSeq: 4,
      deduped: false,
    });
  });

  test("the same producer_seq with different content is producer_replay_conflict (SC202)", async () => {
    const s = await createSessionSql(db.sql);
    await append(db.sql, s, { type: "msg", payload: { text: "hi" }, producerId: "p", producerSeq: 1 });

    const e = await pgError(
      db.sql`
      select * from starcite.append(${s}, 'msg', '{"text":"changed"}', producer_id => 'p', producer_seq => 1)`,
      "SC202",
    );
    expect(e.message).toMatch(/^producer_replay_conflict: /);
    expect(detailOf(e)).toMatchObject({ producer_id: "p", producer_seq: 1, seq: 1 });

    // Any field counts as content: type, actor, metadata ...
    await starciteError(
      append(db.sql, s, { type: "other", payload: { text: "hi" }, producerId: "p", producerSeq: 1 }),
      "producer_replay_conflict",
    );
    const se = await starciteError(
      append(db.sql, s, { type: "msg", payload: { text: "hi" }, actor: "bob", producerId: "p", producerSeq: 1 }),
      "producer_replay_conflict",
    );
    expect(se.detail).toMatchObject({ producer_id: "p", producer_seq: 1, seq: 1 });
    expect(await eventCount(db.sql, s)).toBe(1);
  });

  test("a gap in producer_seq is producer_seq_conflict (SC201) naming the expected producer_seq", async () => {
    const s = await createSessionSql(db.sql);
    await append(db.sql, s, { payload: { n: 1 }, producerId: "p", producerSeq: 1 });

    const e = await pgError(
      db.sql`
      select * from starcite.append(${s}, 'content', '{"n":3}', producer_id => 'p', producer_seq => 3)`,
      "SC201",
    );
    expect(e.message).toMatch(/^producer_seq_conflict: /);
    expect(detailOf(e)).toMatchObject({ producer_id: "p", expected_producer_seq: 2, producer_seq: 3, last_producer_seq: 1 });

    const se = await starciteError(append(db.sql, s, { payload: { n: 3 }, producerId: "p", producerSeq: 3 }), "producer_seq_conflict");
    expect(se.detail).toMatchObject({ expected_producer_seq: 2 });
    expect(await eventCount(db.sql, s)).toBe(1);

    // Filling the gap works.
    expect((await append(db.sql, s, { payload: { n: 2 }, producerId: "p", producerSeq: 2 })).seq).toBe(2);
  });

  test("a producer's first producer_seq may be any value >= 1; below it is a conflict, not a retry", async () => {
    const s = await createSessionSql(db.sql);
    expect(await append(db.sql, s, { payload: {}, producerId: "late", producerSeq: 41 })).toEqual({ seq: 1, lastSeq: 1, deduped: false });
    expect((await append(db.sql, s, { payload: {}, producerId: "late", producerSeq: 42 })).seq).toBe(2);

    const e = await pgError(
      db.sql`
      select * from starcite.append(${s}, 'content', '{}', producer_id => 'late', producer_seq => 7)`,
      "SC201",
    );
    expect(detailOf(e)).toMatchObject({ expected_producer_seq: 43 });

    // producer_seq 0 is not valid at all.
    await pgError(
      db.sql`
      select * from starcite.append(${s}, 'content', '{}', producer_id => 'zero', producer_seq => 0)`,
      "SC002",
    );
  });

  test("producers are independent of each other and per session", async () => {
    const s1 = await createSessionSql(db.sql);
    const s2 = await createSessionSql(db.sql);
    await append(db.sql, s1, { payload: {}, producerId: "a", producerSeq: 1 });
    await append(db.sql, s1, { payload: {}, producerId: "b", producerSeq: 5 });
    // Same producer id in another session starts its own run.
    expect(await append(db.sql, s2, { payload: {}, producerId: "a", producerSeq: 9 })).toEqual({ seq: 1, lastSeq: 1, deduped: false });
    expect((await append(db.sql, s1, { payload: {}, producerId: "a", producerSeq: 2 })).seq).toBe(3);
  });

  test("producer_id without producer_seq (and the reverse) is invalid_event (SC002)", async () => {
    const s = await createSessionSql(db.sql);
    const e = await pgError(db.sql`select * from starcite.append(${s}, 'content', '{}', producer_id => 'p')`, "SC002");
    expect(detailOf(e)).toMatchObject({ field: "producer_seq" });
    const e2 = await pgError(db.sql`select * from starcite.append(${s}, 'content', '{}', producer_seq => 1)`, "SC002");
    expect(detailOf(e2)).toMatchObject({ field: "producer_id" });
    await starciteError(append(db.sql, s, { payload: {}, producerId: "p" }), "invalid_event");
    expect(await eventCount(db.sql, s)).toBe(0);
  });

  test("retries inside one append_items call dedupe against earlier items of the same call", async () => {
    const s = await createSessionSql(db.sql);
    const outcomes = await appendItems(db.sql, [
      { sessionId: s, payload: { n: 1 }, producerId: "p", producerSeq: 1 },
      { sessionId: s, payload: { n: 2 }, producerId: "p", producerSeq: 2 },
      { sessionId: s, payload: { n: 1 }, producerId: "p", producerSeq: 1 },
      { sessionId: s, payload: { n: 9 }, producerId: "p", producerSeq: 2 },
      { sessionId: s, payload: { n: 4 }, producerId: "p", producerSeq: 4 },
      { sessionId: s, payload: { n: 3 }, producerId: "p", producerSeq: 3 },
    ]);
    expect(outcomes.map((o) => (o.ok ? o.result : o.error.code))).toEqual([
      { seq: 1, lastSeq: 1, deduped: false },
      { seq: 2, lastSeq: 2, deduped: false },
      { seq: 1, lastSeq: 2, deduped: true },
      "producer_replay_conflict",
      "producer_seq_conflict",
      { seq: 3, lastSeq: 3, deduped: false },
    ]);
    expect(await eventCount(db.sql, s)).toBe(3);
  });
});

describe("idempotency_key", () => {
  test("a repeated key with identical content dedupes; with different content it is idempotency_conflict (SC203)", async () => {
    const s = await createSessionSql(db.sql);
    const first = await db.sql<AppendRow[]>`
      select * from starcite.append(${s}, 'msg', '{"a":1}', idempotency_key => 'k1')`;
    expect([...first]).toEqual([{ seq: 1, last_seq: 1, deduped: false }]);
    await append(db.sql, s, { payload: {} });

    const again = await db.sql<AppendRow[]>`
      select * from starcite.append(${s}, 'msg', '{"a":1}', idempotency_key => 'k1')`;
    expect([...again]).toEqual([{ seq: 1, last_seq: 2, deduped: true }]);

    const e = await pgError(
      db.sql`
      select * from starcite.append(${s}, 'msg', '{"a":2}', idempotency_key => 'k1')`,
      "SC203",
    );
    expect(e.message).toMatch(/^idempotency_conflict: /);
    expect(detailOf(e)).toMatchObject({ idempotency_key: "k1", seq: 1 });
    await starciteError(append(db.sql, s, { type: "msg", payload: { a: 2 }, idempotencyKey: "k1" }), "idempotency_conflict");

    // Keys are per session.
    const other = await createSessionSql(db.sql);
    expect((await append(db.sql, other, { type: "msg", payload: { a: 2 }, idempotencyKey: "k1" })).deduped).toBe(false);
    expect(await eventCount(db.sql, s)).toBe(2);
  });
});

describe("expected_seq", () => {
  test("a stale expected_seq is expected_seq_conflict (SC200); a matching one appends", async () => {
    const s = await createSessionSql(db.sql);
    expect((await append(db.sql, s, { payload: {}, expectedSeq: 0 })).seq).toBe(1);

    const e = await pgError(db.sql`select * from starcite.append(${s}, 'x', '{}', expected_seq => 0)`, "SC200");
    expect(e.message).toMatch(/^expected_seq_conflict: /);
    expect(detailOf(e)).toMatchObject({ session_id: s, last_seq: 1, expected_seq: 0 });
    const se = await starciteError(append(db.sql, s, { payload: {}, expectedSeq: 5 }), "expected_seq_conflict");
    expect(se.detail).toMatchObject({ last_seq: 1, expected_seq: 5 });

    expect((await append(db.sql, s, { payload: {}, expectedSeq: 1 })).seq).toBe(2);
    expect(await eventCount(db.sql, s)).toBe(2);
  });

  test("a retried conditional append still dedupes, although the session has moved on", async () => {
    const s = await createSessionSql(db.sql);
    const conditional = { type: "msg", payload: { v: 1 }, producerId: "p", producerSeq: 1, expectedSeq: 0 };
    expect(await append(db.sql, s, conditional)).toEqual({ seq: 1, lastSeq: 1, deduped: false });
    await append(db.sql, s, { payload: {} });
    expect(await append(db.sql, s, conditional)).toEqual({ seq: 1, lastSeq: 2, deduped: true });

    const keyed = { payload: { v: 2 }, idempotencyKey: "once", expectedSeq: 2 };
    expect((await append(db.sql, s, keyed)).seq).toBe(3);
    expect(await append(db.sql, s, keyed)).toEqual({ seq: 3, lastSeq: 3, deduped: true });
    expect(await eventCount(db.sql, s)).toBe(3);
  });
});

describe("durability of dedup state", () => {
  test("dedup works across closing and reopening the pool", async () => {
    const s = await createSessionSql(db.sql);
    const p1 = createPool(db.url, { max: 2 });
    const original = await append(p1, s, { type: "msg", payload: { x: 1 }, producerId: "prod", producerSeq: 1, idempotencyKey: "key" });
    await p1.end({ timeout: 5 });

    const p2 = createPool(db.url, { max: 2 });
    try {
      expect(await append(p2, s, { type: "msg", payload: { x: 1 }, producerId: "prod", producerSeq: 1, idempotencyKey: "key" })).toEqual({
        seq: original.seq,
        lastSeq: 1,
        deduped: true,
      });
      await starciteError(
        append(p2, s, { type: "msg", payload: { x: 2 }, producerId: "prod", producerSeq: 1 }),
        "producer_replay_conflict",
      );
      const events = await read(p2, s);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ seq: 1, producerId: "prod", producerSeq: 1, idempotencyKey: "key" });
    } finally {
      await p2.end({ timeout: 5 });
    }
  });
});
