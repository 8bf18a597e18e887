import { afterAll, beforeAll, expect, test } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";

/**
 * starcite.append takes a direct path for plain appends and the producer's next seq, and hands anything
 * else to append_items after giving back its own counter bump. Nothing may leak from that hand-off.
 */
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const lastSeq = async (id: string) =>
  (await db.sql<{ last_seq: number }[]>`select last_seq from starcite.sessions where id = ${id}`)[0]!.last_seq;
const seqs = async (id: string) =>
  (await db.sql<{ seq: number }[]>`select seq from starcite.events where session_id = ${id} order by seq`).map((r) => r.seq);

test("a retry and a conflict handed to the engine leave the counter and the log exactly as they were", async () => {
  const id = "ses_fast_handoff";
  await db.sql`select starcite.create_session(${id})`;
  const ap = (pseq: number, body: Record<string, string | number>) =>
    db.sql`select * from starcite.append(session_id => ${id}, type => 'content', payload => ${db.sql.json(body)}::jsonb,
                                         producer_id => 'p', producer_seq => ${pseq})`;
  expect([...(await ap(1, { n: 1 }))]).toEqual([{ seq: 1, last_seq: 1, deduped: false }]);
  expect([...(await ap(2, { n: 2 }))]).toEqual([{ seq: 2, last_seq: 2, deduped: false }]);
  // Retry of 1: deduped to seq 1, no bump left behind.
  expect([...(await ap(1, { n: 1 }))]).toEqual([{ seq: 1, last_seq: 2, deduped: true }]);
  expect(await lastSeq(id)).toBe(2);
  // Gap and replay conflicts raise, and leave no bump either.
  await expect(ap(4, { n: 4 })).rejects.toMatchObject({ code: "SC201" });
  await expect(ap(2, { n: "changed" })).rejects.toMatchObject({ code: "SC202" });
  expect(await lastSeq(id)).toBe(2);
  // The log continues gaplessly.
  expect([...(await ap(3, { n: 3 }))]).toEqual([{ seq: 3, last_seq: 3, deduped: false }]);
  await db.sql`select * from starcite.append(${id}, 'content', '{"plain": true}')`;
  expect(await seqs(id)).toEqual([1, 2, 3, 4]);
});

test("arguments the direct path does not take still get the engine's exact errors", async () => {
  const id = "ses_fast_errors";
  await db.sql`select starcite.create_session(${id})`;
  const codeOf = (p: Promise<unknown>) =>
    p.then(
      () => "ok",
      (e: { code?: string }) => e.code,
    );
  expect(await codeOf(db.sql`select * from starcite.append('ses_nope', 'content', '{}')`)).toBe("SC100");
  expect(await codeOf(db.sql`select * from starcite.append(${id}, '', '{}')`)).toBe("SC002");
  expect(await codeOf(db.sql`select * from starcite.append(${id}, 'content', '[1]')`)).toBe("SC002");
  expect(await codeOf(db.sql`select * from starcite.append(${id}, 'content', '{}', metadata => '[1]')`)).toBe("SC002");
  expect(await codeOf(db.sql`select * from starcite.append(${id}, 'content', '{}', producer_id => 'p')`)).toBe("SC002");
  expect(await codeOf(db.sql`select * from starcite.append(${id}, 'content', '{}', producer_id => '', producer_seq => 1)`)).toBe("SC002");
  expect(await codeOf(db.sql`select * from starcite.append(${id}, 'content', '{}', producer_id => 'p', producer_seq => 0)`)).toBe("SC002");
  expect(await codeOf(db.sql`select * from starcite.append(${id}, 'content', '{}', expected_seq => 5)`)).toBe("SC200");
  expect(await codeOf(db.sql`select * from starcite.append(${id}, 'content', '{}', tenant_id => 'nobody')`)).toBe("SC100");
  expect(await lastSeq(id)).toBe(0);
  expect(await codeOf(db.sql`select * from starcite.append(${id}, 'content', '{}', expected_seq => 0)`)).toBe("ok");
  expect(await codeOf(db.sql`select * from starcite.append(${id}, 'content', '{}', idempotency_key => 'k')`)).toBe("ok");
  expect(await seqs(id)).toEqual([1, 2]);
});

test("direct appends, handed-off appends and batches interleave gaplessly under concurrency", async () => {
  const id = "ses_fast_mixed";
  await db.sql`select starcite.create_session(${id})`;
  const workers = Array.from({ length: 6 }, async (_, w) => {
    for (let k = 1; k <= 40; k++) {
      if (w % 3 === 0) await db.sql`select * from starcite.append(${id}, 'content', ${db.sql.json({ w, k })}::jsonb)`;
      else if (w % 3 === 1) {
        await db.sql`select * from starcite.append(session_id => ${id}, type => 'content', payload => ${db.sql.json({ w, k })}::jsonb,
                                                   producer_id => ${`w${w}`}, producer_seq => ${k})`;
        // and a retry of the same producer seq, which must dedupe without burning a seq
        await db.sql`select * from starcite.append(session_id => ${id}, type => 'content', payload => ${db.sql.json({ w, k })}::jsonb,
                                                   producer_id => ${`w${w}`}, producer_seq => ${k})`;
      } else
        await db.sql`select * from starcite.append_batch(${id}, ${db.sql.json([{ payload: { w, k, b: 1 } }, { payload: { w, k, b: 2 } }])})`;
    }
  });
  await Promise.all(workers);
  const expected = 2 * 40 + 2 * 40 + 2 * 80;
  expect(await seqs(id)).toEqual(Array.from({ length: expected }, (_, i) => i + 1));
  expect(await lastSeq(id)).toBe(expected);
});
