/**
 * 8. The do-it-yourself alternative: Redis Streams through ioredis, redis-server started here on loopback
 *    with its own data dir, AOF on and appendfsync always (every write fsynced before the reply).
 *      XADD sequential latency; 32 clients (32 connections) over 1,000 keys and on one key;
 *      XADD to a reader blocked in XREAD BLOCK at a steady 100 and 1,000 events/s; XRANGE replay of 100k.
 *    Skipped with a message when redis-server is not installed.
 */
import path from "node:path";
import { Redis } from "ioredis";
import { closedLoop, openLoop, payloadText, sequential, waitFor } from "../lib/load.ts";
import type { ResultRow } from "../lib/report.ts";
import { SkipScenario, type Scenario } from "../lib/scenario.ts";
import { startRedis } from "../lib/servers.ts";
import { Recorder, msSince, now } from "../lib/stats.ts";
import { e2eCases } from "./e2e-latency.ts";
import { loadRow } from "./common.ts";

type Entry = [id: string, fields: string[]];

export const redisStreams: Scenario = {
  id: "8",
  name: "redis",
  title: "do-it-yourself: Redis Streams (AOF, appendfsync always) - XADD latency, 32 clients, XREAD BLOCK latency, XRANGE replay",
  async run(ctx) {
    const redis = await startRedis(path.join(ctx.pg.tmpDir, `redis-${Date.now()}`));
    if (!redis) {
      throw new SkipScenario(
        "redis-server is not installed (on Debian/Ubuntu: apt-get install redis-server); " +
          "the Redis Streams comparison needs a local redis-server binary on PATH",
      );
    }
    ctx.machine.redis = redis.version;
    const clients: Redis[] = [];
    const connect = async () => {
      const c = new Redis({ port: redis.port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 1, enableAutoPipelining: false });
      await c.connect();
      clients.push(c);
      return c;
    };
    const rows: ResultRow[] = [];
    const notes: string[] = [`redis-server ${redis.version}, appendonly yes, appendfsync always, no RDB snapshots, ioredis client`];
    try {
      const main = await connect();
      const fsync = await main.config("GET", "appendfsync");
      notes.push(`appendfsync = ${String((fsync as string[])[1])}`);

      // Sequential XADD.
      const seq = await sequential(ctx.scale(10_000, 500), ctx.scale(500, 50), (i) => main.xadd("seq", "*", "d", payloadText(i)));
      rows.push({
        ...loadRow("8 XADD sequential", seq, "appends/s"),
        compare: { metric: "append latency (sequential)", system: "Redis Streams" },
      });

      // 32 clients on 32 connections.
      const durationMs = ctx.quick ? 2000 : 8000;
      const warmupMs = ctx.quick ? 500 : 1000;
      const producers = await Promise.all(Array.from({ length: 32 }, () => connect()));
      const spread = await closedLoop(32, durationMs, warmupMs, (w, i) =>
        producers[w]!.xadd(`tp-${(w * 31 + i) % 1000}`, "*", "d", payloadText(i)),
      );
      rows.push({
        ...loadRow("8 XADD, 32 clients, 1,000 keys", spread),
        compare: { metric: "throughput, 32 producers, many sessions/streams", system: "Redis Streams" },
      });
      const hot = await closedLoop(32, durationMs, warmupMs, (w, i) => producers[w]!.xadd("tp-hot", "*", "d", payloadText(i)));
      rows.push({
        ...loadRow("8 XADD, 32 clients, one key", hot),
        compare: { metric: "throughput, 32 producers, one session/stream", system: "Redis Streams" },
      });

      // XADD to a reader in XREAD BLOCK on its own connection.
      const reader = await connect();
      for (const c of e2eCases(ctx.quick)) {
        const key = `e2e-${c.rate}`;
        const total = Math.round((c.rate * c.durationMs) / 1000);
        const sentAt = new Array<bigint>(total);
        const delivery = new Recorder(total);
        const append = new Recorder(total);
        let received = 0;
        let stop = false;
        const readLoop = (async () => {
          let last = "$";
          while (!stop) {
            const res = (await reader.xread("COUNT", 1000, "BLOCK", 200, "STREAMS", key, last)) as [string, Entry[]][] | null;
            if (!res) continue;
            const t = now();
            for (const [, entries] of res) {
              for (const [id, fields] of entries) {
                last = id;
                const i = Number(/"i":(-?\d+)/.exec(fields[1] ?? "")?.[1] ?? -1);
                if (i >= 0 && i < total && sentAt[i] !== undefined) {
                  delivery.add(Number(t - sentAt[i]!) / 1e6);
                  received++;
                }
              }
            }
          }
        })();
        // Let the reader block first ("$" means entries added after the XREAD starts).
        await new Promise((r) => setTimeout(r, 50));
        const r = await openLoop(c.rate, c.durationMs, async (i) => {
          const t0 = now();
          sentAt[i] = t0;
          await main.xadd(key, "*", "d", payloadText(i));
          append.add(Number(now() - t0) / 1e6);
        });
        await waitFor(() => received >= r.started - r.errors, 10_000, "the XREAD reader to receive every entry").catch(() => {});
        stop = true;
        await readLoop;
        rows.push({
          case: `8 XADD -> XREAD BLOCK reader @${c.rate}/s`,
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
            system: "Redis Streams",
          },
        });
      }

      // XRANGE replay of 100k entries, seeded with pipelined XADDs.
      const count = ctx.scale(100_000, 10_000);
      const seedStart = now();
      for (let i = 0; i < count; i += 1000) {
        const p = main.pipeline();
        for (let k = i; k < Math.min(count, i + 1000); k++) p.xadd("replay", "*", "d", payloadText(k));
        await p.exec();
      }
      notes.push(`replay key seeded with ${count} entries (pipelined XADD) in ${msSince(seedStart).toFixed(0)} ms`);
      const rates: number[] = [];
      for (let r = 0; r <= 3; r++) {
        const t0 = now();
        let seen = 0;
        let start = "-";
        for (;;) {
          const page = (await main.xrange("replay", start, "+", "COUNT", 1000)) as Entry[];
          if (page.length === 0) break;
          seen += page.length;
          start = `(${page[page.length - 1]![0]}`;
          if (page.length < 1000) break;
        }
        if (seen !== count) throw new Error(`XRANGE returned ${seen} entries, expected ${count}`);
        if (r > 0) rates.push(count / (msSince(t0) / 1000));
      }
      rows.push({
        case: "8 replay: XRANGE paging, 1,000/page",
        throughput: Math.max(...rates),
        throughputUnit: "entries/s",
        extra: { runs: rates.map((x) => Math.round(x)).join("/") },
        compare: { metric: "replay 100k from 0", system: "Redis Streams" },
      });
      notes.push(
        "Redis does less per append than starcite: no producer dedup or idempotency keys, no gapless per-session seq " +
          "(ids are time-based), no per-session auth or tenancy, every stream held in RAM; its AOF shares one fsync " +
          "among all writes that arrived in the same event-loop turn, which is where its 32-client throughput comes from",
      );
      return { rows, notes };
    } finally {
      for (const c of clients) c.disconnect();
      await redis.close();
    }
  },
};
