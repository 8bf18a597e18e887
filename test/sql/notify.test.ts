/**
 * The statement-level NOTIFY trigger: one {"session_id","last_seq"} hint per session per insert statement,
 * sent on commit only. Absence is proven by ordering: a later committed "marker" append notifies, and
 * notifications arrive in commit order, so anything that should not exist would have come first.
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from "vitest";
import { createPool } from "../../src/db/client.ts";
import { append, appendBatch, appendItems } from "../../src/db/events.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createSessionSql, listenHints, sid, within, type HintListener } from "./_support.ts";

let db: TestDatabase;
let marker: string;
let listener: HintListener;
let markerSeq = 0;

beforeAll(async () => {
  db = await createTestDatabase();
  marker = await createSessionSql(db.sql, sid("marker"));
});

afterAll(async () => {
  await db?.drop();
});

beforeEach(async () => {
  listener = await listenHints(db.url);
});

afterEach(async () => {
  await listener.close();
});

/** Commits a marker append and waits for its hint: every earlier commit's hints have arrived by then. */
async function flush(): Promise<void> {
  const { seq } = await append(db.sql, marker, { payload: {} });
  markerSeq = seq;
  await listener.waitFor(`marker ${seq}`, (h) => h.session_id === marker && h.last_seq === seq);
}

function hintsFor(session: string) {
  return listener.hints.filter((h) => h.session_id === session);
}

test("a single append notifies once with the session id and its new last_seq", async () => {
  const s = await createSessionSql(db.sql);
  await append(db.sql, s, { payload: {} });
  await append(db.sql, s, { payload: {} });
  await flush();
  expect(hintsFor(s)).toEqual([
    { session_id: s, last_seq: 1 },
    { session_id: s, last_seq: 2 },
  ]);
});

test("a 100-event append_batch produces exactly one notification for its session", async () => {
  const s = await createSessionSql(db.sql);
  const rows = await db.sql`select * from starcite.append_batch(${s}, ${db.sql.json(
    Array.from({ length: 100 }, (_, i) => ({ type: "chunk", payload: { i } })),
  )}::jsonb)`;
  expect(rows).toHaveLength(100);
  await flush();
  expect(hintsFor(s)).toEqual([{ session_id: s, last_seq: 100 }]);
  expect(listener.hints).toEqual([
    { session_id: s, last_seq: 100 },
    { session_id: marker, last_seq: markerSeq },
  ]);
});

test("append_items over two sessions notifies once per session, with each session's last seq", async () => {
  const a = await createSessionSql(db.sql);
  const b = await createSessionSql(db.sql);
  await append(db.sql, b, { payload: {} }); // b starts at 1
  await flush();
  listener.hints.length = 0;

  const outcomes = await appendItems(db.sql, [
    ...Array.from({ length: 30 }, (_, i) => ({ sessionId: i % 3 === 0 ? a : b, payload: { i } })),
    { sessionId: a, payload: "bad" as never }, // a failed item changes nothing
  ]);
  expect(outcomes.filter((o) => o.ok)).toHaveLength(30);
  await flush();
  expect(hintsFor(a)).toEqual([{ session_id: a, last_seq: 10 }]);
  expect(hintsFor(b)).toEqual([{ session_id: b, last_seq: 21 }]);
  expect(listener.hints).toHaveLength(3);
});

test("notifications are sent at commit, not before; several statements in one transaction notify per statement", async () => {
  const s = await createSessionSql(db.sql);
  const tx = createPool(db.url, { max: 1 });
  try {
    let commit!: () => void;
    const gate = new Promise<void>((r) => (commit = r));
    let appended!: () => void;
    const inside = new Promise<void>((r) => (appended = r));
    const done = tx.begin(async (t) => {
      await t`select * from starcite.append(${s}, 'x', '{}')`;
      await t`select * from starcite.append_batch(${s}, '[{"payload":{}},{"payload":{}}]'::jsonb)`;
      appended();
      await gate;
    });
    await within(5_000, "the appends inside the transaction", inside);

    await flush(); // a later commit notifies ...
    expect(hintsFor(s)).toEqual([]); // ... while the open transaction has not

    commit();
    await done;
    await listener.waitFor("the committed transaction", (h) => h.session_id === s && h.last_seq === 3);
    expect(hintsFor(s)).toEqual([
      { session_id: s, last_seq: 1 },
      { session_id: s, last_seq: 3 },
    ]);
  } finally {
    await tx.end({ timeout: 5 });
  }
});

test("deduped retries and rejected appends send nothing", async () => {
  const s = await createSessionSql(db.sql);
  await appendBatch(db.sql, s, [
    { payload: { n: 1 }, producerId: "p", producerSeq: 1 },
    { payload: {}, idempotencyKey: "k" },
  ]);
  await flush();
  listener.hints.length = 0;

  const retry = await appendBatch(db.sql, s, [
    { payload: { n: 1 }, producerId: "p", producerSeq: 1 },
    { payload: {}, idempotencyKey: "k" },
  ]);
  expect(retry.map((o) => o.ok && o.result.deduped)).toEqual([true, true]);
  await expect(append(db.sql, s, { payload: {}, expectedSeq: 0 })).rejects.toMatchObject({ code: "expected_seq_conflict" });
  await appendBatch(db.sql, s, [{ payload: {}, producerId: "p", producerSeq: 7 }]); // per-item failure, nothing written

  await flush();
  expect(listener.hints).toEqual([{ session_id: marker, last_seq: markerSeq }]);
});

test("a rolled-back batch sends no notification", async () => {
  const s = await createSessionSql(db.sql);
  await expect(
    db.sql.begin(async (t) => {
      await t`select * from starcite.append_batch(${s}, '[{"payload":{}},{"payload":{}}]'::jsonb)`;
      throw new Error("abort");
    }),
  ).rejects.toThrow("abort");
  await flush();
  expect(listener.hints).toEqual([{ session_id: marker, last_seq: markerSeq }]);
});
