/**
 * 2. Append throughput with 32 concurrent producers, each appending back to back:
 *    (a) spread over 1,000 sessions (each append picks the next session round-robin from a random start),
 *    (b) all on one hot session.
 *    floor: bare INSERTs from 32 concurrent clients into the plain floor table (many sessions).
 *    Through SQL (32 postgres.js connections, one statement per append) and through GraphQL (32 keep-alive
 *    HTTP connections to the server in a child process, which may group-commit concurrent appends).
 *    2d: 32 SDK producers (one session each) keeping 100 appends queued, so their outboxes send appendBatch of 50.
 */
import os from "node:os";
import { GraphQLClient, hasGraphQL } from "../lib/graphql.ts";
import { closedLoop, payloadOf } from "../lib/load.ts";
import { compareToFloor, type ResultRow } from "../lib/report.ts";
import { skippedRow, type Scenario } from "../lib/scenario.ts";
import { checkpoint } from "../lib/env.ts";
import { sdkClient, windowedAppends } from "../lib/sdk.ts";
import {
  cpuMeter,
  createFloorTable,
  dbCpuMeter,
  createSessions,
  floorInserter,
  loadRow,
  metricSum,
  scrapeMetrics,
  sqlAppend,
  target,
} from "./common.ts";

const PRODUCERS = 32;
/** Events per appendBatch the SDK producers send. */
const SDK_BATCH = 50;
const SESSIONS = 1000;

