/**
 * 1. Append latency: one producer, sequential, 256-byte payload.
 *    floor:   INSERT ... RETURNING + commit of the same row into a plain table (postgres.js)
 *    1b SQL:  select ... from starcite.append(...) (postgres.js)
 *    1a GQL:  mutation append over keep-alive HTTP to the server in a child process
 *    1c REST: POST /v1/sessions/:id/append over keep-alive HTTP to the same server
 *    1d GraphQL over WebSocket: the append mutation over one graphql-ws socket held open (graphql-ws client)
 * The cases run in interleaved rounds so drift (checkpoints, cache) hits all of them alike.
 */
import { GraphQLClient, GraphQLSocket, hasGraphQL } from "../lib/graphql.ts";
import { RestClient } from "../lib/rest.ts";
import { combineResults, payloadOf, sequential, type LoadResult } from "../lib/load.ts";
import { compareToFloor, type ResultRow } from "../lib/report.ts";
import { skippedRow, type Scenario } from "../lib/scenario.ts";
import { checkpoint } from "../lib/env.ts";
import { createFloorTable, createSessions, floorInserter, loadRow, sqlAppend, target } from "./common.ts";

const ROUNDS = 5;

export const appendLatency: Scenario = {
  id: "1",
  name: "append-latency",
  title: "append latency, one producer, sequential, 256-byte payload (GraphQL and REST over HTTP, SQL, bare INSERT floor)",
  async run(ctx) {
    const total = ctx.scale(10_000, 500);
    const perRound = Math.ceil(total / ROUNDS);
    const warmup = ctx.scale(500, 50);
    const db = await ctx.pg.newDatabase("latency", 4);
    const notes: string[] = [];
    const server = await ctx.startStarcite(db.url);
    try {
      const sql = db.sql;
      await createFloorTable(sql);
      await createSessions(sql, ["lat-sql", "lat-floor"]);
      const floor = floorInserter(sql);

      const gqlAvailable = await hasGraphQL(server.url);
      const gql = gqlAvailable ? new GraphQLClient(server.url, 4) : null;
      if (gql) await gql.createSession("lat-gql");
      else notes.push("GraphQL case skipped: the server has no /graphql yet");
      const rest = gql ? new RestClient(server.url, 4) : null;
      if (rest) await rest.createSession("lat-rest");
      const socket = gql ? new GraphQLSocket(gql.wsEndpoint) : null;
      if (gql) await gql.createSession("lat-ws");

      const parts: Record<"floor" | "sql" | "gql" | "rest" | "ws", LoadResult[]> = { floor: [], sql: [], gql: [], rest: [], ws: [] };
      await checkpoint(sql);
      for (let round = 0; round < ROUNDS; round++) {
        const w = round === 0 ? warmup : 0;
        parts.floor.push(await sequential(perRound, w, (i) => floor("lat-floor", payloadOf(i))));
        parts.sql.push(await sequential(perRound, w, (i) => sqlAppend(sql, "lat-sql", payloadOf(i))));
        if (gql) parts.gql.push(await sequential(perRound, w, (i) => gql.append("lat-gql", payloadOf(i))));
        if (rest) parts.rest.push(await sequential(perRound, w, (i) => rest.append("lat-rest", payloadOf(i))));
        if (socket) parts.ws.push(await sequential(perRound, w, (i) => socket.append("lat-ws", payloadOf(i))));
      }
      gql?.close();
      rest?.close();
      await socket?.close();

      const floorRow: ResultRow = loadRow("floor: INSERT ... RETURNING (postgres.js)", combineResults(parts.floor), "appends/s");
      floorRow.compare = { metric: "append latency (sequential)", system: "Postgres floor" };
      const sqlRow = loadRow("1b SQL: starcite.append (postgres.js)", combineResults(parts.sql), "appends/s");
      sqlRow.compare = { metric: "append latency (sequential)", system: "starcite SQL" };
      const rows: ResultRow[] = [floorRow, sqlRow];
      let gqlRow: ResultRow | undefined;
      let wsRow: ResultRow | undefined;
      if (gql) {
        gqlRow = loadRow("1a GraphQL: mutation append (HTTP keep-alive)", combineResults(parts.gql), "appends/s");
        gqlRow.compare = { metric: "append latency (sequential)", system: "starcite GraphQL" };
        rows.push(gqlRow);
        const restRow = loadRow("1c REST: POST /v1/sessions/:id/append (HTTP keep-alive)", combineResults(parts.rest), "appends/s");
        restRow.compare = { metric: "append latency (sequential)", system: "starcite REST" };
        rows.push(restRow);
        wsRow = loadRow("1d GraphQL over WebSocket: mutation append on an open graphql-ws socket", combineResults(parts.ws), "appends/s");
        rows.push(wsRow);
      } else {
        rows.push(skippedRow("1a GraphQL: mutation append", "no /graphql on the server yet"));
      }
      compareToFloor(rows, floorRow);
      sqlRow.targets = [target("p99 <= 1.5x floor", sqlRow.vsFloor!.p99! <= 1.5), target("p99.9 < 10 ms", sqlRow.latency!.p999 < 10)];
      if (wsRow) {
        wsRow.targets = [target("p99 <= 2x SQL append's p99", wsRow.latency!.p99 <= 2 * sqlRow.latency!.p99)];
        wsRow.extra = { ...wsRow.extra, p99VsSql: wsRow.latency!.p99 / sqlRow.latency!.p99 };
      }
      if (gqlRow) {
        gqlRow.targets = [target("p99 <= 3x floor", gqlRow.vsFloor!.p99! <= 3), target("p99.9 < 10 ms", gqlRow.latency!.p999 < 10)];
      }
      notes.push(
        `${ROUNDS} interleaved rounds of ${perRound} per case after ${warmup} warm-up calls each; ` +
          "the server runs in a child process with a 10-connection pool",
      );
      return { rows, notes };
    } finally {
      await server.close();
      await db.drop();
    }
  },
};
