/**
 * Retention under concurrent appends, with a real server process running the retention worker: no append ever waits
 * on a lock of the retention job (sampled from pg_stat_activity all along), and no reader skips silently: a tail that falls behind the retained range
 * ends with cursor_expired, every other one is gapless. Prints append latency with and without the retention job;
 * latency is judged by the bench (`npm run bench:scale`), never by a timed test on a shared machine.
 */
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startChildServer, type ChildServer } from "../../bench/lib/servers.ts";
import { now, Recorder } from "../../bench/lib/stats.ts";
import { createPool, type Sql } from "../../src/db/client.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";

const SESSIONS = ["ret_0", "ret_1", "ret_2", "ret_3"];
const SEEDED = 6000;
const KEEP = 500;

let db: TestDatabase;
let server: ChildServer;
/** The appenders' own pool, recognisable in pg_stat_activity. */
let appenders: Sql;

beforeAll(async () => {
  db = await createTestDatabase();
  for (const id of SESSIONS) {
    await db.sql`select starcite.create_session(${id})`;
    for (let i = 0; i < SEEDED; i += 1000) {
      await db.sql`select count(*) from starcite.append_batch(${id}, (select jsonb_agg(jsonb_build_object('payload', jsonb_build_object('i', g, 'pad', repeat('x', 200)))) from generate_series(1, 1000) g))`;
    }
  }
  appenders = createPool(db.url, { max: SESSIONS.length, applicationName: "retention-test-appender" });
  server = await startChildServer("starcite", {
    BENCH_DATABASE_URL: db.url,
    BENCH_RETENTION_INTERVAL_MS: "50",
    BENCH_RETENTION_BATCH: "200",
  });
});

afterAll(async () => {
  await appenders?.end();
  await server?.close();
  await db?.drop();
});

/** One appender per session, sequential SQL appends (starcite.append), until `stop()` says so. */
async function appendUntil(stop: () => boolean, recorder: Recorder, minimum: number): Promise<number> {
  let n = 0;
  await Promise.all(
    SESSIONS.map(async (id) => {
      for (let i = 0; !stop() || i < minimum; i++) {
        const start = now();
        await appenders`select * from starcite.append(${id}, 'content', ${appenders.json({ pad: "y".repeat(200) })}::jsonb)`;
        recorder.since(start);
        n++;
      }
    }),
  );
  return n;
}

function tail(sessionId: string, cursor: number) {
  const client = createClient({
    url: server.url.replace(/^http/, "ws") + "/graphql",
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: true,
  });
  const seqs: number[] = [];
  const errors: { extensions?: { code?: string; earliestSeq?: number } }[] = [];
  client.subscribe<{ tail: { events: { seq: number }[] } }>(
    {
      query: `subscription($s: ID!, $c: Int) { tail(sessionId: $s, cursor: $c) { events { seq } } }`,
      variables: { s: sessionId, c: cursor },
    },
    {
      next: (r) => {
        if (r.errors) errors.push(...(r.errors as never[]));
        seqs.push(...(r.data?.tail.events ?? []).map((e) => e.seq));
      },
      error: (e) => errors.push(...(Array.isArray(e) ? e : [{ extensions: { code: String(e) } }])),
      complete: () => {},
    },
  );
  return { sessionId, cursor, seqs, errors, close: () => client.dispose() };
}

const ms = (x: number) => x.toFixed(2);

