/**
 * 3. Read-your-writes / end-to-end latency: from the start of the append call (GraphQL HTTP) until a
 *    graphql-ws subscriber on another connection receives the event, at a steady 100 and 1,000 events/s
 *    (open loop: appends start on schedule whether or not earlier ones returned).
 */
import { GraphQLClient, hasGraphQL, tailWithGraphqlWs, wsClient } from "../lib/graphql.ts";
import { closedLoop, openLoop, payloadOf, waitFor } from "../lib/load.ts";
import type { ResultRow } from "../lib/report.ts";
import { SkipScenario, type BenchContext, type Scenario } from "../lib/scenario.ts";
import { Recorder, now, type LatencySummary } from "../lib/stats.ts";
import { checkpoint } from "../lib/env.ts";
import { cpuMeter, createSessions, sqlAppend, target } from "./common.ts";
import { keepAliveAgent, request } from "../lib/http.ts";
import { startChildServer, type ChildServer } from "../lib/servers.ts";
import type { Sql } from "../../src/db/client.ts";

export interface E2eCase {
  rate: number;
  durationMs: number;
}

export function e2eCases(quick: boolean): E2eCase[] {
  return [
    { rate: 100, durationMs: quick ? 2000 : 10_000 },
    { rate: 1000, durationMs: quick ? 1000 : 5_000 },
  ];
}

/**
 * Appends at `rate` to `sessionId` through GraphQL while one graphql-ws subscriber tails it; returns the
 * append-to-delivery latency and the append call latency. The subscriber is live before the first append.
 */
export async function measureE2e(
  server: ChildServer,
  sessionId: string,
  rate: number,
  durationMs: number,
  cursor = 0,
  warmupMs = 0,
): Promise<{ delivery: Recorder; append: Recorder; missing: number; errors: number; serverCpu: number; benchCpu: number }> {
  const gql = new GraphQLClient(server.url, 256);
  const client = wsClient(gql.wsEndpoint);
  const total = Math.round((rate * durationMs) / 1000);
  const sentAt: bigint[] = new Array<bigint>(total);
  const delivery = new Recorder(total);
  const append = new Recorder(total);
  let received = 0;
  const base = 1_000_000_000; // payload index space of this run, so that replayed history is ignored
  const sub = tailWithGraphqlWs(client, sessionId, cursor, (b) => {
    const t = now();
    for (const e of b.events) {
      const i = (e.payload.i ?? -1) - base;
      if (i >= 0 && i < total && sentAt[i] !== undefined) {
        delivery.add(Number(t - sentAt[i]!) / 1e6);
        received++;
      }
    }
  });
  try {
    await sub.live;
    // Unmeasured traffic first, through the same append and delivery paths: a fresh server runs its JavaScript
    // unoptimised for its first few thousand requests (at 100/s, about twice the CPU per append of a warm one).
    if (warmupMs > 0) await closedLoop(4, warmupMs, 0, (_w, i) => gql.append(sessionId, payloadOf(-1 - i)));
    else for (let w = 0; w < 5; w++) await gql.append(sessionId, payloadOf(-1 - w));
    const s0 = await server.stats();
    const bench = cpuMeter();
    const t0 = now();
    const r = await openLoop(rate, durationMs, async (i) => {
      const t0 = now();
      sentAt[i] = t0;
      await gql.append(sessionId, payloadOf(base + i));
      append.add(Number(now() - t0) / 1e6);
    });
    await waitFor(() => received >= r.started - r.errors, 10_000, "the subscriber to receive every event").catch(() => {});
    const wallMs = Number(now() - t0) / 1e6;
    const benchCpu = bench();
    const s1 = await server.stats();
    const serverCpu = (s1.cpuUserMs + s1.cpuSystemMs - s0.cpuUserMs - s0.cpuSystemMs) / wallMs;
    return { delivery, append, missing: r.started - r.errors - received, errors: r.errors, serverCpu, benchCpu };
  } finally {
    sub.close();
    await client.dispose();
    gql.close();
  }
}

