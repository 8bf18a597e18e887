/**
 * 6b. Length independence: append latency (SQL and GraphQL) and append-to-subscriber latency on a session
 *     that already holds 1,000,000 events, against a fresh session, in the same run. The big session is
 *     seeded with INSERT ... SELECT generate_series straight into starcite.events (then sessions.last_seq).
 *     Appends alternate between the two sessions in rounds so that both see the same conditions.
 */
import { GraphQLClient, hasGraphQL } from "../lib/graphql.ts";
import { payloadOf, sequential, type LoadResult } from "../lib/load.ts";
import type { ResultRow } from "../lib/report.ts";
import { skippedRow, type Scenario } from "../lib/scenario.ts";
import { Recorder, msSince, now } from "../lib/stats.ts";
import { checkpoint } from "../lib/env.ts";
import { createSessions, loadRow, seedSession, sqlAppend, target } from "./common.ts";
import { measureE2e } from "./e2e-latency.ts";

const ROUNDS = 5;

function merged(parts: LoadResult[]): LoadResult {
  const latency = new Recorder();
  let ops = 0;
  let seconds = 0;
  for (const p of parts) {
    latency.merge(p.latency);
    ops += p.ops;
    seconds += p.seconds;
  }
  return { latency, ops, seconds, rate: ops / seconds, errors: 0 };
}

/** Marks `big` against `fresh`: ratios in vsFloor and the 1.2x targets on p50 and p99. */
function pair(fresh: ResultRow, big: ResultRow): void {
  fresh.floor = true;
  big.vsFloor = { p99: big.latency!.p99 / fresh.latency!.p99, p999: big.latency!.p999 / fresh.latency!.p999 };
  const p50 = big.latency!.p50 / fresh.latency!.p50;
  big.extra = { ...(big.extra ?? {}), p50VsFresh: p50 };
  big.targets = [target("p50 <= 1.2x fresh", p50 <= 1.2), target("p99 <= 1.2x fresh", big.vsFloor.p99! <= 1.2)];
}

export const lengthIndependence: Scenario = {
  id: "6b",
  name: "length",
  title: "length independence: latencies on a 1,000,000-event session vs a fresh one",
  async run(ctx) {
    const bigCount = ctx.scale(1_000_000, 100_000);
    const perRound = Math.ceil(ctx.scale(3000, 300) / ROUNDS);
    const db = await ctx.pg.newDatabase("length", 4);
    const server = await ctx.startStarcite(db.url);
    const notes: string[] = [];
    const label = bigCount.toLocaleString("en-US");
    try {
      const sql = db.sql;
      await createSessions(sql, ["len-big", "len-fresh"]);
      const t0 = now();
      await seedSession(sql, "len-big", bigCount);
      notes.push(
        `seeded the big session with ${label} events (generate_series) in ${(msSince(t0) / 1000).toFixed(1)} s; ` +
          "the SQL, GraphQL and subscriber runs all use the same big and fresh sessions, in that order",
      );
      await checkpoint(sql);

      const rows: ResultRow[] = [];
      const sqlParts = { big: [] as LoadResult[], fresh: [] as LoadResult[] };
      for (let r = 0; r < ROUNDS; r++) {
        const w = r === 0 ? 200 : 0;
        sqlParts.fresh.push(await sequential(perRound, w, (i) => sqlAppend(sql, "len-fresh", payloadOf(i))));
        sqlParts.big.push(await sequential(perRound, w, (i) => sqlAppend(sql, "len-big", payloadOf(i))));
      }
      const sqlFresh = loadRow("6b SQL append, fresh session", merged(sqlParts.fresh), "appends/s");
      const sqlBig = loadRow(`6b SQL append, ${label}-event session`, merged(sqlParts.big), "appends/s");
      pair(sqlFresh, sqlBig);
      rows.push(sqlFresh, sqlBig);

      if (await hasGraphQL(server.url)) {
        const gql = new GraphQLClient(server.url, 4);
        const gqlParts = { big: [] as LoadResult[], fresh: [] as LoadResult[] };
        for (let r = 0; r < ROUNDS; r++) {
          const w = r === 0 ? 200 : 0;
          gqlParts.fresh.push(await sequential(perRound, w, (i) => gql.append("len-fresh", payloadOf(i))));
          gqlParts.big.push(await sequential(perRound, w, (i) => gql.append("len-big", payloadOf(i))));
        }
        gql.close();
        const gFresh = loadRow("6b GraphQL append, fresh session", merged(gqlParts.fresh), "appends/s");
        const gBig = loadRow(`6b GraphQL append, ${label}-event session`, merged(gqlParts.big), "appends/s");
        pair(gFresh, gBig);
        rows.push(gFresh, gBig);

        // Both subscribers run at the same time (100 appends/s each) so that a disk stall hits both alike.
        const durationMs = ctx.quick ? 2000 : 8000;
        const sessions = [
          ["len-fresh", "fresh session"],
          ["len-big", `${label}-event session`],
        ] as const;
        const results = await Promise.all(
          sessions.map(async ([sessionId]) => {
            const [s] = await sql<{ last_seq: number }[]>`select last_seq from starcite.sessions where id = ${sessionId}`;
            return measureE2e(server, sessionId, 100, durationMs, s!.last_seq);
          }),
        );
        const e2e: ResultRow[] = results.map((r, k) => ({
          case: `6b append -> subscriber @100/s, ${sessions[k]![1]}`,
          latency: r.delivery.summary(),
          extra: { appendP50: r.append.summary().p50, appendP99: r.append.summary().p99, missing: r.missing },
        }));
        pair(e2e[0]!, e2e[1]!);
        rows.push(...e2e);
      } else {
        rows.push(skippedRow("6b GraphQL append and append -> subscriber", "no /graphql on the server yet"));
      }
      notes.push(
        `append rows: ${ROUNDS} alternating rounds of ${perRound} per session; the "floor" of each pair is the fresh session, ` +
          "so p99/floor reads as big / fresh; " +
          "the two subscriber runs go at the same time, each subscriber starting at its session's last seq",
      );
      return { rows, notes };
    } finally {
      await server.close();
      await db.drop();
    }
  },
};
