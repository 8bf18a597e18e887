/**
 * Sequencing under concurrency: gapless, duplicate-free, commit-ordered seq per session; sessions do not
 * serialise on each other; a rolled-back append leaves no gap and sends no notification.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createPool, type Sql } from "../../src/db/client.ts";
import { append, appendItems, read } from "../../src/db/events.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createSessionSql, eventCount, lastSeq, listenHints, pgError, sid, waitUntil, within } from "./_support.ts";

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

describe("one hot session", () => {
  test("16 connections x 250 appends: seqs are exactly 1..4000 and a concurrent reader never sees a gap", async () => {
    const WRITERS = 16;
    const PER_WRITER = 250;
    const TOTAL = WRITERS * PER_WRITER;
    const session = await createSessionSql(db.sql, sid("hot"));

    const writers: Sql[] = Array.from({ length: WRITERS }, (_, w) => createPool(db.url, { max: 1, applicationName: `writer-${w}` }));
    const reader = createPool(db.url, { max: 1, applicationName: "reader" });
    try {
      // Open every connection first so that the appends really start together.
      await Promise.all([...writers, reader].map((sql) => sql`select 1`));

      let writersDone = false;
      const readerRun = (async () => {
        let cursor = 0;
        let pagesDuringRun = 0;
        for (;;) {
          const finished = writersDone; // sampled before the read: a read that starts after this sees everything
          const page = await read(reader, session, cursor, 250);
          for (const event of page) {
            // Never backwards, never a skip: seq is assigned under the session lock and commit-ordered.
            if (event.seq !== cursor + 1) throw new Error(`reader at ${cursor} saw seq ${event.seq}`);
            cursor = event.seq;
          }
          if (!finished && page.length > 0) pagesDuringRun++;
          if (finished && page.length < 250) return { cursor, pagesDuringRun };
        }
      })();
      readerRun.catch(() => {}); // awaited below; if a writer fails first, its rejection is not left unhandled

      const perWriter = await Promise.all(
        writers.map(async (sql, w) => {
          const seqs: number[] = [];
          for (let i = 0; i < PER_WRITER; i++) {
            const r = await append(sql, session, { type: "tick", payload: { w, i } });
            expect(r.deduped).toBe(false);
            seqs.push(r.seq);
          }
          return seqs;
        }),
      ).finally(() => {
        writersDone = true;
      });

      const { cursor, pagesDuringRun } = await within(30_000, "the reader to catch up", readerRun);
      expect(cursor).toBe(TOTAL);
      expect(pagesDuringRun).toBeGreaterThan(0);

      // Each writer's own appends got increasing seqs; together they are exactly 1..TOTAL.
      for (const seqs of perWriter) {
        for (let i = 1; i < seqs.length; i++) expect(seqs[i]!).toBeGreaterThan(seqs[i - 1]!);
      }
      const all = perWriter.flat().sort((a, b) => a - b);
      expect(all).toEqual(Array.from({ length: TOTAL }, (_, i) => i + 1));

      const [stats] = await db.sql<{ n: number; distinct_seqs: number; min: number; max: number; pairs: number }[]>`
        select count(*)::int as n, count(distinct seq)::int as distinct_seqs, min(seq) as min, max(seq) as max,
               count(distinct (payload->>'w', payload->>'i'))::int as pairs
        from starcite.events where session_id = ${session}`;
      expect(stats).toEqual({ n: TOTAL, distinct_seqs: TOTAL, min: 1, max: TOTAL, pairs: TOTAL });
      expect(await lastSeq(db.sql, session)).toBe(TOTAL);
    } finally {
      await Promise.all([...writers, reader].map((sql) => sql.end({ timeout: 5 })));
    }
  });
});

describe("many sessions", () => {
  test("an open append transaction on session A blocks only A: appends to B complete meanwhile", async () => {
    const a = await createSessionSql(db.sql, sid("A"));
    const b = await createSessionSql(db.sql, sid("B"));
    const holder = createPool(db.url, { max: 1, applicationName: "holder" });
    const other = createPool(db.url, { max: 1, applicationName: "other" });
    const blocked = createPool(db.url, { max: 1, applicationName: "blocked-on-a" });
    try {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let locked!: () => void;
      const holding = new Promise<void>((r) => (locked = r));

      const txA = holder.begin(async (tx) => {
        const [r] = await tx<{ seq: number }[]>`select * from starcite.append(${a}, 'held', '{}')`;
        locked();
        await gate; // the transaction stays open, holding A's session row lock
        return r!.seq;
      });
      await within(5_000, "the holder to append to A", holding);

      // B never waits for A: with a lock_timeout, a serialised append would fail instead of hanging.
      await other`set lock_timeout = '2s'`;
      for (let i = 1; i <= 20; i++) {
        const r = await within(5_000, "an append to B", append(other, b, { payload: { i } }));
        expect(r.seq).toBe(i);
      }
      // The same goes for a multi-session call that does not touch A.
      const c = await createSessionSql(db.sql, sid("C"));
      const multi = await appendItems(other, [
        { sessionId: b, payload: {} },
        { sessionId: c, payload: {} },
      ]);
      expect(multi.map((o) => o.ok && o.result.seq)).toEqual([21, 1]);

      // A second append to A does wait, on A's lock ...
      const secondA = append(blocked, a, { type: "after", payload: {} });
      await waitUntil("the second append to A to wait on a lock", async () => {
        const rows = await db.sql`
          select 1 from pg_stat_activity
          where application_name = 'blocked-on-a' and datname = current_database() and wait_event_type = 'Lock'`;
        return rows.length > 0;
      });
      // ... and nothing of A's open transaction is visible yet.
      expect(await lastSeq(db.sql, a)).toBe(0);

      release();
      expect(await txA).toBe(1);
      expect((await within(5_000, "the second append to A", secondA)).seq).toBe(2);
      expect(await lastSeq(db.sql, a)).toBe(2);
      expect(await lastSeq(db.sql, b)).toBe(21);
    } finally {
      await Promise.all([holder, other, blocked].map((sql) => sql.end({ timeout: 5 })));
    }
  });

  test("multi-session calls locking the same sessions in opposite input orders do not deadlock", async () => {
    const ids = await Promise.all(Array.from({ length: 4 }, () => createSessionSql(db.sql)));
    const pools = Array.from({ length: 6 }, () => createPool(db.url, { max: 1 }));
    try {
      await Promise.all(
        pools.map(async (sql, p) => {
          const order = p % 2 === 0 ? ids : [...ids].reverse();
          for (let round = 0; round < 25; round++) {
            const outcomes = await appendItems(
              sql,
              order.map((sessionId) => ({ sessionId, payload: { p, round } })),
            );
            expect(outcomes.every((o) => o.ok)).toBe(true);
          }
        }),
      );
      for (const id of ids) {
        expect(await lastSeq(db.sql, id)).toBe(150);
        expect(await eventCount(db.sql, id)).toBe(150);
      }
    } finally {
      await Promise.all(pools.map((sql) => sql.end({ timeout: 5 })));
    }
  });

  test("a rolled-back append leaves no gap and sends no notification", async () => {
    const s = await createSessionSql(db.sql, sid("rb"));
    const marker = await createSessionSql(db.sql, sid("marker"));
    await append(db.sql, s, { payload: { n: 1 } });

    const listener = await listenHints(db.url);
    try {
      const rolledBack = db.sql.begin(async (tx) => {
        const [r] = await tx<{ seq: number }[]>`select * from starcite.append(${s}, 'doomed', '{"n":2}')`;
        expect(r!.seq).toBe(2);
        throw new Error("roll back");
      });
      await expect(rolledBack).rejects.toThrow("roll back");
      expect(await lastSeq(db.sql, s)).toBe(1);
      expect(await eventCount(db.sql, s)).toBe(1);

      // Notifications arrive in commit order, so if the rolled-back append had notified, that hint would
      // come before the marker's. The first hint received must be the marker's.
      await append(db.sql, marker, { payload: {} });
      await listener.waitFor("the marker append", (h) => h.session_id === marker);
      expect(listener.hints[0]).toEqual({ session_id: marker, last_seq: 1 });

      // The next committed append takes the seq the rolled-back one would have had.
      const next = await append(db.sql, s, { payload: { n: 3 } });
      expect(next.seq).toBe(2);
      await listener.waitFor("the append after the rollback", (h) => h.session_id === s);
      expect(listener.hints).toEqual([
        { session_id: marker, last_seq: 1 },
        { session_id: s, last_seq: 2 },
      ]);
      const events = await read(db.sql, s);
      expect(events.map((e) => [e.seq, e.payload])).toEqual([
        [1, { n: 1 }],
        [2, { n: 3 }],
      ]);
    } finally {
      await listener.close();
    }
  });

  test("a transaction that fails on a later statement rolls its append back too", async () => {
    const s = await createSessionSql(db.sql);
    await pgError(
      db.sql.begin(async (tx) => {
        await tx`select * from starcite.append(${s}, 'x', '{}')`;
        await tx`select * from starcite.append('no-such-session', 'x', '{}')`;
      }),
      "SC100",
    );
    expect(await lastSeq(db.sql, s)).toBe(0);
    expect((await append(db.sql, s, { payload: {} })).seq).toBe(1);
  });
});
