import { afterAll, beforeAll, expect, test } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";

/**
 * append_items appends a call in which nothing can dedup or conflict with set statements, and decides every
 * other call item by item. The two must agree: these calls sit on the boundary between them.
 */
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

interface Item {
  session_id: string;
  payload: Record<string, unknown>;
  producer_id?: string;
  producer_seq?: number;
  idempotency_key?: string;
  expected_seq?: number;
}
interface Row {
  idx: number;
  seq: number | null;
  last_seq: number | null;
  deduped: boolean;
  error_code: string | null;
}

const call = async (items: Item[], atomic = false): Promise<Row[]> =>
  db.sql<
    Row[]
  >`select idx, seq, last_seq, deduped, error_code from starcite.append_items(${db.sql.json(items as never)}::jsonb, ${atomic})`;
const log = async (id: string) =>
  db.sql<{ seq: number; producer_id: string | null; producer_seq: number | null; n: number }[]>`
    select seq, producer_id, producer_seq, (payload->>'n')::int as n from starcite.events where session_id = ${id} order by seq`;
const lastSeq = async (id: string) =>
  (await db.sql<{ last_seq: number }[]>`select last_seq from starcite.sessions where id = ${id}`)[0]!.last_seq;

test("a call over several sessions and producers: seqs counted per session in input order, last_seq is the item's seq", async () => {
  const [a, b] = ["ses_set_a", "ses_set_b"];
  for (const id of [a, b]) await db.sql`select starcite.create_session(${id})`;
  await call([{ session_id: a, payload: { n: 0 } }]);
  const rows = await call([
    { session_id: b, payload: { n: 1 }, producer_id: "p", producer_seq: 1 },
    { session_id: a, payload: { n: 2 }, producer_id: "p", producer_seq: 1 },
    { session_id: a, payload: { n: 3 } },
    { session_id: b, payload: { n: 4 }, producer_id: "p", producer_seq: 2 },
    { session_id: a, payload: { n: 5 }, producer_id: "q", producer_seq: 40 },
    { session_id: a, payload: { n: 6 }, producer_id: "p", producer_seq: 2 },
  ]);
  expect(rows.map((r) => [r.idx, r.seq, r.last_seq, r.deduped, r.error_code])).toEqual([
    [1, 1, 1, false, null],
    [2, 2, 2, false, null],
    [3, 3, 3, false, null],
    [4, 2, 2, false, null],
    [5, 4, 4, false, null],
    [6, 5, 5, false, null],
  ]);
  expect(await lastSeq(a)).toBe(5);
  expect(await lastSeq(b)).toBe(2);
  expect((await log(a)).map((e) => e.n)).toEqual([0, 2, 3, 5, 6]);
  // The runs continue in the next call; a retry of the last two, with the next one, dedups and appends one.
  const next = await call([
    { session_id: a, payload: { n: 5 }, producer_id: "q", producer_seq: 40 },
    { session_id: a, payload: { n: 7 }, producer_id: "q", producer_seq: 41 },
    { session_id: b, payload: { n: 4 }, producer_id: "p", producer_seq: 2 },
  ]);
  expect(next.map((r) => [r.seq, r.deduped, r.error_code])).toEqual([
    [4, true, null],
    [6, false, null],
    [2, true, null],
  ]);
  expect(await lastSeq(a)).toBe(6);
  expect(await lastSeq(b)).toBe(2);
});

test("a gap, a repeat inside the call, an unknown or closed session: the same answers as item by item", async () => {
  const id = "ses_set_edges";
  await db.sql`select starcite.create_session(${id})`;
  await call([1, 2, 3].map((k) => ({ session_id: id, payload: { n: k }, producer_id: "p", producer_seq: k })));
  // A gap after the log's last producer_seq.
  const gap = await call([{ session_id: id, payload: { n: 5 }, producer_id: "p", producer_seq: 5 }]);
  expect(gap.map((r) => r.error_code)).toEqual(["producer_seq_conflict"]);
  // A run that does not continue from the log (starts over at 1): a retry of seq 1, then 2 of the same content.
  const over = await call([
    { session_id: id, payload: { n: 1 }, producer_id: "p", producer_seq: 1 },
    { session_id: id, payload: { n: 2 }, producer_id: "p", producer_seq: 2 },
  ]);
  expect(over.map((r) => [r.seq, r.deduped])).toEqual([
    [1, true],
    [2, true],
  ]);
  // The same producer_seq twice in one call: the second is a retry of the first.
  const twice = await call([
    { session_id: id, payload: { n: 4 }, producer_id: "p", producer_seq: 4 },
    { session_id: id, payload: { n: 4 }, producer_id: "p", producer_seq: 4 },
  ]);
  expect(twice.map((r) => [r.seq, r.deduped])).toEqual([
    [4, false],
    [4, true],
  ]);
  // A session that does not exist, beside one that does: only that item fails.
  const mixed = await call([
    { session_id: "ses_set_missing", payload: { n: 0 } },
    { session_id: id, payload: { n: 5 }, producer_id: "p", producer_seq: 5 },
  ]);
  expect(mixed.map((r) => [r.seq, r.error_code])).toEqual([
    [null, "session_not_found"],
    [5, null],
  ]);
  // An invalid item in an atomic call writes nothing.
  await expect(
    call(
      [
        { session_id: id, payload: { n: 6 }, producer_id: "p", producer_seq: 6 },
        { session_id: id, payload: "not an object" as never },
      ],
      true,
    ),
  ).rejects.toMatchObject({ code: "SC002" });
  expect(await lastSeq(id)).toBe(5);
  expect((await log(id)).map((e) => [e.seq, e.producer_seq])).toEqual([
    [1, 1],
    [2, 2],
    [3, 3],
    [4, 4],
    [5, 5],
  ]);
});

test("8 connections x 40 calls of 10 producer items over 4 sessions: every session gapless, every producer run in order", async () => {
  const sessions = ["ses_set_c0", "ses_set_c1", "ses_set_c2", "ses_set_c3"];
  for (const id of sessions) await db.sql`select starcite.create_session(${id})`;
  await Promise.all(
    Array.from({ length: 8 }, async (_, w) => {
      const next = new Map<string, number>();
      for (let c = 0; c < 40; c++) {
        const items: Item[] = Array.from({ length: 10 }, (_, k) => {
          const s = (w + k) % sessions.length;
          const producer = `w${w}-${s}`;
          const seq = next.get(producer) ?? 1;
          next.set(producer, seq + 1);
          return { session_id: sessions[s]!, payload: { n: w * 1000 + c * 10 + k }, producer_id: producer, producer_seq: seq };
        });
        const rows = await call(items, true);
        expect(rows.every((r) => r.error_code === null && !r.deduped)).toBe(true);
      }
    }),
  );
  for (const id of sessions) {
    const events = await log(id);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: events.length }, (_, i) => i + 1));
    expect(await lastSeq(id)).toBe(events.length);
    const byProducer = new Map<string, number[]>();
    for (const e of events) byProducer.set(e.producer_id!, [...(byProducer.get(e.producer_id!) ?? []), e.producer_seq!]);
    for (const seqs of byProducer.values()) expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
  }
  expect((await Promise.all(sessions.map(log))).reduce((n, e) => n + e.length, 0)).toBe(8 * 40 * 10);
});
