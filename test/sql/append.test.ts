/**
 * The append engine: starcite.append (positional and named arguments), starcite.append_batch and
 * starcite.append_items — per-item results in input order, partial failure vs atomic mode, stored fields.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { append, appendBatch, appendItems, read } from "../../src/db/events.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createSessionSql, detailOf, eventCount, lastSeq, pgError, starciteError } from "./_support.ts";

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

interface BatchRow {
  idx: number;
  seq: number | null;
  last_seq: number | null;
  deduped: boolean;
  error_code: string | null;
  error_message: string | null;
}

describe("starcite.append", () => {
  test("named-argument calls work and every field is stored", async () => {
    const s = await createSessionSql(db.sql);
    const rows = await db.sql`
      select * from starcite.append(session_id => ${s}, type => 'message', payload => '{"text":"hello"}'::jsonb,
                                    producer_id => 'writer', producer_seq => 1)`;
    expect([...rows]).toEqual([{ seq: 1, last_seq: 1, deduped: false }]);

    await db.sql`
      select * from starcite.append(payload => '{"k":[1,2]}', session_id => ${s}, type => 'tool_call',
        actor => 'agent:1', source => 'llm', metadata => '{"m":true}', refs => '[{"seq":1}]',
        idempotency_key => 'ik', expected_seq => 1)`;

    const events = await read(db.sql, s);
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({
      seq: 1,
      type: "message",
      payload: { text: "hello" },
      producerId: "writer",
      producerSeq: 1,
      actor: null,
      source: null,
      metadata: null,
      refs: null,
      idempotencyKey: null,
    });
    expect(events[1]).toMatchObject({
      sessionId: s,
      seq: 2,
      type: "tool_call",
      payload: { k: [1, 2] },
      actor: "agent:1",
      source: "llm",
      metadata: { m: true },
      refs: [{ seq: 1 }],
      idempotencyKey: "ik",
      producerId: null,
      producerSeq: null,
    });
    expect(events[1]!.insertedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  });

  test("positional calls and the TypeScript layer agree; type defaults to content in the TS layer", async () => {
    const s = await createSessionSql(db.sql);
    expect([...(await db.sql`select * from starcite.append(${s}, 'a', '{}')`)]).toEqual([{ seq: 1, last_seq: 1, deduped: false }]);
    expect(await append(db.sql, s, { payload: { x: 1 } })).toEqual({ seq: 2, lastSeq: 2, deduped: false });
    const events = await read(db.sql, s);
    expect(events.map((e) => e.type)).toEqual(["a", "content"]);
    expect(await lastSeq(db.sql, s)).toBe(2);
  });

  test("the session's updated_at moves with appends and never precedes created_at", async () => {
    const s = await db.sql.begin(async (tx) => {
      const [row] = await tx<{ id: string }[]>`select id from starcite.create_session()`;
      await tx`select * from starcite.append(${row!.id}, 'x', '{}')`;
      return row!.id;
    });
    // Created and appended to in one transaction: now() would stamp updated_at with the transaction start.
    const [row] = await db.sql<{ ok: boolean; updated_at: string }[]>`
      select updated_at >= created_at as ok, updated_at from starcite.sessions where id = ${s}`;
    expect(row!.ok).toBe(true);
    await append(db.sql, s, { payload: {} });
    const [later] = await db.sql<{ moved: boolean }[]>`
      select updated_at > ${row!.updated_at}::timestamptz as moved from starcite.sessions where id = ${s}`;
    expect(later!.moved).toBe(true);
  });
});

describe("starcite.append_batch", () => {
  test("default mode: results come back in input order and a bad item does not fail the others", async () => {
    const s = await createSessionSql(db.sql);
    await append(db.sql, s, { payload: {}, producerId: "p", producerSeq: 1 });
    const rows = await db.sql<BatchRow[]>`
      select * from starcite.append_batch(${s}, ${db.sql.json([
        { type: "a", payload: { n: 1 } },
        { type: "b", payload: "not an object" },
        { type: "c", payload: { n: 3 } },
        { type: "d", payload: {}, producer_id: "p", producer_seq: 5 },
        { type: "e", payload: { n: 5 }, producer_id: "p", producer_seq: 2 },
        "not even an object",
        { type: "", payload: {} },
        { type: "f", payload: { n: 8 } },
      ])}::jsonb)`;
    expect(rows.map((r) => r.idx)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(rows.map((r) => [r.seq, r.last_seq, r.deduped, r.error_code])).toEqual([
      [2, 2, false, null],
      [null, null, false, "invalid_event"],
      [3, 3, false, null],
      [null, null, false, "producer_seq_conflict"],
      [4, 4, false, null],
      [null, null, false, "invalid_event"],
      [null, null, false, "invalid_event"],
      [5, 5, false, null],
    ]);
    expect(rows[1]!.error_message).toMatch(/^invalid_event: payload must be a JSON object/);
    expect(rows[3]!.error_message).toMatch(/^producer_seq_conflict: .*expected 2, got 5/);

    const events = await read(db.sql, s);
    expect(events.map((e) => [e.seq, e.type])).toEqual([
      [1, "content"],
      [2, "a"],
      [3, "c"],
      [4, "e"],
      [5, "f"],
    ]);
    expect(await lastSeq(db.sql, s)).toBe(5);
  });

  test("atomic mode: the first bad item raises its own error and nothing is written", async () => {
    const s = await createSessionSql(db.sql);
    await append(db.sql, s, { payload: {} });
    const e = await pgError(
      db.sql`
      select * from starcite.append_batch(${s}, ${db.sql.json([
        { type: "a", payload: { n: 1 } },
        { type: "b", payload: {}, producer_id: "p", producer_seq: 1 },
        { type: "c", payload: [1, 2] },
        { type: "d", payload: {}, producer_id: "p", producer_seq: 3 },
      ])}::jsonb, atomic => true)`,
      "SC002",
    );
    expect(e.message).toMatch(/^invalid_event: payload must be a JSON object/);
    expect(detailOf(e)).toEqual({ field: "payload", index: 2 });
    expect(await eventCount(db.sql, s)).toBe(1);
    expect(await lastSeq(db.sql, s)).toBe(1);

    // The TS layer throws the same error; again nothing is written.
    const se = await starciteError(
      appendBatch(
        db.sql,
        s,
        [{ payload: {} }, { payload: {}, producerId: "p", producerSeq: 2 }, { payload: {}, producerId: "p", producerSeq: 4 }],
        true,
      ),
      "producer_seq_conflict",
    );
    expect(se.detail).toMatchObject({ index: 2, expected_producer_seq: 3 });
    expect(await eventCount(db.sql, s)).toBe(1);

    // An all-good atomic batch appends everything.
    const ok = await appendBatch(db.sql, s, [{ payload: { n: 1 } }, { payload: { n: 2 } }], true);
    expect(ok.map((o) => o.ok && o.result.seq)).toEqual([2, 3]);
  });

  test("TS appendBatch reports per-item outcomes with codes and details", async () => {
    const s = await createSessionSql(db.sql);
    const outcomes = await appendBatch(db.sql, s, [
      { payload: { n: 1 }, idempotencyKey: "k" },
      { payload: { n: 2 }, idempotencyKey: "k" },
      { payload: { n: 1 }, idempotencyKey: "k" },
      { payload: { big: "x".repeat(262_145) } },
      { payload: { n: 5 }, expectedSeq: 0 },
      { payload: { n: 6 }, expectedSeq: 1 },
    ]);
    expect(outcomes.map((o) => (o.ok ? o.result : o.error.code))).toEqual([
      { seq: 1, lastSeq: 1, deduped: false },
      "idempotency_conflict",
      { seq: 1, lastSeq: 1, deduped: true },
      "payload_too_large",
      "expected_seq_conflict",
      { seq: 2, lastSeq: 2, deduped: false },
    ]);
    const tooLarge = outcomes[3]!;
    expect(!tooLarge.ok && tooLarge.error.detail).toMatchObject({ field: "payload", limit: 262144 });
    expect(await eventCount(db.sql, s)).toBe(2);
  });

  test("the batch's session wins over session_id and tenant_id inside the items", async () => {
    const s = await createSessionSql(db.sql);
    const other = await createSessionSql(db.sql);
    const rows = await db.sql<BatchRow[]>`
      select * from starcite.append_batch(${s}, ${db.sql.json([
        { session_id: other, payload: {} },
        { tenant_id: "someone-else", payload: {} },
      ])}::jsonb)`;
    expect(rows.map((r) => [r.seq, r.error_code])).toEqual([
      [1, null],
      [2, null],
    ]);
    expect(await eventCount(db.sql, other)).toBe(0);
  });

  test("argument checks: events must be an array of at most 1000; an empty array appends nothing", async () => {
    const s = await createSessionSql(db.sql);
    await pgError(db.sql`select * from starcite.append_batch(${s}, '{"type":"x"}'::jsonb)`, "SC001");
    await pgError(db.sql`select * from starcite.append_batch(${s}, null)`, "SC001");
    const tooMany = Array.from({ length: 1001 }, () => ({ payload: {} }));
    const e = await pgError(db.sql`select * from starcite.append_batch(${s}, ${db.sql.json(tooMany)}::jsonb)`, "SC001");
    expect(detailOf(e)).toMatchObject({ max: 1000, count: 1001 });
    expect([...(await db.sql`select * from starcite.append_batch(${s}, '[]'::jsonb)`)]).toEqual([]);
    expect(await eventCount(db.sql, s)).toBe(0);

    const max = Array.from({ length: 1000 }, (_, i) => ({ payload: { i } }));
    const rows = await db.sql<BatchRow[]>`select * from starcite.append_batch(${s}, ${db.sql.json(max)}::jsonb)`;
    expect(rows).toHaveLength(1000);
    expect(rows[999]).toMatchObject({ idx: 1000, seq: 1000, error_code: null });
  });
});

describe("starcite.append_items", () => {
  test("one call over several sessions: per-session seqs, input order, unknown sessions reported per item", async () => {
    const a = await createSessionSql(db.sql);
    const b = await createSessionSql(db.sql);
    await append(db.sql, b, { payload: {} });
    const outcomes = await appendItems(db.sql, [
      { sessionId: b, payload: { to: "b" } },
      { sessionId: a, payload: { to: "a" } },
      { sessionId: "missing-session", payload: {} },
      { sessionId: a, payload: { to: "a" } },
      { sessionId: b, payload: { to: "b" } },
    ]);
    expect(outcomes.map((o) => (o.ok ? [o.result.seq, o.result.lastSeq] : o.error.code))).toEqual([
      [2, 2],
      [1, 1],
      "session_not_found",
      [2, 2],
      [3, 3],
    ]);
    expect(await lastSeq(db.sql, a)).toBe(2);
    expect(await lastSeq(db.sql, b)).toBe(3);

    // An item without a session id is an invalid event, not a crash.
    const [row] = await db.sql<{ error_code: string }[]>`
      select * from starcite.append_items('[{"payload":{}}]'::jsonb)`;
    expect(row!.error_code).toBe("invalid_event");
  });

  test("the set path: interleaved sessions get consecutive seqs per session in input order, counters moved once", async () => {
    const [a, b, c] = [await createSessionSql(db.sql), await createSessionSql(db.sql), await createSessionSql(db.sql)];
    await append(db.sql, c, { payload: { n: 0 } });
    const order = [c, a, a, b, c, a, b];
    const outcomes = await appendItems(
      db.sql,
      order.map((sessionId, k) => ({ sessionId, payload: { k } })),
    );
    expect(outcomes.map((o) => (o.ok ? [o.result.seq, o.result.lastSeq, o.result.deduped] : o.error.code))).toEqual([
      [2, 2, false],
      [1, 1, false],
      [2, 2, false],
      [1, 1, false],
      [3, 3, false],
      [3, 3, false],
      [2, 2, false],
    ]);
    for (const [id, last] of [
      [a, 3],
      [b, 2],
      [c, 3],
    ] as const) {
      expect(await lastSeq(db.sql, id)).toBe(last);
      // Each session's events carry the items' payloads in input order.
      const ks = (await read(db.sql, id, 0, 100)).filter((e) => e.seq > (id === c ? 1 : 0)).map((e) => e.payload.k);
      expect(ks).toEqual(order.flatMap((s, k) => (s === id ? [k] : [])));
    }
  });

  test("a session named under the wrong tenant or closed fails its item, beside items that append", async () => {
    await db.sql`select starcite.create_tenant('append-other') where not exists (select 1 from starcite.tenants where id = 'append-other')`;
    const a = await createSessionSql(db.sql);
    const closed = await createSessionSql(db.sql);
    await db.sql`update starcite.sessions set closed_at = now() where id = ${closed}`;
    const rows = await db.sql<BatchRow[]>`
      select * from starcite.append_items(${db.sql.json([
        { session_id: a, payload: { n: 1 } },
        { session_id: a, tenant_id: "append-other", payload: { n: 2 } },
        { session_id: a, payload: { n: 3 } },
      ])}::jsonb)`;
    expect(rows.map((r) => r.error_code ?? r.seq)).toEqual([1, "session_not_found", 2]);
    const mixed = await db.sql<BatchRow[]>`
      select * from starcite.append_items(${db.sql.json([
        { session_id: closed, payload: {} },
        { session_id: a, payload: { n: 4 } },
      ])}::jsonb)`;
    expect(mixed.map((r) => r.error_code ?? r.seq)).toEqual(["session_closed", 3]);
    expect(await lastSeq(db.sql, a)).toBe(3);
    expect(await eventCount(db.sql, closed)).toBe(0);
  });

  test("atomic over several sessions: one bad item and no session gets anything", async () => {
    const a = await createSessionSql(db.sql);
    const b = await createSessionSql(db.sql);
    await starciteError(
      appendItems(
        db.sql,
        [
          { sessionId: a, payload: {} },
          { sessionId: b, payload: {} },
          { sessionId: "missing-session", payload: {} },
        ],
        true,
      ),
      "session_not_found",
    );
    expect(await eventCount(db.sql, a)).toBe(0);
    expect(await eventCount(db.sql, b)).toBe(0);
  });
});
