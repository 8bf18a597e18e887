/**
 * 7b. The Durable Streams protocol served by starcite (docs/durable-streams.md), against starcite's own GraphQL append
 *     on the same server in the same run: one producer, sequential, 256-byte JSON payloads, interleaved rounds.
 *       GraphQL: mutation append (HTTP keep-alive)
 *       DS:      POST /v1/stream/<path> with Content-Type: application/json (one message, starcite.ds_append)
 *       DS prod: the same POST as an idempotent producer (Producer-Id / -Epoch / -Seq)
 *     Scenario 7 measures the reference Durable Streams server on the same shapes.
 */
import { GraphQLClient } from "../lib/graphql.ts";
import { expectOk, keepAliveAgent, request } from "../lib/http.ts";
import { combineResults, payloadOf, sequential, type LoadResult } from "../lib/load.ts";
import type { ResultRow } from "../lib/report.ts";
import type { Scenario } from "../lib/scenario.ts";
import { checkpoint } from "../lib/env.ts";
import { loadRow } from "./common.ts";

const ROUNDS = 5;

export const starciteStreams: Scenario = {
  id: "7b",
  name: "starcite-streams",
  title: "Durable Streams on starcite: a DS append (POST, plain and idempotent producer) against a GraphQL append, same server, sequential",
  async run(ctx) {
    const total = ctx.scale(10_000, 500);
    const perRound = Math.ceil(total / ROUNDS);
    const warmup = ctx.scale(500, 50);
    const db = await ctx.pg.newDatabase("streams", 4);
    const server = await ctx.startStarcite(db.url);
    const agent = keepAliveAgent(4);
    try {
      const gql = new GraphQLClient(server.url, 4);
      await gql.createSession("lat-gql");
      const json = { "content-type": "application/json" };
      const url = (name: string) => `${server.url}/v1/stream/bench/${name}`;
      for (const name of ["plain", "producer"]) await expectOk(request(agent, "PUT", url(name), undefined, json), `create ${name}`);
      let producerSeq = 0;
      const post = (name: string, i: number, headers: Record<string, string> = {}) =>
        expectOk(request(agent, "POST", url(name), JSON.stringify(payloadOf(i)), { ...json, ...headers }), `append ${name}`);

      const parts: Record<"gql" | "ds" | "producer", LoadResult[]> = { gql: [], ds: [], producer: [] };
      await checkpoint(db.sql);
      for (let round = 0; round < ROUNDS; round++) {
        const w = round === 0 ? warmup : 0;
        parts.gql.push(await sequential(perRound, w, (i) => gql.append("lat-gql", payloadOf(i))));
        parts.ds.push(await sequential(perRound, w, (i) => post("plain", i)));
        parts.producer.push(
          await sequential(perRound, w, (i) =>
            post("producer", i, { "producer-id": "bench", "producer-epoch": "0", "producer-seq": String(producerSeq++) }),
          ),
        );
      }
      gql.close();

      const gqlRow = loadRow("7b GraphQL: mutation append (HTTP keep-alive)", combineResults(parts.gql), "appends/s");
      const dsRow = loadRow("7b Durable Streams on starcite: POST (HTTP keep-alive)", combineResults(parts.ds), "appends/s");
      dsRow.compare = { metric: "append latency (sequential)", system: "starcite Durable Streams" };
      const prodRow = loadRow("7b Durable Streams on starcite: POST, idempotent producer", combineResults(parts.producer), "appends/s");
      const rows: ResultRow[] = [gqlRow, dsRow, prodRow];
      for (const row of [dsRow, prodRow]) {
        row.extra = {
          ...row.extra,
          p50VsGraphQL: Number((row.latency!.p50 / gqlRow.latency!.p50).toFixed(2)),
          p99VsGraphQL: Number((row.latency!.p99 / gqlRow.latency!.p99).toFixed(2)),
        };
      }
      return {
        rows,
        notes: [
          `${ROUNDS} interleaved rounds of ${perRound} per case after ${warmup} warm-up calls each; one server (child process, ` +
            "10-connection pool, auth off); DS appends are one starcite.ds_append call each (no group commit)",
        ],
      };
    } finally {
      agent.destroy();
      await server.close();
      await db.drop();
    }
  },
};
