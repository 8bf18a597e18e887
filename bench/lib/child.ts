/**
 * Child-process side of the bench's servers. Started by bench/lib/servers.ts with
 * `node --import tsx bench/lib/child.ts <kind>` and an IPC channel; runs one server so that the load generator
 * does not share its event loop, and answers resource questions (CPU time, RSS, peak RSS) over IPC.
 *
 *   kind "starcite":        startServer() on BENCH_DATABASE_URL (pool size BENCH_POOL_SIZE), from the built JavaScript in
 *                           dist/ when BENCH_SERVER_BUILD=dist (as the production image runs it), else from src/
 *                           through tsx
 *   kind "durable-streams": DurableStreamTestServer with its file-backed store in BENCH_DATA_DIR
 *   kind "echo":            a bare node:http server that answers every request with its body (a floor: one
 *                           request/response hop between two processes and nothing else)
 *   kind "relay":           scenario 4's floor, bench/lib/relay-floor.ts (appends relayed to tail sockets, nothing else)
 */
import fs from "node:fs";
import inspector from "node:inspector";
import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { ChildRequest, ChildReply } from "./child-protocol.ts";

const kind = process.argv[2];

let peakRss = process.memoryUsage.rss();
const sampler = setInterval(() => {
  const rss = process.memoryUsage.rss();
  if (rss > peakRss) peakRss = rss;
}, 50);
sampler.unref();
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

let close: () => Promise<void> = async () => {};

function send(reply: ChildReply): void {
  process.send?.(reply);
}

async function start(): Promise<string> {
  if (kind === "starcite") {
    // tsx compiles with esbuild's keepNames, which wraps every function the server creates in a call that
    // redefines its `name`: a closure made per socket or per request then carries a property dictionary of its
    // own (~250 bytes; ~3.6 KB per idle subscription). The production image runs tsc's output, which does not.
    const built = process.env.BENCH_SERVER_BUILD === "dist";
    type ServerModule = typeof import("../../src/server/index.ts");
    type LoggerModule = typeof import("../../src/shared/logger.ts");
    const { startServer } = (await import(built ? "../../dist/server/index.js" : "../../src/server/index.ts")) as ServerModule;
    const { silentLogger } = (await import(built ? "../../dist/shared/logger.js" : "../../src/shared/logger.ts")) as LoggerModule;
    // Auth off: the bench measures the data path. Cast so this compiles whether or not the server's
    // options know `auth` yet.
    const options = {
      config: { port: 0, host: "127.0.0.1", poolSize: Number(process.env.BENCH_POOL_SIZE ?? 10) },
      databaseUrl: process.env.BENCH_DATABASE_URL!,
      logger: silentLogger,
      auth: { mode: "none", tokenSecret: "starcite-bench-not-a-secret-0123456789abcdef" },
      // Group-commit knobs, to compare settings: BENCH_APPEND_IN_FLIGHT / BENCH_APPEND_MAX_BATCH.
      batcher: {
        ...(process.env.BENCH_APPEND_IN_FLIGHT ? { maxInFlight: Number(process.env.BENCH_APPEND_IN_FLIGHT) } : {}),
        ...(process.env.BENCH_APPEND_MAX_BATCH ? { maxBatch: Number(process.env.BENCH_APPEND_MAX_BATCH) } : {}),
      },
      // Live hub settings as JSON, to compare them: e.g. BENCH_HUB='{"catchUpCacheBytes":0}'.
      ...(process.env.BENCH_HUB ? { hub: JSON.parse(process.env.BENCH_HUB) as Record<string, number> } : {}),
      // Background workers' pace (retention scenarios): BENCH_RETENTION_INTERVAL_MS / BENCH_RETENTION_BATCH.
      workers: {
        retention: {
          ...(process.env.BENCH_RETENTION_INTERVAL_MS ? { intervalMs: Number(process.env.BENCH_RETENTION_INTERVAL_MS) } : {}),
          ...(process.env.BENCH_RETENTION_BATCH ? { batchEvents: Number(process.env.BENCH_RETENTION_BATCH) } : {}),
        },
      },
    } as unknown as Parameters<typeof startServer>[0];
    const server = await startServer(options);
    close = () => server.close();
    return server.url;
  }
  if (kind === "durable-streams") {
    const { DurableStreamTestServer } = await import("@durable-streams/server");
    const server = new DurableStreamTestServer({
      port: 0,
      host: "127.0.0.1",
      dataDir: process.env.BENCH_DATA_DIR!,
      compression: false,
      longPollTimeout: 30_000,
    });
    const url = await server.start();
    close = () => server.stop();
    return url.replace(/\/$/, "");
  }
  if (kind === "echo") {
    const http = await import("node:http");
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        res.setHeader("content-type", "application/json");
        res.end(Buffer.concat(chunks));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    close = () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  }
  if (kind === "relay") {
    const { startRelayFloor } = await import("./relay-floor.ts");
    const relay = await startRelayFloor();
    close = relay.close;
    return relay.url;
  }
  throw new Error(`unknown server kind ${kind}`);
}

/**
 * BENCH_ALLOC_PROFILE_DIR: a sampling profile of every allocation (objects collected since included, unlike
 * --heap-prof, which keeps only what is still live), written there as a .heapprofile when the server closes.
 * Where GC time comes from: open it in Chrome DevTools' Memory tab.
 */
const allocProfile = (() => {
  const dir = process.env.BENCH_ALLOC_PROFILE_DIR;
  if (!dir) return null;
  const session = new inspector.Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result))),
    );
  const started = post("HeapProfiler.startSampling", {
    samplingInterval: 32 * 1024,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  return async () => {
    await started;
    const { profile } = (await post("HeapProfiler.stopSampling")) as { profile: unknown };
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `alloc-${kind}-${process.pid}.heapprofile`), JSON.stringify(profile));
  };
})();

process.on("message", (msg: ChildRequest) => {
  void (async () => {
    switch (msg.type) {
      case "stats": {
        const cpu = process.cpuUsage();
        const mem = process.memoryUsage();
        send({
          type: "stats",
          id: msg.id,
          cpuUserMs: cpu.user / 1000,
          cpuSystemMs: cpu.system / 1000,
          rss: mem.rss,
          heapUsed: mem.heapUsed,
          peakRss,
          maxRssKernel: process.resourceUsage().maxRSS * 1024,
          loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
          loopDelayMaxMs: loopDelay.max / 1e6,
        });
        break;
      }
      case "reset-peak":
        peakRss = process.memoryUsage.rss();
        loopDelay.reset();
        send({ type: "ok", id: msg.id });
        break;
      case "gc":
        (globalThis as { gc?: () => void }).gc?.();
        send({ type: "ok", id: msg.id });
        break;
      case "close":
        try {
          await allocProfile?.();
          await close();
        } finally {
          send({ type: "ok", id: msg.id });
          setTimeout(() => process.exit(0), 20);
        }
        break;
    }
  })();
});

process.on("disconnect", () => {
  void close().finally(() => process.exit(0));
});

start().then(
  (url) => send({ type: "ready", url, pid: process.pid }),
  (error: unknown) => {
    send({ type: "failed", error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    setTimeout(() => process.exit(1), 20);
  },
);
