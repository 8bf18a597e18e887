/** The servers the bench runs: starcite and Durable Streams in child processes, and redis-server. */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ChildReply, ChildRequest, ChildStats } from "./child-protocol.ts";

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), "child.ts");

export interface ChildServer {
  url: string;
  pid: number;
  stats(): Promise<ChildStats>;
  resetPeak(): Promise<void>;
  close(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** Starts bench/lib/child.ts for `kind` and waits for its URL. */
export async function startChildServer(
  kind: "starcite" | "durable-streams" | "echo" | "relay",
  env: Record<string, string>,
  logFile?: string,
): Promise<ChildServer> {
  // The server's own output goes to logFile when given (the Durable Streams server logs every slow append).
  const out = logFile ? fs.openSync(logFile, "a") : "inherit";
  // BENCH_SERVER_NODE_ARGS adds Node flags to the server processes, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const extra = (process.env.BENCH_SERVER_NODE_ARGS ?? "").split(/\s+/).filter(Boolean);
  const child: ChildProcess = spawn(
    process.execPath,
    ["--expose-gc", ...extra, "--conditions=@starcite/source", "--import", "tsx", CHILD, kind],
    {
      stdio: ["ignore", out, out, "ipc"],
      // NODE_ENV=production, as the production image runs the server (graphql-js, for one, drops its development
      // checks: ~8 % less server CPU per GraphQL append in scenario 2); env can override it.
      env: { ...process.env, NODE_ENV: "production", ...env },
    },
  );
  if (typeof out === "number") fs.closeSync(out);
  let nextId = 1;
  const waiting = new Map<number, (reply: ChildReply) => void>();
  const ready = new Promise<{ url: string; pid: number }>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`${kind} server exited with code ${code} before it was ready`)));
    child.on("message", (reply: ChildReply) => {
      if (reply.type === "ready") resolve(reply);
      else if (reply.type === "failed") reject(new Error(`${kind} server failed to start: ${reply.error}`));
      else (waiting.get(reply.id)?.(reply), waiting.delete(reply.id));
    });
  });
  const ask = (type: ChildRequest["type"]): Promise<ChildReply> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, resolve);
      child.send({ type, id } satisfies ChildRequest, (error) => error && reject(error));
    });
  const { url } = await ready;
  let closed = false;
  return {
    url,
    pid: child.pid!,
    async stats() {
      const reply = await ask("stats");
      if (reply.type !== "stats") throw new Error("unexpected reply");
      return reply;
    },
    async resetPeak() {
      await ask("gc");
      await ask("reset-peak");
    },
    async close() {
      if (closed) return;
      closed = true;
      const exited = new Promise<void>((r) => (child.exitCode !== null ? r() : child.once("exit", () => r())));
      await Promise.race([ask("close"), new Promise((r) => setTimeout(r, 8000))]);
      const t = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

export interface RedisServer {
  port: number;
  version: string;
  close(): Promise<void>;
}

/** The redis-server binary on PATH, or null. */
export function findRedis(): string | null {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const candidate = path.join(dir, "redis-server");
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return null;
}

/** redis-server on 127.0.0.1 with AOF and appendfsync always, data in `dataDir`; null when not installed. */
export async function startRedis(dataDir: string): Promise<RedisServer | null> {
  const bin = findRedis();
  if (!bin) return null;
  const version = /v=(\S+)/.exec(execFileSync(bin, ["--version"]).toString())?.[1] ?? "unknown";
  fs.mkdirSync(dataDir, { recursive: true });
  const port = await freePort();
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dataDir,
    "--appendonly",
    "yes",
    "--appendfsync",
    "always",
    "--save",
    "",
    "--daemonize",
    "no",
    "--protected-mode",
    "yes",
    "--loglevel",
    "warning",
    "--logfile",
    path.join(dataDir, "redis.log"),
  ];
  const child = spawn(bin, args, { stdio: ["ignore", "ignore", "inherit"] });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  // Wait for the port to accept connections.
  const start = Date.now();
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, "127.0.0.1");
      s.once("connect", () => (s.destroy(), resolve(true)));
      s.once("error", () => resolve(false));
    });
    if (ok) break;
    if (child.exitCode !== null || Date.now() - start > 10_000) {
      child.kill("SIGKILL");
      throw new Error(`redis-server did not start on port ${port}; see ${path.join(dataDir, "redis.log")}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    version,
    async close() {
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}
