/**
 * 4. Fan-out. Subscribers are lean graphql-transport-ws clients (one WebSocket each, full `tail` selection)
 *    in the bench process; appends go through GraphQL HTTP at a steady rate; the server runs in a child
 *    process so its CPU time and RSS are its own.
 *      4a0  10 subscribers on one session at 100 events/s       (reads-per-batch baseline)
 *      4a   1,000 subscribers on one session at 100 events/s
 *      4b   10,000 subscribers over 1,000 sessions (10 each) at 100 events/s round-robin, then at 1,000 events/s
 *           (every session advancing once a second) on the same subscriptions
 *    Reported: delivery lag (append call start -> subscriber has it) p50/p99/p99.9, server CPU (cores),
 *    server peak RSS, and database event reads per appended batch from /metrics
 *    (starcite_event_reads_total / starcite_append_batch_size_count).
 */
import { GraphQLClient, hasGraphQL, leanTail, TAIL_SUBSCRIPTION, type Subscription } from "../lib/graphql.ts";
import { openLoop, payloadOf, sleep, waitFor } from "../lib/load.ts";
import type { ResultRow } from "../lib/report.ts";
import { SkipScenario, type Scenario } from "../lib/scenario.ts";
import { startChildServer, type ChildServer } from "../lib/servers.ts";
import type { Sql } from "../../src/db/client.ts";
import { Recorder, msSince, now } from "../lib/stats.ts";
import { createSessions, DeliveryLag, openWindow, target } from "./common.ts";

export interface OpenedSubscribers {
  subs: Subscription[];
  openMs: number;
  failures: number;
  firstFailure?: string;
}

/**
 * Opens `count` lean subscribers, subscriber k on sessions[k % sessions.length], at most `parallel`
 * handshakes at a time, and waits until every one is live. onNext gets each raw `next` message.
 */
