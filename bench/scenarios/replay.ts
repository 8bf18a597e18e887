/**
 * 5. Replay: a new reader catches up on a 100,000-event session from the start.
 *    floor: starcite.read paging (1,000 per page) through postgres.js, rows parsed by the client.
 *    GraphQL: a graphql-ws subscriber tails from cursor 0; timed from subscribe until the first live batch.
 */
import { hasGraphQL, tailWithGraphqlWs, wsClient } from "../lib/graphql.ts";
import { compareToFloor, type ResultRow } from "../lib/report.ts";
import { skippedRow, type Scenario } from "../lib/scenario.ts";
import { msSince, now } from "../lib/stats.ts";
import { checkpoint } from "../lib/env.ts";
import { createSessions, seedSession, target } from "./common.ts";

export const replay: Scenario = {
  id: "5",
  name: "replay",
  title: "replay a 100,000-event session from cursor 0 (SQL read paging floor, GraphQL tail)",
  async run(ctx) {
    const count = ctx.scale(100_000, 10_000);
    const db = await ctx.pg.newDatabase("replay", 4);
    const notes: string[] = [];
    const server = await ctx.startStarcite(db.url);
    try {
      const sql = db.sql;
      await createSessions(sql, ["replay"]);
      const seedStart = now();
      await seedSession(sql, "replay", count);
      notes.push(`seeded ${count} events with INSERT ... SELECT generate_series in ${msSince(seedStart).toFixed(0)} ms`);
      await checkpoint(sql);

      const runs = 3;
      const rows: ResultRow[] = [];
      // Read once to warm the cache, then take the best of `runs` (replay of a hot session is the common case).
      const sqlRates: number[] = [];
      for (let r = 0; r <= runs; r++) {
        const t0 = now();
        let after = 0;
        let seen = 0;
        for (;;) {
          const page = await sql<{ seq: number }[]>`select * from starcite.read(${"replay"}, ${after}, 1000)`;
          if (page.length === 0) break;
          seen += page.length;
          after = page[page.length - 1]!.seq;
        }
        if (seen !== count) throw new Error(`read ${seen} events, expected ${count}`);
        if (r > 0) sqlRates.push(count / (msSince(t0) / 1000));
      }
      const floorRow: ResultRow = {
        case: "floor: starcite.read paging, 1,000/page (postgres.js)",
        throughput: Math.max(...sqlRates),
        throughputUnit: "events/s",
        extra: { runs: sqlRates.map((x) => Math.round(x)).join("/") },
        compare: { metric: "replay 100k from 0", system: "starcite SQL" },
      };
      rows.push(floorRow);

      if (await hasGraphQL(server.url)) {
        const rates: number[] = [];
        let firstBatchMs = 0;
        let batches = 0;
        for (let r = 0; r <= runs; r++) {
          const client = wsClient(server.url.replace(/^http/, "ws") + "/graphql");
          let seen = 0;
          let firstAt = 0;
          let nb = 0;
          const t0 = now();
          const sub = tailWithGraphqlWs(client, "replay", 0, (b) => {
            nb++;
            if (seen === 0 && b.events.length) firstAt = msSince(t0);
            seen += b.events.length;
          });
          await sub.live;
          const ms = msSince(t0);
          sub.close();
          await client.dispose();
          if (seen !== count) throw new Error(`tail delivered ${seen} events before live, expected ${count}`);
          if (r > 0) {
            rates.push(count / (ms / 1000));
            firstBatchMs = firstAt;
            batches = nb;
          }
        }
        const row: ResultRow = {
          case: "5 GraphQL: tail from cursor 0 until live (graphql-ws)",
          throughput: Math.max(...rates),
          throughputUnit: "events/s",
          extra: { runs: rates.map((x) => Math.round(x)).join("/"), batches, firstBatchMs },
          compare: { metric: "replay 100k from 0", system: "starcite GraphQL" },
        };
        rows.push(row);
        compareToFloor(rows, floorRow);
        row.targets = [target(">= 100,000 events/s", row.throughput! >= 100_000)];
      } else {
        rows.push(skippedRow("5 GraphQL: tail from cursor 0", "no /graphql on the server yet"));
      }
      notes.push(`best of ${runs} runs after one warm-up read; events are ~256-byte JSON payloads`);
      return { rows, notes };
    } finally {
      await server.close();
      await db.drop();
    }
  },
};