export const appendThroughput: Scenario = {
  id: "2",
  name: "append-throughput",
  title: "append throughput, 32 concurrent producers: 1,000 sessions and one hot session (SQL, GraphQL, floor)",
  async run(ctx) {
    const durationMs = ctx.quick ? 2000 : 8000;
    const warmupMs = ctx.quick ? 500 : 1000;
    const db = await ctx.pg.newDatabase("throughput", PRODUCERS + 4);
    const server = await ctx.startStarcite(db.url);
    const notes: string[] = [];
    try {
      const sql = db.sql;
      await createFloorTable(sql);
      const ids = Array.from({ length: SESSIONS }, (_, i) => `tp-${i}`);
      await createSessions(sql, [...ids, "tp-hot", ...Array.from({ length: PRODUCERS }, (_, w) => `tp-sdk-${w}`)]);
      // Warm the connection pool to its full size before measuring.
      await Promise.all(Array.from({ length: PRODUCERS }, () => sql`select 1`));
      const pick = (w: number, i: number) => ids[(w * 31 + i) % SESSIONS]!;

      const rows: ResultRow[] = [];
      const run = async (caseName: string, op: (w: number, i: number) => Promise<unknown>, serverStats = false) => {
        await checkpoint(sql);
        const before = serverStats ? await server.stats() : undefined;
        const m0 = serverStats ? await scrapeMetrics(`${server.url}/metrics`) : null;
        const cpu = cpuMeter();
        const dbCpu = dbCpuMeter(ctx.pg);
        const r = await closedLoop(PRODUCERS, durationMs, warmupMs, op);
        const extra: Record<string, number> = { benchCpu: cpu() };
        const dbCores = dbCpu();
        if (dbCores !== undefined) extra.dbCpu = dbCores;
        if (before) {
          const after = await server.stats();
          const wall = (r.seconds + warmupMs / 1000) * 1000;
          extra.serverCpu = (after.cpuUserMs + after.cpuSystemMs - before.cpuUserMs - before.cpuSystemMs) / wall;
          const m1 = await scrapeMetrics(`${server.url}/metrics`);
          const batches =
            (metricSum(m1, "starcite_append_batch_size_count") ?? NaN) - (metricSum(m0, "starcite_append_batch_size_count") ?? NaN);
          const events =
            (metricSum(m1, "starcite_append_batch_size_sum") ?? NaN) - (metricSum(m0, "starcite_append_batch_size_sum") ?? NaN);
          if (Number.isFinite(batches) && batches > 0) extra.eventsPerTx = events / batches;
        }
        const row = loadRow(caseName, r, "events/s", extra);
        rows.push(row);
        return row;
      };

      const floor = floorInserter(sql);
      const floorRow = await run("floor: bare INSERT, 32 clients, 1,000 sessions", (w, i) => floor(pick(w, i), payloadOf(i)));
      const sqlSpread = await run("2a SQL: starcite.append, 1,000 sessions", (w, i) => sqlAppend(sql, pick(w, i), payloadOf(i)));
      const sqlHot = await run("2b SQL: starcite.append, one hot session", (_w, i) => sqlAppend(sql, "tp-hot", payloadOf(i)));

      // Not a target case: the same producers handing append_items 10 events per call, to separate the
      // per-call cost of the SQL path from its per-event cost (the lever the server's group commit pulls).
      const batchRow = await run("2c SQL: append_items, 10 events per call, 1,000 sessions", async (w, i) => {
        const items = Array.from({ length: 10 }, (_, k) => ({
          session_id: pick(w, i * 10 + k),
          type: "content",
          payload: payloadOf(i * 10 + k),
        }));
        await sql`select seq from starcite.append_items(${sql.json(items)}::jsonb)`;
      });
      batchRow.throughput! *= 10;
      batchRow.extra = { ...batchRow.extra, note: "latency is per 10-event call" };

      let gqlSpread: ResultRow | undefined;
      let gqlHot: ResultRow | undefined;
      let sdkRow: ResultRow | undefined;
      if (await hasGraphQL(server.url)) {
        const gql = new GraphQLClient(server.url, PRODUCERS);
        await gql.createSession("tp-gql-hot");
        gqlSpread = await run("2a GraphQL: append, 1,000 sessions", (w, i) => gql.append(pick(w, i), payloadOf(i)), true);
        gqlHot = await run("2b GraphQL: append, one hot session", (_w, i) => gql.append("tp-gql-hot", payloadOf(i)), true);
        gql.close();

        // The SDK's outbox: events queued while a request is in flight go together in the next one.
        const client = sdkClient(server.url, { maxBatchSize: SDK_BATCH });
        const sdkSessions = await Promise.all(Array.from({ length: PRODUCERS }, (_, w) => client.session({ id: `tp-sdk-${w}` })));
        await checkpoint(sql);
        const s0 = await server.stats();
        const cpu = cpuMeter();
        const dbCpu = dbCpuMeter(ctx.pg);
        const r = await windowedAppends(sdkSessions, 2 * SDK_BATCH, durationMs, warmupMs);
        const extra: Record<string, number | string> = { benchCpu: cpu() };
        const dbCores = dbCpu();
        if (dbCores !== undefined) extra.dbCpu = dbCores;
        const s1 = await server.stats();
        extra.serverCpu = (s1.cpuUserMs + s1.cpuSystemMs - s0.cpuUserMs - s0.cpuSystemMs) / (r.seconds * 1000 + warmupMs);
        if (r.errors) extra.errors = r.errors;
        if (r.firstError) extra.firstError = String(r.firstError instanceof Error ? r.firstError.message : r.firstError).slice(0, 120);
        sdkRow = {
          case: `2d SDK: ${PRODUCERS} producers, outbox appendBatch of ${SDK_BATCH} (HTTP)`,
          latency: r.latency.summary(),
          throughput: r.rate,
          throughputUnit: "events/s",
          extra: { ...extra, note: "latency is per event, outbox queueing included" },
        };
        rows.push(sdkRow);
        await Promise.all(sdkSessions.map((x) => x.close()));
      } else {
        rows.push(skippedRow("2a/2b GraphQL", "no /graphql on the server yet"));
        notes.push("GraphQL cases skipped: the server has no /graphql yet");
      }

      compareToFloor(rows, floorRow);
      floorRow.compare = { metric: "throughput, 32 producers, many sessions/streams", system: "Postgres floor" };
      sqlSpread.compare = { metric: "throughput, 32 producers, many sessions/streams", system: "starcite SQL" };
      sqlHot.compare = { metric: "throughput, 32 producers, one session/stream", system: "starcite SQL" };
      sqlSpread.targets = [target(">= floor", sqlSpread.vsFloor!.throughput! >= 1)];
      sqlHot.targets = [target(">= 5,000/s", sqlHot.throughput! >= 5000)];
      if (gqlSpread && gqlHot) {
        gqlSpread.compare = { metric: "throughput, 32 producers, many sessions/streams", system: "starcite GraphQL" };
        gqlHot.compare = { metric: "throughput, 32 producers, one session/stream", system: "starcite GraphQL" };
        gqlSpread.targets = [target(">= floor (group commit)", gqlSpread.vsFloor!.throughput! >= 1)];
        gqlHot.targets = [target(">= 5,000/s", gqlHot.throughput! >= 5000)];
      }
      if (sdkRow) {
        sdkRow.targets = [target(">= 50,000 events/s (Redis Streams with per-write fsync: 36.6k/s)", sdkRow.throughput! >= 50_000)];
      }
      notes.push(...cpuBounds(floorRow, gqlSpread, sdkRow));
      notes.push(
        `${PRODUCERS} closed-loop producers, ${warmupMs} ms warm-up then ${durationMs} ms measured per case; ` +
          "latency columns are per-append latency under that load; benchCpu/serverCpu are cores used by the load generator / server",
      );
      notes.push(
        "the SQL path has no batching: each append is its own transaction, and every transaction that NOTIFYs " +
          "holds Postgres's cluster-wide notify lock through its commit flush, so it cannot share a WAL flush (see FACTS)",
      );
      return { rows, notes };
    } finally {
      await server.close();
      await db.drop();
    }
  },
};