export async function openSubscribers(
  wsEndpoint: string,
  sessions: string[],
  count: number,
  onNext: (raw: string) => void,
  parallel = 100,
): Promise<OpenedSubscribers> {
  const subs: Subscription[] = [];
  let failures = 0;
  let firstFailure: string | undefined;
  const t0 = now();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const k = next++;
      const sub = leanTail(wsEndpoint, sessions[k % sessions.length]!, 0, TAIL_SUBSCRIPTION, onNext, (e) => {
        failures++;
        firstFailure ??= e instanceof Error ? e.message : String(e);
      });
      subs.push(sub);
      try {
        await sub.opened;
        await sub.live;
      } catch (e) {
        failures++;
        firstFailure ??= e instanceof Error ? e.message : String(e);
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return { subs, openMs: msSince(t0), failures, firstFailure };
}

interface FanoutCase {
  label: string;
  subscribers: number;
  sessions: number;
  /** Steady append rates run one after another on the same open subscriptions. */
  runs: { rate: number; durationMs: number }[];
}

/** Opens the case's subscribers once, then runs each rate against them; one row per rate. */
async function runCase(
  server: ChildServer,
  sql: Sql,
  c: FanoutCase,
  tag: string,
  pg: { cpuSeconds(): number | undefined },
): Promise<ResultRow[]> {
  const gql = new GraphQLClient(server.url, 128);
  const sessions = Array.from({ length: c.sessions }, (_, i) => `fan-${tag}-${i}`);
  await createSessions(sql, sessions);
  const perSession = c.subscribers / c.sessions;

  // The current run's bookkeeping; subscribers deliver into whichever run is active.
  let current = new DeliveryLag(0, 0, 1);
  const onNext = (raw: string) => current.onNext(raw);

  await server.resetPeak();
  const opened = await openSubscribers(gql.wsEndpoint, sessions, c.subscribers, onNext);
  const rows: ResultRow[] = [];
  try {
    if (opened.failures) throw new Error(`${opened.failures} of ${c.subscribers} subscriptions failed: ${opened.firstFailure}`);
    await sleep(500);
    const rssIdle = (await server.stats()).rss;
    for (const [k, run] of c.runs.entries()) {
      const base = 1_000_000_000 + k * 100_000_000;
      const total = Math.round((run.rate * run.durationMs) / 1000);
      const delivered = (current = new DeliveryLag(base, total, Math.min(total * perSession, 4_000_000)));
      await server.resetPeak();
      const close = await openWindow(server, pg);
      const appendLatency = new Recorder(total);
      const r = await openLoop(run.rate, run.durationMs, async (i) => {
        const t = now();
        delivered.sentAt[i] = t;
        await gql.append(sessions[i % sessions.length]!, payloadOf(base + i));
        appendLatency.add(Number(now() - t) / 1e6);
      });
      const expected = (r.started - r.errors) * perSession;
      await waitFor(() => delivered.deliveries >= expected, 30_000, "every subscriber to receive every event").catch(() => {});
      const w = await close();
      const batches = w.delta("starcite_append_batch_size_count");
      const events = w.delta("starcite_append_batch_size_sum");
      const reads = w.delta("starcite_event_reads_total");
      const hubReads = w.delta("starcite_event_reads_total", 'source="hub"');
      const advances = w.delta("starcite_notifications_total");
      rows.push({
        case:
          `${c.label}: ${c.subscribers.toLocaleString("en-US")} subs / ${c.sessions.toLocaleString("en-US")} ` +
          `session${c.sessions > 1 ? "s" : ""} @${run.rate}/s`,
        latency: delivered.lag.summary(),
        throughput: delivered.deliveries / (w.wallMs / 1000),
        throughputUnit: "deliveries/s",
        extra: {
          appendP50: appendLatency.summary().p50,
          appendP99: appendLatency.summary().p99,
          serverCpu: w.serverCores,
          benchCpu: w.benchCores,
          ...(w.dbCores !== undefined ? { dbCpu: w.dbCores } : {}),
          peakRssMiB: Math.round(w.server.peakRss / 2 ** 20),
          loopDelayP99: w.server.loopDelayP99Ms,
          loopDelayMax: w.server.loopDelayMaxMs,
          idleRssMiB: Math.round(rssIdle / 2 ** 20),
          readsPerBatch: reads / batches,
          readsPerAdvance: reads / advances,
          hubReads,
          eventsPerBatch: events / batches,
          batches,
          missing: expected - delivered.deliveries,
          openSec: opened.openMs / 1000,
          appendErrors: r.errors,
        },
      });
    }
    return rows;
  } finally {
    for (const s of opened.subs) s.close();
    gql.close();
    await sleep(500);
  }
}

/**
 * 4b's floor: the same subscribers and appends against a bare relay in its own process (bench/lib/relay-floor.ts:
 * HTTP in, the message written to the session's sockets, nothing else). Each row of `rows` (4b's, by rate) gets
 * its p99 as a multiple of the relay's at the same rate.
 */
async function relayFloor(sql: Sql, c: FanoutCase, rows: ResultRow[], pg: { cpuSeconds(): number | undefined }): Promise<ResultRow[]> {
  const relay = await startChildServer("relay", {});
  try {
    const floors = await runCase(relay, sql, { ...c, label: `${c.label} floor (bare relay)` }, "floor", pg);
    for (const [k, floor] of floors.entries()) {
      floor.floor = true;
      for (const key of ["readsPerBatch", "readsPerAdvance", "hubReads", "eventsPerBatch", "batches"]) delete floor.extra?.[key];
      const row = rows[k];
      if (row?.latency && floor.latency)
        row.vsFloor = { p99: row.latency.p99 / floor.latency.p99, p999: row.latency.p999 / floor.latency.p999 };
    }
    return floors;
  } finally {
    await relay.close();
  }
}

export const fanout: Scenario = {
  id: "4",
  name: "fanout",
  title: "fan-out: 1,000 subscribers on one session @100/s; 10,000 over 1,000 sessions (lag, server CPU/RSS, DB reads per batch)",
  async run(ctx) {
    const db = await ctx.pg.newDatabase("fanout", 4);
    const server = await ctx.startStarcite(db.url);
    try {
      if (!(await hasGraphQL(server.url))) throw new SkipScenario("the server has no /graphql yet");
      const long = ctx.quick ? 2000 : 10_000;
      const cases: FanoutCase[] = [
        { label: "4a0", subscribers: 10, sessions: 1, runs: [{ rate: 100, durationMs: ctx.quick ? 1500 : 5000 }] },
        { label: "4a", subscribers: ctx.scale(1000, 100), sessions: 1, runs: [{ rate: 100, durationMs: long }] },
        {
          label: "4b",
          subscribers: ctx.scale(10_000, 1000),
          sessions: ctx.scale(1000, 100),
          runs: [
            { rate: 100, durationMs: long },
            { rate: ctx.scale(1000, 100) * (ctx.quick ? 3 : 1), durationMs: long },
          ],
        },
      ];
      const rows: ResultRow[] = [];
      // BENCH_FANOUT_CASES=4b runs only those cases (for profiling one of them); the targets need all three.
      const only = process.env.BENCH_FANOUT_CASES?.split(",").map((x) => x.trim());
      for (const [k, c] of cases.entries()) {
        if (only && !only.includes(c.label)) continue;
        ctx.log(`  ${c.label}: opening ${c.subscribers} subscribers`);
        const own = await runCase(server, db.sql, c, String(k), ctx.pg);
        rows.push(...own);
        if (c.label === "4b" && !ctx.quick) {
          ctx.log(`  ${c.label} floor: the same against a bare relay`);
          rows.push(...(await relayFloor(db.sql, c, own, ctx.pg)));
        }
      }
      if (only) return { rows, notes: [`only ${only.join(", ")} (BENCH_FANOUT_CASES)`] };
      // 4b is the last case: its relay floor's rows, if any, come after these four.
      const [r0, ra, rb, rc] = rows as [ResultRow, ResultRow, ResultRow, ResultRow];
      const rpa = (r: ResultRow) => Number(r.extra?.readsPerAdvance);
      ra.targets = [
        target(
          "DB reads per session advance independent of subscribers (<= 1.5x the 10-subscriber run)",
          rpa(ra) <= Math.max(1, rpa(r0)) * 1.5,
        ),
      ];
      rb.targets = [target("p99 < 250 ms", rb.latency!.p99 < 250), target("server RSS < 1 GB", Number(rb.extra?.peakRssMiB) < 1024)];
      // Issue 15's case: the same 10,000 subscriptions at 1,000 events/s (10,000 deliveries/s).
      if (!ctx.quick) {
        rc.targets = [
          target("every delivery made", Number(rc.extra?.missing) === 0 && Number(rc.extra?.appendErrors) === 0),
          target("p99 <= 250 ms", rc.latency!.p99 <= 250),
        ];
      }
      return {
        rows,
        notes: [
          "lag runs from the start of the append call until a subscriber has parsed the event's index out of its message",
          "serverCpu / benchCpu are cores used during the append window (2 cores in total: the bench, the server and Postgres share them)",
          "readsPerBatch = database event reads / append transactions; readsPerAdvance = reads / NOTIFY hints received " +
            "(one hint per session per transaction): a session's hub read is shared by all of its subscribers",
          "4b runs its two rates on the same 10,000 open subscriptions: 100 events/s (1,000 deliveries/s) and 1,000 events/s " +
            "(10,000 deliveries/s: every session gets an event each second), each with its targets",
          "4b floor: the same subscribers and appends against a bare relay in its own process (bench/lib/relay-floor.ts: " +
            "an append's message written to its session's sockets at once, no database, no GraphQL); p99/floor on 4b's rows " +
            "is 4b's p99 over the relay's at the same rate",
        ],
      };
    } finally {
      await server.close();
      await db.drop();
    }
  },
};
