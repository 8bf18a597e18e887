/**
 * 5. Replay: a new reader catches up on a 100,000-event session from the start, in interleaved rounds:
 *    rows     starcite.read paging (1,000 per page, the most it allows) through postgres.js, rows parsed
 *    floor    starcite.read_text paging, 1,000 per page: what the server reads while catching up (the tail's
 *             five columns, payloads as JSON text, not parsed): raw paging
 *    json     starcite.read_json paging (10,000 events / 2 MiB pages serialised in SQL), each page
 *             JSON.parsed (informative: what the server read before it wrote frames itself)
 *    GraphQL  a graphql-ws subscriber tails from cursor 0; timed from subscribe until the first live batch. Twice:
 *             the first reader of a session (its own copy each round, so the server's catch-up page cache is cold:
 *             the case the targets judge) and the same session once more (pages from the cache: informative)
 *    Durable Streams  the reference server (file store, in a child process) replays the same 100,000 messages by
 *             SSE from offset -1 until upToDate, and by one catch-up GET
 *    Best of 3 rounds after a warm-up round; each round runs every case once, so drift hits all alike.
 */
import fs from "node:fs";
import path from "node:path";
import { hasGraphQL, tailWithGraphqlWs, wsClient } from "../lib/graphql.ts";
import { expectOk, keepAliveAgent, openSse, request } from "../lib/http.ts";
import { payloadOf, waitFor } from "../lib/load.ts";
import type { ResultRow } from "../lib/report.ts";
import { skippedRow, type Scenario } from "../lib/scenario.ts";
import { startChildServer, type ChildServer } from "../lib/servers.ts";
import { msSince, now } from "../lib/stats.ts";
import { checkpoint } from "../lib/env.ts";
import { createSessions, openWindow, seedSession, target } from "./common.ts";

/** The page the server reads while catching up (its hub default), for the raw-paging floor. */
const PAGE_EVENTS = 1000;
const JSON_PAGE_EVENTS = 10_000;
const JSON_PAGE_BYTES = 2 * 1024 * 1024;
const FIELDS = ["seq", "session_id", "type", "payload", "inserted_at"];
const KEYS = ["seq", "sessionId", "type", "payload", "insertedAt"];

const best = (xs: number[]) => Math.max(...xs);
const runsOf = (xs: number[]) => xs.map((x) => Math.round(x)).join("/");