test("retention deletes in small batches while appends run: no append waits on its locks, and no reader silently skips", async () => {
  // Without the retention job: the baseline.
  const baseline = new Recorder();
  let stopBaseline = false;
  const baselineRun = appendUntil(() => stopBaseline, baseline, 500);
  stopBaseline = true;
  await baselineRun;

  const lastSeqs = new Map(
    (await db.sql<{ id: string; last_seq: number }[]>`select id, last_seq from starcite.sessions`).map((r) => [r.id, r.last_seq]),
  );
  // Readers: from the very start (racing the deletes) and from the end (live).
  const early = SESSIONS.map((id) => tail(id, 0));
  const live = SESSIONS.map((id) => tail(id, lastSeqs.get(id)!));

  const during = new Recorder();
  await db.sql`select starcite.set_retention(max_events => ${KEEP})`;
  const deletedAll = async () => {
    const rows = await db.sql<{ n: number }[]>`select count(*)::int as n from starcite.events`;
    return rows[0]!.n <= SESSIONS.length * (KEEP + 50);
  };
  let retentionDone = false;
  const appended = appendUntil(() => retentionDone, during, 200);
  // Sample, all along, whether any appender waits on a lock (the retention job must never make one wait).
  let samples = 0;
  let appendersWaitingOnLocks = 0;
  const deadline = Date.now() + 120_000;
  while (!(await deletedAll())) {
    if (Date.now() > deadline) throw new Error("retention did not finish within 120 s");
    // Appenders queue on each other for the cluster-wide NOTIFY lock (README "the NOTIFY lock"); what must never
    // happen is an appender waiting on a backend that is not an appender: the server's, where retention runs.
    const [row] = await db.sql<{ n: number }[]>`
      select count(*)::int as n
      from pg_stat_activity a, unnest(pg_blocking_pids(a.pid)) as blocker(pid)
      join pg_stat_activity b on b.pid = blocker.pid
      where a.application_name = 'retention-test-appender' and b.application_name <> 'retention-test-appender'`;
    samples++;
    appendersWaitingOnLocks += row!.n;
  }
  retentionDone = true;
  const appendedDuring = await appended;

  const b = baseline.summary();
  const d = during.summary();
  console.log(
    `append latency (SQL, ${SESSIONS.length} concurrent appenders): without retention p50 ${ms(b.p50)} p99 ${ms(b.p99)} max ${ms(b.max)} ms (n=${b.n}); ` +
      `with retention deleting ${SESSIONS.length * (SEEDED - KEEP)}+ events in batches of 200: p50 ${ms(d.p50)} p99 ${ms(d.p99)} max ${ms(d.max)} ms (n=${d.n})`,
  );
  console.log(
    `pg_stat_activity samples: ${samples}, appenders seen waiting on a lock held by the server (retention): ${appendersWaitingOnLocks}`,
  );
  expect(appendedDuring).toBeGreaterThan(0);
  expect(samples).toBeGreaterThan(10);
  expect(appendersWaitingOnLocks).toBe(0);

  // Live readers see every append, gapless; early readers are gapless up to where they stopped, and stopped only
  // with cursor_expired naming an earliest seq beyond their cursor.
  const finalSeqs = new Map(
    (await db.sql<{ id: string; last_seq: number }[]>`select id, last_seq from starcite.sessions`).map((r) => [r.id, r.last_seq]),
  );
  const until = async (predicate: () => boolean, what: string) => {
    const end = Date.now() + 30_000;
    while (!predicate()) {
      if (Date.now() > end) throw new Error(`timed out: ${what}`);
      await db.sql`select 1`;
    }
  };
  for (const r of live) {
    await until(() => r.seqs.at(-1) === finalSeqs.get(r.sessionId), `live reader of ${r.sessionId}`);
    expect(r.errors).toEqual([]);
    expect(r.seqs).toEqual(Array.from({ length: r.seqs.length }, (_, i) => r.cursor + 1 + i));
  }
  for (const r of early) {
    await until(() => r.errors.length > 0 || r.seqs.at(-1) === finalSeqs.get(r.sessionId), `early reader of ${r.sessionId}`);
    expect(r.seqs).toEqual(Array.from({ length: r.seqs.length }, (_, i) => i + 1));
    if (r.errors.length > 0) {
      expect(r.errors[0]!.extensions?.code).toBe("cursor_expired");
      expect(r.errors[0]!.extensions?.earliestSeq).toBeGreaterThan((r.seqs.at(-1) ?? 0) + 1);
    }
  }
  await Promise.all([...early, ...live].map((r) => r.close()));
});
