/**
 * `npm start` end to end, as a process manager runs it: embedded Postgres in STARCITE_DATA_DIR, dbmate, server
 * ready; SIGTERM (then SIGINT) sent to the npm process alone stops the server and Postgres with nothing left
 * behind; a second start on the same data dir finds the data written during the first.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, expect, test } from "vitest";
import { createPool } from "../src/db/client.ts";
import { append, read } from "../src/db/events.ts";
import { createSession, getSession } from "../src/db/sessions.ts";
import { freePort } from "./helpers/net.ts";
import { processAlive, ROOT } from "./helpers/node.ts";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "starcite-start-"));
// As root, Postgres runs as the "postgres" user, which must be able to enter the data dir's parents.
fs.chmodSync(tmp, 0o755);
const dataDir = path.join(tmp, "pg");
// The first start stores its development API key where the CLI looks; keep it out of the real ~/.starcite.
const configDir = path.join(tmp, "config");
const running = new Set<ChildProcess>();

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(pgPort: number, httpPort: number): Started {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    STARCITE_DATA_DIR: dataDir,
    STARCITE_CONFIG_DIR: configDir,
    STARCITE_PG_PORT: String(pgPort),
    PORT: String(httpPort),
    HOST: "127.0.0.1",
    LOG_LEVEL: "info",
  };
  delete env.DATABASE_URL;
  delete env.STARCITE_AUTH;
  delete env.NODE_ENV;
  const child = spawn("npm", ["start"], {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  let out = "";
  child.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on("exit", (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  return { child, output: () => out, exited };
}

/** Polls /health/ready until it answers 200; fails early if the process exits, or after the deadline. */
async function waitReady(app: Started, httpPort: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void app.exited.then(() => (exited = true));
  for (;;) {
    if (exited) throw new Error(`starcite exited before it was ready:\n${app.output()}`);
    try {
      const res = await fetch(`http://127.0.0.1:${httpPort}/health/ready`, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) {
        expect(await res.json()).toMatchObject({ status: "ok" });
        return;
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`starcite was not ready within ${timeoutMs} ms:\n${app.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The server's own pid, from its "listening" log line (npm start runs it as a child of npm). */
function serverPid(app: Started): number {
  const line = app
    .output()
    .split("\n")
    .find((l) => l.includes('"msg":"listening"'));
  const pid = line ? (JSON.parse(line) as { pid?: unknown }).pid : undefined;
  expect(pid, app.output()).toBeTypeOf("number");
  return pid as number;
}

/** True when nothing listens on the port any more. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once("error", () => resolve(false));
    probe.listen({ host: "127.0.0.1", port, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

/** Signals the npm process only (not its group), as `kill -TERM <pid>` or a container runtime does. */
async function stop(app: Started, signal: NodeJS.Signals, ports: number[]): Promise<void> {
  const pid = serverPid(app);
  const started = Date.now();
  app.child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([
    app.exited,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`starcite did not exit within 30 s of SIGTERM:\n${app.output()}`)), 30_000);
    }),
  ]).finally(() => clearTimeout(timer));
  expect(result, app.output()).toEqual({ code: 0, signal: null });
  // npm waits for its child, so by now the server has exited, and with it the embedded Postgres.
  expect(processAlive(pid), `server pid ${pid} still running`).toBe(false);
  expect(postmasterPid()).toBeNull();
  for (const port of ports) expect(await portFree(port), `port ${port} still bound`).toBe(true);
  expect(Date.now() - started).toBeLessThan(10_000);
}

/** The embedded Postgres is gone once postmaster.pid is (Postgres removes it on a clean shutdown). */
function postmasterPid(): number | null {
  const file = path.join(dataDir, "postmaster.pid");
  if (!fs.existsSync(file)) return null;
  const pid = Number(fs.readFileSync(file, "utf8").split("\n")[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

afterAll(async () => {
  // Only if a run went wrong: end what this file started, by pid.
  for (const child of running) child.kill("SIGKILL");
  const pid = postmasterPid();
  if (pid) {
    try {
      process.kill(pid, "SIGINT");
    } catch {
      // already gone
    }
  }
  fs.rmSync(tmp, { recursive: true, force: true });
});

test("npm start twice on the same data dir: ready, SIGTERM/SIGINT to npm leave nothing running, data persists", async () => {
  const pgPort = await freePort();
  const url = `postgres://postgres:starcite-local@127.0.0.1:${pgPort}/starcite`;

  // First start: initialises the data dir, creates the database, migrates.
  let httpPort = await freePort();
  const first = start(pgPort, httpPort);
  await waitReady(first, httpPort);
  expect(fs.existsSync(path.join(dataDir, "PG_VERSION"))).toBe(true);

  let sql = createPool(url, { max: 1 });
  try {
    await createSession(sql, { id: "survivor", title: "written during the first run" });
    await append(sql, "survivor", { type: "msg", payload: { n: 1 }, producerId: "p", producerSeq: 1 });
    await append(sql, "survivor", { type: "msg", payload: { n: 2 }, producerId: "p", producerSeq: 2 });
  } finally {
    await sql.end({ timeout: 5 });
  }

  // The first start created a development key, printed it once, and saved it for the CLI.
  const configFile = path.join(configDir, "config.json");
  const deadline = Date.now() + 30_000;
  while (!fs.existsSync(configFile) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const saved = JSON.parse(fs.readFileSync(configFile, "utf8")) as { endpoint: string; apiKey: string };
  expect(saved.endpoint).toBe(`http://localhost:${httpPort}`);
  expect(saved.apiKey).toMatch(/^sk_/);
  expect(first.output()).toContain(`Development API key (shown once): ${saved.apiKey}`);
  expect(await viewerKind(httpPort, saved.apiKey)).toBe("service");
  expect(await viewerKind(httpPort, undefined)).toBe("unauthorized");

  await stop(first, "SIGTERM", [httpPort, pgPort]);

  // Second start on the same data dir (and a different HTTP port, to be sure it is a new server).
  httpPort = await freePort();
  const second = start(pgPort, httpPort);
  await waitReady(second, httpPort);

  sql = createPool(url, { max: 1 });
  try {
    expect(await getSession(sql, "survivor")).toMatchObject({ title: "written during the first run", lastSeq: 2 });
    expect((await read(sql, "survivor")).map((e) => e.payload)).toEqual([{ n: 1 }, { n: 2 }]);
    // Dedup state came back with the data.
    expect(await append(sql, "survivor", { type: "msg", payload: { n: 2 }, producerId: "p", producerSeq: 2 })).toEqual({
      seq: 2,
      lastSeq: 2,
      deduped: true,
    });
    // Migrations were not re-applied or duplicated.
    const migrations = await sql<{ version: string }[]>`select version from schema_migrations`;
    expect(new Set(migrations.map((m) => m.version)).size).toBe(migrations.length);
  } finally {
    await sql.end({ timeout: 5 });
  }

  // No second key: the saved one still works and nothing new was printed.
  expect(await viewerKind(httpPort, saved.apiKey)).toBe("service");
  expect(second.output()).not.toContain("Development API key");
  expect(JSON.parse(fs.readFileSync(configFile, "utf8"))).toEqual(saved);

  await stop(second, "SIGINT", [httpPort, pgPort]);
}, 150_000);

async function viewerKind(httpPort: number, apiKey: string | undefined): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
    body: JSON.stringify({ query: "{ viewer { kind } }" }),
  });
  const body = (await res.json()) as { data?: { viewer: { kind: string } }; errors?: { extensions?: { code?: string } }[] };
  return body.data?.viewer.kind ?? String(body.errors?.[0]?.extensions?.code);
}
