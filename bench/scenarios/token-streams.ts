/**
 * 9. Token streams: traffic shaped like a busy AI app. S sessions each stream R token-chunk events a second
 *    through the SDK while K readers per session tail them:
 *      writers  one `@starcite/sdk` client; each session's writer is a `producer()` with a 20 ms linger, as
 *               `appendUIMessageStream` writes an assistant turn (events queued during a request or its
 *               linger share the next one); small payloads (`{"i":n,"delta":"..."}`, 96 bytes), open loop:
 *               event n starts at t0 + n / (S*R), round-robin over the sessions
 *      readers  K lean graphql-ws `tail` subscribers per session (one WebSocket each), live before the run
 *    Full size: 200 sessions x 50 events/s = 10,000 events/s, 5 readers each = 50,000 deliveries/s.
 *    Reported: delivery lag from the start of append() until a reader has the event (p50/p99/p99.9), server
 *    CPU per 1,000 events/s, server peak RSS, Postgres and bench CPU, events per append transaction. Targets: p99 <= 50 ms, server <= 0.3 cores per 1,000 events/s.
 *    A fifth-size run (40 sessions, 2,000 events/s) goes first, on its own sessions: what one of these
 *    2-core machines sustains with the load generator, the server and Postgres on the same cores.
 */
import { Starcite, type Producer, type StarciteSession } from "@starcite/sdk";
import WebSocket from "ws";
import { hasGraphQL } from "../lib/graphql.ts";
import { openLoop, sleep, waitFor } from "../lib/load.ts";
import type { ResultRow } from "../lib/report.ts";
import { SkipScenario, type Scenario } from "../lib/scenario.ts";
import type { ChildServer } from "../lib/servers.ts";
import { Recorder, now } from "../lib/stats.ts";
import type { Sql } from "../../src/db/client.ts";
import { createSessions, DeliveryLag, openWindow, target } from "./common.ts";
import { openSubscribers } from "./fanout.ts";

const LINGER_MS = 20;
const PAYLOAD_BYTES = 96;

interface TokenCase {
  label: string;
  sessions: number;
  ratePerSession: number;
  readersPerSession: number;
  durationMs: number;
  judged: boolean;
}

/** A token-chunk payload: `{"i":n,"delta":"xx..."}`, `bytes` long as JSON. */
function chunk(i: number): { i: number; delta: string } {
  const base = JSON.stringify({ i, delta: "" }).length;
  return { i, delta: "x".repeat(Math.max(0, PAYLOAD_BYTES - base)) };
}