/** µs of CPU per event a row's processes spent, by process (undefined where a meter had nothing). */
function cpuPerEvent(row: ResultRow): { bench: number; db: number; server: number } | undefined {
  const x = row.extra ?? {};
  const rate = row.throughput;
  if (!rate || typeof x.benchCpu !== "number" || typeof x.dbCpu !== "number") return undefined;
  const per = (cores: unknown) => (typeof cores === "number" ? (cores * 1e6) / rate : 0);
  return { bench: per(x.benchCpu), db: per(x.dbCpu), server: per(x.serverCpu) };
}

/**
 * What the CPU each process spent per event says about the targets, from this run's own meters: on these machines
 * the load generator, Postgres and the server share the machine, so a case whose processes spend more CPU per
 * event than the floor's cannot outrun it however the work is scheduled. For 2a: the ratio even a server that
 * cost nothing could reach; for 2d: the rate Postgres's own share per event allows.
 */
function cpuBounds(floor: ResultRow, gql: ResultRow | undefined, sdk: ResultRow | undefined): string[] {
  const f = cpuPerEvent(floor);
  const out: string[] = [];
  const us = (v: number) => `${v.toFixed(0)} µs`;
  if (f && gql) {
    const g = cpuPerEvent(gql);
    if (g) {
      const floorCost = f.bench + f.db;
      out.push(
        `CPU per event: floor ${us(floorCost)} (load generator ${us(f.bench)}, Postgres ${us(f.db)}); 2a GraphQL ` +
          `${us(g.bench + g.db + g.server)} (load generator ${us(g.bench)}, Postgres ${us(g.db)}, server ${us(g.server)}): ` +
          `with a server that cost nothing, 2a could reach at most ${(floorCost / (g.bench + g.db)).toFixed(2)}x the floor on this machine`,
      );
    }
  }
  const d = sdk && cpuPerEvent(sdk);
  if (d) {
    out.push(
      `2d SDK: ${us(d.bench + d.db + d.server)} of CPU per event (load generator ${us(d.bench)}, Postgres ${us(d.db)}, server ${us(d.server)}); ` +
        `Postgres's share alone allows at most ${Math.round((os.cpus().length * 1e6) / d.db / 1000)}k events/s on ${os.cpus().length} cores`,
    );
  }
  return out;
}
