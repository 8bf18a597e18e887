/**
 * 7. The Durable Streams reference server (@durable-streams/server) side by side: its file-backed store
 *    (an append-only segment file per stream, fdatasync per append, LMDB for metadata) in a child process
 *    on loopback, driven with the same shapes as starcite:
 *      sequential append latency; 32 clients over 32 streams and on one stream; append-to-SSE-reader latency
 *      at a steady 100 and 1,000 events/s. (Its replay runs in scenario 5, next to starcite's.)
 */
import fs from "node:fs";
import path from "node:path";
import { expectOk, keepAliveAgent, openSse, request } from "../lib/http.ts";
import { closedLoop, openLoop, payloadOf, sequential, waitFor } from "../lib/load.ts";
import type { ResultRow } from "../lib/report.ts";
import type { Scenario } from "../lib/scenario.ts";
import { startChildServer } from "../lib/servers.ts";
import { Recorder, now } from "../lib/stats.ts";
import { scanIndexes } from "../lib/graphql.ts";
import { e2eCases } from "./e2e-latency.ts";
import { loadRow } from "./common.ts";

const JSON_HEADERS = { "content-type": "application/json" };

export const durableStreams: Scenario = {
  id: "7",
  name: "durable-streams",
  title: "peer: Durable Streams reference server (file store) - append latency, 32-client throughput, SSE latency",
  async run(ctx) {
    const version = (await import("@durable-streams/server/package.json", { with: { type: "json" } })).default.version;
    ctx.machine.durableStreamsServer = version;
    const dataDir = path.join(ctx.pg.tmpDir, `durable-streams-${Date.now()}`);
    fs.mkdirSync(dataDir, { recursive: true });
    const logFile = path.join(dataDir, "..", `durable-streams-${Date.now()}.log`);
    const server = await startChildServer("durable-streams", { BENCH_DATA_DIR: dataDir }, logFile);
    const agent = keepAliveAgent(64);
    const streamUrl = (name: string) => `${server.url}/bench/${name}`;
    const create = (name: string) => expectOk(request(agent, "PUT", streamUrl(name), undefined, JSON_HEADERS), `create ${name}`);
    const appendJson = (name: string, body: string) =>
      expectOk(request(agent, "POST", streamUrl(name), body, JSON_HEADERS), `append ${name}`);
    const rows: ResultRow[] = [];
    const notes: string[] = [`@durable-streams/server ${version}, file-backed store in a child process, compression off`];
    try {
      // Sequential append latency.
      await create("seq");
      const seq = await sequential(ctx.scale(10_000, 500), ctx.scale(500, 50), (i) => appendJson("seq", JSON.stringify(payloadOf(i))));
      rows.push({
        ...loadRow("7 sequential append (POST)", seq, "appends/s"),
        compare: { metric: "append latency (sequential)", system: "Durable Streams" },
      });

      // 32 clients, 32 streams and one stream.
      const durationMs = ctx.quick ? 2000 : 8000;
      const warmupMs = ctx.quick ? 500 : 1000;
      for (let s = 0; s < 32; s++) await create(`tp-${s}`);
      await create("tp-hot");
      const spread = await closedLoop(32, durationMs, warmupMs, (w, i) => appendJson(`tp-${w}`, JSON.stringify(payloadOf(i))));
      rows.push({
        ...loadRow("7 32 clients, 32 streams", spread),
        compare: { metric: "throughput, 32 producers, many sessions/streams", system: "Durable Streams" },
      });
      const hot = await closedLoop(32, durationMs, warmupMs, (_w, i) => appendJson("tp-hot", JSON.stringify(payloadOf(i))));
      rows.push({
        ...loadRow("7 32 clients, one stream", hot),
        compare: { metric: "throughput, 32 producers, one session/stream", system: "Durable Streams" },
      });

      // Append to SSE reader.
      for (const c of e2eCases(ctx.quick)) {
        const name = `sse-${c.rate}`;
        await create(name);
        const total = Math.round((c.rate * c.durationMs) / 1000);
        const base = 1_000_000_000;
        const sentAt = new Array<bigint>(total);
        const delivery = new Recorder(total);
        const append = new Recorder(total);
        let received = 0;
        const found: number[] = [];
        let upToDate = false;
        const sse = openSse(`${streamUrl(name)}?offset=now&live=sse`, (event, data) => {
          if (event === "control") {
            if (data.includes('"upToDate":true')) upToDate = true;
            return;
          }
          const t = now();
          found.length = 0;
          scanIndexes(data, found);
          for (const idx of found) {
            const i = idx - base;
            if (i >= 0 && i < total && sentAt[i] !== undefined) {
              delivery.add(Number(t - sentAt[i]!) / 1e6);
              received++;
            }
          }
        });
        await sse.opened;
        await waitFor(() => upToDate, 5000, "the SSE reader to be up to date");
        for (let w = 0; w < 5; w++) await appendJson(name, JSON.stringify(payloadOf(-1 - w)));
        const r = await openLoop(c.rate, c.durationMs, async (i) => {
          const t0 = now();
          sentAt[i] = t0;
          await appendJson(name, JSON.stringify(payloadOf(base + i)));
          append.add(Number(now() - t0) / 1e6);
        });
        await waitFor(() => received >= r.started - r.errors, 15_000, "the SSE reader to receive every event").catch(() => {});
        sse.close();
        rows.push({
          case: `7 append -> SSE reader @${c.rate}/s`,
          latency: delivery.summary(),
          throughput: c.rate,
          throughputUnit: "events/s offered",
          extra: {
            appendP50: append.summary().p50,
            appendP99: append.summary().p99,
            missing: r.started - r.errors - received,
            errors: r.errors,
          },
          compare: {
            metric: c.rate === 100 ? "append-to-reader latency @100/s" : "append-to-reader latency @1000/s",
            system: "Durable Streams",
          },
        });
      }

      const slow = fs.existsSync(logFile)
        ? fs
            .readFileSync(logFile, "utf8")
            .split("\n")
            .filter((l) => l.includes("store.append slow")).length
        : 0;
      if (slow) notes.push(`the server logged ${slow} appends slower than 50 ms ("store.append slow": write, fsync or LMDB stalls)`);
      const st = await server.stats();
      notes.push(
        `server CPU over the whole scenario ${((st.cpuUserMs + st.cpuSystemMs) / 1000).toFixed(1)} s, peak RSS ${(st.peakRss / 2 ** 20).toFixed(0)} MiB`,
      );
      notes.push("its replay is measured in scenario 5, interleaved with starcite's");
      return { rows, notes };
    } finally {
      agent.destroy();
      await server.close();
    }
  },
};