async function runCase(server: ChildServer, sql: Sql, c: TokenCase, pg: { cpuSeconds(): number | undefined }): Promise<ResultRow> {
  const ids = Array.from({ length: c.sessions }, (_, i) => `tok-${c.label}-${i}`);
  await createSessions(sql, ids);
  const rate = c.sessions * c.ratePerSession;
  const total = Math.round((rate * c.durationMs) / 1000);
  // Event n of the measured run carries i = BASE + n; warm-up events carry smaller indexes and are not counted.
  const BASE = 1_000_000_000;
  const delivered = new DeliveryLag(BASE, total, Math.min(total * c.readersPerSession, 4_000_000));

  const client = new Starcite({ baseUrl: server.url, apiKey: "sk_bench", webSocketImpl: WebSocket, retry: { maxAttempts: 1 } });
  const sessions: StarciteSession[] = await Promise.all(ids.map((id) => client.session({ id })));
  const writers: Producer[] = sessions.map((s, k) => s.producer({ producerId: `tok-${c.label}-${k}`, lingerMs: LINGER_MS }));
  await server.resetPeak();
  const opened = await openSubscribers(
    server.url.replace(/^http/, "ws") + "/graphql",
    ids,
    c.sessions * c.readersPerSession,
    delivered.onNext,
  );
  try {
    if (opened.failures) throw new Error(`${opened.failures} subscriptions failed: ${opened.firstFailure}`);
    // Warm-up: a second of the same traffic, unmeasured (connection pools, JIT, the server's caches).
    await openLoop(rate, 1000, (n) => writers[n % writers.length]!.append({ type: "token", payload: chunk(n) }));
    await sleep(200);
    const rssIdle = (await server.stats()).rss;
    await server.resetPeak();
    const close = await openWindow(server, pg);
    const appendLatency = new Recorder(total);
    const r = await openLoop(rate, c.durationMs, async (n) => {
      const t = now();
      delivered.sentAt[n] = t;
      await writers[n % writers.length]!.append({ type: "token", payload: chunk(BASE + n) });
      appendLatency.add(Number(now() - t) / 1e6);
    });
    const expected = (r.started - r.errors) * c.readersPerSession;
    await waitFor(() => delivered.deliveries >= expected, 30_000, "every reader to receive every event").catch(() => {});
    const w = await close();
    const events = w.delta("starcite_append_batch_size_sum");
    const transactions = w.delta("starcite_append_batch_size_count");
    const achieved = r.started / r.seconds;
    const perThousand = w.serverCores / (achieved / 1000);
    const latency = delivered.lag.summary();
    const row: ResultRow = {
      case:
        `9 ${c.label}: ${c.sessions} sessions x ${c.ratePerSession} events/s (SDK, ${LINGER_MS} ms linger), ` +
        `${c.readersPerSession} readers each`,
      latency,
      throughput: delivered.deliveries / (w.wallMs / 1000),
      throughputUnit: "deliveries/s",
      extra: {
        eventsPerSec: Math.round(achieved),
        serverCpu: w.serverCores,
        serverCpuPer1k: perThousand,
        benchCpu: w.benchCores,
        ...(w.dbCores !== undefined ? { dbCpu: w.dbCores } : {}),
        peakRssMiB: Math.round(w.server.peakRss / 2 ** 20),
        loopDelayP99: w.server.loopDelayP99Ms,
        loopDelayMax: w.server.loopDelayMaxMs,
        idleRssMiB: Math.round(rssIdle / 2 ** 20),
        appendP50: appendLatency.summary().p50,
        appendP99: appendLatency.summary().p99,
        eventsPerTx: events / transactions,
        missing: expected - delivered.deliveries,
        lateStarts: r.lateStarts,
        appendErrors: r.errors,
        ...(r.firstError ? { firstError: String(r.firstError instanceof Error ? r.firstError.message : r.firstError).slice(0, 120) } : {}),
        openSec: opened.openMs / 1000,
      },
    };
    if (c.judged) {
      row.targets = [
        target("every delivery made", expected - delivered.deliveries === 0 && r.errors === 0),
        target("p99 <= 50 ms", latency.p99 <= 50),
        target("server <= 0.3 cores per 1,000 events/s", perThousand <= 0.3),
      ];
    }
    return row;
  } finally {
    for (const s of opened.subs) s.close();
    await Promise.allSettled(sessions.map((s) => s.close()));
    await sleep(300);
  }
}

export const tokenStreams: Scenario = {
  id: "9",
  name: "token-streams",
  title: "token streams: 200 sessions x 50 token events/s through the SDK, 5 readers per session (lag, server CPU per 1k events, RSS)",
  async run(ctx) {
    const db = await ctx.pg.newDatabase("tokens", 4);
    const server = await ctx.startStarcite(db.url);
    try {
      if (!(await hasGraphQL(server.url))) throw new SkipScenario("the server has no /graphql yet");
      const durationMs = ctx.quick ? 3000 : 10_000;
      const cases: TokenCase[] = [
        { label: "9a", sessions: ctx.scale(40, 4), ratePerSession: 50, readersPerSession: 5, durationMs, judged: false },
        { label: "9b", sessions: ctx.scale(200, 20), ratePerSession: 50, readersPerSession: 5, durationMs, judged: true },
      ];
      const rows: ResultRow[] = [];
      for (const c of cases) {
        ctx.log(`  ${c.label}: ${c.sessions} sessions, ${c.sessions * c.readersPerSession} readers`);
        rows.push(await runCase(server, db.sql, c, ctx.pg));
      }
      return {
        rows,
        notes: [
          "lag runs from the start of the SDK's append() (outbox queueing and linger included) until a reader has parsed the event's index",
          "serverCpuPer1k = server cores / (events per second / 1,000); serverCpu, dbCpu and benchCpu share the same 2 cores",
          "eventsPerTx = events per append transaction (the server's group commit)",
        ],
      };
    } finally {
      await server.close();
      await db.drop();
    }
  },
};