export const replay: Scenario = {
  id: "5",
  name: "replay",
  title: "replay a 100,000-event session from cursor 0 (SQL paging, GraphQL tail, Durable Streams SSE), interleaved",
  async run(ctx) {
    const count = ctx.scale(100_000, 10_000);
    const db = await ctx.pg.newDatabase("replay", 4);
    const notes: string[] = [];
    const server = await ctx.startStarcite(db.url);
    let peer: ChildServer | undefined;
    const agent = keepAliveAgent(4);
    try {
      const sql = db.sql;
      const rounds = 3;
      // A session per round for the first-reader tail (the warm-up round included): each is tailed first as its
      // first reader, then once more from the page cache.
      const coldIds = Array.from({ length: rounds + 1 }, (_, r) => `replay-cold-${r}`);
      await createSessions(sql, ["replay", ...coldIds]);
      const seedStart = now();
      await seedSession(sql, "replay", count);
      notes.push(`seeded ${count} events with INSERT ... SELECT generate_series in ${msSince(seedStart).toFixed(0)} ms`);
      for (const id of coldIds) await seedSession(sql, id, count);

      // The peer: the same number of messages, 100 per POST (one frame each in its segment file).
      const version = (await import("@durable-streams/server/package.json", { with: { type: "json" } })).default.version;
      ctx.machine.durableStreamsServer = version;
      const dataDir = path.join(ctx.pg.tmpDir, `durable-streams-replay-${Date.now()}`);
      fs.mkdirSync(dataDir, { recursive: true });
      peer = await startChildServer(
        "durable-streams",
        { BENCH_DATA_DIR: dataDir },
        path.join(dataDir, "..", `durable-streams-replay-${Date.now()}.log`),
      );
      const streamUrl = `${peer.url}/bench/replay`;
      const json = { "content-type": "application/json" };
      await expectOk(request(agent, "PUT", streamUrl, undefined, json), "create the replay stream");
      const perPost = 100;
      const peerSeedStart = now();
      for (let i = 0; i < count; i += perPost) {
        const batch = Array.from({ length: Math.min(perPost, count - i) }, (_, k) => payloadOf(i + k));
        await expectOk(request(agent, "POST", streamUrl, JSON.stringify(batch), json), "seed the replay stream");
      }
      notes.push(
        `Durable Streams: ${count} messages appended ${perPost} per POST in ${msSince(peerSeedStart).toFixed(0)} ms, ` +
          "so its store reads one frame per 100 messages and each SSE data event carries 100 of them",
      );
      await checkpoint(sql);

      const gqlAvailable = await hasGraphQL(server.url);
      const rates = {
        rows: [] as number[],
        text: [] as number[],
        json: [] as number[],
        tail: [] as number[],
        warm: [] as number[],
        sse: [] as number[],
        get: [] as number[],
      };
      let firstBatchMs = 0;
      /** Cores the server, the bench (the tail's client) and Postgres used while each measured tail ran. */
      type Cores = { serverCpu: number; benchCpu: number; dbCpu: number };
      const tailCpu: Cores[] = [];
      const warmCpu: Cores[] = [];
      /** The most each process used over the measured rounds. */
      const peakCores = (runs: Cores[]): Cores => ({
        serverCpu: Math.max(...runs.map((c) => c.serverCpu)),
        benchCpu: Math.max(...runs.map((c) => c.benchCpu)),
        dbCpu: Math.max(...runs.map((c) => c.dbCpu)),
      });
      let batches = 0;
      /** One graphql-ws reader from cursor 0 until its first live batch. */
      const tailOnce = async (sessionId: string) => {
        const client = wsClient(server.url.replace(/^http/, "ws") + "/graphql");
        let firstAt = 0;
        let nb = 0;
        let got = 0;
        const close = await openWindow(server, ctx.pg);
        const t0 = now();
        const sub = tailWithGraphqlWs(client, sessionId, 0, (b) => {
          nb++;
          if (got === 0 && b.events.length) firstAt = msSince(t0);
          got += b.events.length;
        });
        await sub.live;
        const ms = msSince(t0);
        const w = await close();
        sub.close();
        await client.dispose();
        if (got !== count) throw new Error(`tail of ${sessionId} delivered ${got} events before live, expected ${count}`);
        return {
          ms,
          firstAt,
          batches: nb,
          cores: { serverCpu: w.serverCores, benchCpu: w.benchCores, dbCpu: w.dbCores ?? NaN },
        };
      };
      for (let r = 0; r <= rounds; r++) {
        const keep = (list: number[], ms: number) => r > 0 && list.push(count / (ms / 1000));

        let t0 = now();
        let after = 0;
        let seen = 0;
        for (;;) {
          const page = await sql<{ seq: number }[]>`select * from starcite.read(${"replay"}, ${after}, 1000)`;
          if (page.length === 0) break;
          seen += page.length;
          after = page[page.length - 1]!.seq;
        }
        if (seen !== count) throw new Error(`read ${seen} events, expected ${count}`);
        keep(rates.rows, msSince(t0));

        t0 = now();
        after = 0;
        seen = 0;
        for (;;) {
          const page = await sql<{ seq: number }[]>`
            select seq, session_id, type, payload, inserted_at from starcite.read_text(${"replay"}, ${after}, ${PAGE_EVENTS})`;
          if (page.length === 0) break;
          seen += page.length;
          after = page[page.length - 1]!.seq;
        }
        if (seen !== count) throw new Error(`read_text gave ${seen} events, expected ${count}`);
        keep(rates.text, msSince(t0));

        t0 = now();
        after = 0;
        seen = 0;
        for (;;) {
          const [page] = await sql<{ events: string; n: number; last_seq: number | null }[]>`
            select * from starcite.read_json(${"replay"}, ${after}, ${JSON_PAGE_EVENTS}, ${JSON_PAGE_BYTES}, ${FIELDS}::text[], ${KEYS}::text[])`;
          if (!page || page.n === 0) break;
          seen += (JSON.parse(page.events) as unknown[]).length;
          after = page.last_seq!;
        }
        if (seen !== count) throw new Error(`read_json gave ${seen} events, expected ${count}`);
        keep(rates.json, msSince(t0));

        if (gqlAvailable) {
          const cold = await tailOnce(coldIds[r]!);
          keep(rates.tail, cold.ms);
          if (r > 0) {
            firstBatchMs = cold.firstAt;
            batches = cold.batches;
            tailCpu.push(cold.cores);
          }
          // The same session again at once: its full pages are all in the page cache now. (Reading another session
          // here measured mostly the database: the 64 MiB cache holds about one and a half 100k-event sessions, so
          // the first reader's session pushed most of an older one out.)
          const warm = await tailOnce(coldIds[r]!);
          keep(rates.warm, warm.ms);
          if (r > 0) warmCpu.push(warm.cores);
        }

        t0 = now();
        seen = 0;
        let upToDate = false;
        const sse = openSse(`${streamUrl}?offset=-1&live=sse`, (event, data) => {
          if (event === "data") seen += (JSON.parse(data) as unknown[]).length;
          else if (event === "control" && data.includes('"upToDate":true')) upToDate = true;
        });
        await sse.opened;
        await waitFor(() => upToDate, 60_000, "SSE replay to catch up", 1);
        const sseMs = msSince(t0);
        sse.close();
        if (seen !== count) throw new Error(`SSE replay delivered ${seen} messages, expected ${count}`);
        keep(rates.sse, sseMs);

        t0 = now();
        const res = await expectOk(request(agent, "GET", `${streamUrl}?offset=-1`), "replay GET");
        const n = (JSON.parse(res.body) as unknown[]).length;
        if (n !== count) throw new Error(`replay GET returned ${n} messages, expected ${count}`);
        keep(rates.get, msSince(t0));
      }

      const rows: ResultRow[] = [];
      const rowsRow: ResultRow = {
        case: "5 rows: starcite.read paging, 1,000/page (postgres.js)",
        throughput: best(rates.rows),
        throughputUnit: "events/s",
        extra: { runs: runsOf(rates.rows) },
      };
      const floorRow: ResultRow = {
        case: "floor: starcite.read_text paging, 1,000/page, payloads as JSON text (postgres.js)",
        throughput: best(rates.text),
        throughputUnit: "events/s",
        extra: { runs: runsOf(rates.text) },
        floor: true,
        compare: { metric: "replay 100k from 0", system: "starcite SQL" },
      };
      const jsonRow: ResultRow = {
        case: "5 json: starcite.read_json paging, 10,000/2 MiB pages serialised in SQL, JSON.parse per page",
        throughput: best(rates.json),
        throughputUnit: "events/s",
        extra: { runs: runsOf(rates.json) },
      };
      const sseRow: ResultRow = {
        case: "5 Durable Streams: SSE from offset=-1 until upToDate",
        throughput: best(rates.sse),
        throughputUnit: "msgs/s",
        extra: { runs: runsOf(rates.sse) },
        compare: { metric: "replay 100k from 0", system: "Durable Streams" },
      };
      const getRow: ResultRow = {
        case: "5 Durable Streams: GET offset=-1 (catch-up, one response)",
        throughput: best(rates.get),
        throughputUnit: "msgs/s",
        extra: { runs: runsOf(rates.get) },
      };
      rows.push(rowsRow, floorRow, jsonRow);
      floorRow.targets = [target("raw paging faster than row paging (starcite.read)", floorRow.throughput! > rowsRow.throughput!)];
      if (gqlAvailable) {
        const tail = best(rates.tail);
        const row: ResultRow = {
          case: "5 GraphQL: tail from cursor 0 until live (graphql-ws), first reader of the session",
          throughput: tail,
          throughputUnit: "events/s",
          vsFloor: { throughput: tail / floorRow.throughput! },
          extra: {
            runs: runsOf(rates.tail),
            batches,
            firstBatchMs,
            vsDurableStreamsSse: tail / sseRow.throughput!,
            ...peakCores(tailCpu),
          },
          compare: { metric: "replay 100k from 0", system: "starcite GraphQL" },
          targets: [
            target(">= 1.2x Durable Streams SSE", tail >= 1.2 * sseRow.throughput!),
            target(">= 0.8x raw paging", tail >= 0.8 * floorRow.throughput!),
            target(">= 100,000 events/s", tail >= 100_000),
          ],
        };
        const warm = best(rates.warm);
        rows.push(row, {
          case: "5 GraphQL: the same session again at once (catch-up pages from the server's cache)",
          throughput: warm,
          throughputUnit: "events/s",
          vsFloor: { throughput: warm / floorRow.throughput! },
          extra: {
            runs: runsOf(rates.warm),
            vsDurableStreamsSse: warm / sseRow.throughput!,
            ...peakCores(warmCpu),
          },
        });
      } else {
        rows.push(skippedRow("5 GraphQL: tail from cursor 0", "no /graphql on the server yet"));
      }
      rows.push(sseRow, getRow);
      notes.push(
        `best of ${rounds} interleaved rounds after a warm-up round; events are ~256-byte JSON payloads; ` +
          "the GraphQL tail selects seq sessionId type payload insertedAt, the floor reads the same columns",
      );
      return { rows, notes };
    } finally {
      agent.destroy();
      await peer?.close();
      await server.close();
      await db.drop();
    }
  },
};