export const e2eLatency: Scenario = {
  id: "3",
  name: "e2e-latency",
  title: "append-to-subscriber latency (GraphQL append -> graphql-ws tail) at a steady 100 and 1,000 events/s",
  async run(ctx) {
    const db = await ctx.pg.newDatabase("e2e", 4);
    const server = await ctx.startStarcite(db.url);
    try {
      if (!(await hasGraphQL(server.url))) throw new SkipScenario("the server has no /graphql yet");
      const gql = new GraphQLClient(server.url, 4);
      const rows: ResultRow[] = [];
      for (const c of e2eCases(ctx.quick)) {
        const sessionId = `e2e-${c.rate}`;
        await gql.createSession(sessionId);
        await checkpoint(db.sql);
        const r = await measureE2e(server, sessionId, c.rate, c.durationMs, 0, ctx.quick ? 300 : 3000);
        const row: ResultRow = {
          case: `3 append -> subscriber @${c.rate}/s`,
          latency: r.delivery.summary(),
          throughput: c.rate,
          throughputUnit: "events/s offered",
          extra: {
            appendP50: r.append.summary().p50,
            appendP99: r.append.summary().p99,
            serverCpu: r.serverCpu,
            benchCpu: r.benchCpu,
            missing: r.missing,
            errors: r.errors,
          },
          compare: {
            metric: c.rate === 100 ? "append-to-reader latency @100/s" : "append-to-reader latency @1000/s",
            system: "starcite GraphQL",
          },
        };
        if (c.rate === 1000) row.targets = [target("p99 < 10 ms", row.latency!.p99 < 10)];
        rows.push(row);
      }
      gql.close();
      rows.push(...(await floors(ctx, db.sql)));
      return {
        rows,
        notes: [
          "floors: the same open loops through one bare HTTP request/response hop (a node:http server in " +
            "its own process answering with the request's body) and through one SQL append (client to Postgres), " +
            "each after its own warm-up; an append to a subscriber crosses such a hop several times (client, server, " +
            "Postgres, the server's LISTEN connection and read, the subscriber's socket)",
          "latency runs from the start of the append call until the subscriber (own WebSocket, graphql-ws client) " +
            "has the event; appendP50/P99 are the append calls' own latencies under the same load",
        ],
      };
    } finally {
      await server.close();
      await db.drop();
    }
  },
};

/**
 * What one hop costs on this machine at the rates of the cases above, measured like them (open loop, after a
 * warm-up): an HTTP round trip to a server that does nothing but answer, and a SQL append.
 */
async function floors(ctx: BenchContext, sql: Sql): Promise<ResultRow[]> {
  const run = async (c: E2eCase, op: (i: number) => Promise<unknown>) => {
    await closedLoop(1, ctx.quick ? 300 : 3000, 0, (_w, i) => op(-1 - i));
    const latency = new Recorder(Math.round((c.rate * c.durationMs) / 1000));
    const r = await openLoop(c.rate, c.durationMs, async (i) => {
      const t0 = now();
      await op(i);
      latency.add(Number(now() - t0) / 1e6);
    });
    if (r.errors > 0) throw new Error(`floor: ${r.errors} errors, first: ${String(r.firstError)}`);
    return latency.summary();
  };
  const row = (label: string, c: E2eCase, latency: LatencySummary): ResultRow => ({
    case: `3 floor: ${label} @${c.rate}/s`,
    latency,
    throughput: c.rate,
    throughputUnit: "calls/s offered",
  });
  const echo = await startChildServer("echo", {});
  const agent = keepAliveAgent(64);
  const rows: ResultRow[] = [];
  try {
    await createSessions(sql, ["e2e-floor"]);
    for (const c of e2eCases(ctx.quick)) {
      const http = await run(c, (i) =>
        request(agent, "POST", `${echo.url}/`, JSON.stringify(payloadOf(i)), { "content-type": "application/json" }),
      );
      rows.push(row("HTTP round trip to a bare node:http server", c, http));
      rows.push(row("SQL starcite.append (postgres.js)", c, await run(c, (i) => sqlAppend(sql, "e2e-floor", payloadOf(i)))));
    }
    return rows;
  } finally {
    agent.destroy();
    await echo.close();
  }
}
