import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import WebSocket from "ws";
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from "../../src/db/embedded.ts";
import { migrate } from "../../src/db/migrate.ts";
import { processAlive, ROOT, SOURCE_NODE_ARGS } from "../helpers/node.ts";
import { freePort } from "../helpers/net.ts";

/** A small seeded PRNG (mulberry32): a failing run prints its seed, and the same seed replays the same schedule. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls a real condition until it holds (or throws after `timeoutMs`). */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(25);
  }
}

// ---- Postgres: a cluster of the suite's own, restartable --------------------------------------------------

/** `ps` lines of a process and its children (a diagnostic for a postmaster that does not stop). */
function processesUnder(pid: number): string {
  try {
    return execFileSync("ps", ["-o", "pid,ppid,stat,etime,args", "--pid", String(pid), "--ppid", String(pid)], { encoding: "utf8" });
  } catch (error) {
    return `(ps failed: ${String(error)})`;
  }
}

/** TCP connections to a port with the process at each end (`ss`): who holds a backend that never started. */
function connectionsTo(port: number): string {
  try {
    return execFileSync("ss", ["-tnpa", `( sport = :${port} or dport = :${port} )`], { encoding: "utf8" });
  } catch (error) {
    return `(ss failed: ${String(error)})`;
  }
}

/**
 * The suite's cluster settings. A fast shutdown waits for every child of the postmaster, and a child whose client
 * opened a TCP connection during the shutdown but never sent a startup packet lives until `authentication_timeout`
 * (60 s by default): CI saw a fast shutdown held ~30 s by one such child. 5 s bounds that wait; every client here
 * sends its startup packet within milliseconds of connecting.
 */
const CLUSTER_SETTINGS = { max_connections: 200, authentication_timeout: "5s" };

export class Cluster {
  /** undefined while a restart has stopped the postmaster and not yet started a new one. */
  handle: EmbeddedPostgresHandle | undefined;
  readonly tmp = fs.mkdtempSync(path.join(os.tmpdir(), "starcite-faults-"));
  port = 0;
  url = "";

  async start(): Promise<void> {
    fs.chmodSync(this.tmp, 0o755);
    this.port = await freePort();
    this.handle = await this.#startPostgres();
    const admin = postgres(this.handle.url, { max: 1, onnotice: () => {} });
    await admin.unsafe("create database starcite");
    await admin.end();
    const u = new URL(this.handle.url);
    u.pathname = "/starcite";
    this.url = u.toString();
    await migrate(this.url);
  }

  /** The suite's cluster on its data dir and port (the first start initialises the data dir). */
  #startPostgres(): Promise<EmbeddedPostgresHandle> {
    return startEmbeddedPostgres({ dataDir: path.join(this.tmp, "pg"), port: this.port, settings: CLUSTER_SETTINGS });
  }

  /** The pid in postmaster.pid, or 0 when there is none (never 0 to signal: process.kill(0) hits our whole group). */
  #pidFile(): number {
    try {
      const pid = Number(fs.readFileSync(path.join(this.tmp, "pg", "postmaster.pid"), "utf8").split("\n")[0]);
      return Number.isInteger(pid) && pid > 1 ? pid : 0;
    } catch {
      return 0;
    }
  }

  /** The postmaster's pid, once postmaster.pid holds one. */
  async #postmasterPid(): Promise<number> {
    let pid = 0;
    await waitFor("postmaster.pid", () => (pid = this.#pidFile()) > 0);
    return pid;
  }

  /** `pg_ctl stop -m fast` (SIGINT) or `-m immediate` (SIGQUIT, crash recovery on start), then start again. */
  async restart(mode: "fast" | "immediate"): Promise<void> {
    const pid = await this.#postmasterPid();
    process.kill(pid, mode === "fast" ? "SIGINT" : "SIGQUIT");
    // Signalled: its handle's stop() would wait forever for an exit that may already have happened (stop() below
    // takes care of a postmaster still running).
    this.handle = undefined;
    const gone = () => !processAlive(pid);
    try {
      await waitFor(`postmaster ${pid} to exit`, gone, 3_000);
    } catch {
      // A fast shutdown waits for every backend to end and for a shutdown checkpoint, which takes well under a
      // second here. Say what is still running (and who is connected), then give it up to 90 s before failing.
      console.log(
        `postmaster ${pid} still running 3 s after ${mode} stop; its processes:\n${processesUnder(pid)}\nconnections:\n${connectionsTo(this.port)}`,
      );
      await waitFor(`postmaster ${pid} to exit (90 s after a ${mode} stop)`, gone, 87_000);
    }
    // A start that never reports ready must fail the run with a reason, not hang it.
    let timer: NodeJS.Timeout | undefined;
    this.handle = await Promise.race([
      this.#startPostgres(),
      new Promise<never>(
        (_, reject) =>
          (timer = setTimeout(() => reject(new Error(`postgres did not start again within 60 s after a ${mode} stop`)), 60_000)),
      ),
    ]).finally(() => clearTimeout(timer));
  }

  /** pg_terminate_backend of the servers' connections: all at once, or the LISTEN ones one by one. */
  async terminate(which: "all" | "listeners"): Promise<number> {
    const sql = postgres(this.url, { max: 1, onnotice: () => {}, connection: { application_name: "fault-injector" } });
    try {
      const pids = await sql<{ pid: number; app: string }[]>`
        select pid, application_name as app from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid() and application_name like 'starcite%'`;
      const targets = which === "all" ? pids : pids.filter((p) => p.app === "starcite-listener");
      if (which === "all") {
        await sql`select pg_terminate_backend(pid) from unnest(${targets.map((p) => p.pid)}::int[]) pid`;
      } else {
        for (const p of targets) {
          await sql`select pg_terminate_backend(${p.pid})`;
          await delay(300);
        }
      }
      return targets.length;
    } finally {
      await sql.end({ timeout: 1 });
    }
  }

  async stop(): Promise<void> {
    if (this.handle) await this.handle.stop().catch(() => {});
    else {
      // A restart broke off: end whatever postmaster is left on the data dir without waiting on a handle.
      const pid = this.#pidFile();
      if (pid > 0 && processAlive(pid)) {
        process.kill(pid, "SIGQUIT");
        await waitFor(`postmaster ${pid} to exit after SIGQUIT`, () => !processAlive(pid), 10_000).catch(() =>
          process.kill(pid, "SIGKILL"),
        );
      }
    }
    fs.rmSync(this.tmp, { recursive: true, force: true });
  }
}

// ---- servers: child processes on fixed ports ----------------------------------------------------------------

export class ServerProcess {
  child: ChildProcess | null = null;
  paused = false;
  readonly log: string[] = [];
  /** Exits the suite did not cause (a crash is a finding, reported by the checker). */
  readonly crashes: string[] = [];
  /** The server's "unexpected error" log lines (the first 20): what an internal_error answer was, for the report. */
  readonly unexpectedErrors: string[] = [];

  constructor(
    readonly port: number,
    readonly databaseUrl: string,
  ) {}

  get alive(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    const child = spawn(process.execPath, [...SOURCE_NODE_ARGS, path.join(ROOT, "test/faults/server-child.ts")], {
      cwd: ROOT,
      env: { ...process.env, FAULT_PORT: String(this.port), FAULT_DATABASE_URL: this.databaseUrl, NODE_ENV: "development" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    child.once("exit", (code, signal) => {
      if (this.child === child)
        this.crashes.push(`server on ${this.port} exited by itself (code ${code}, signal ${signal}): ${this.log.join("").slice(-1500)}`);
    });
    child.stderr!.on("data", (d: Buffer) => {
      const text = d.toString();
      for (const line of text.split("\n"))
        if (line.includes("unexpected error") && this.unexpectedErrors.length < 20) this.unexpectedErrors.push(line.slice(0, 2000));
      this.log.push(text);
      if (this.log.length > 200) this.log.shift();
    });
    await new Promise<void>((resolve, reject) => {
      let out = "";
      child.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("\n")) resolve();
      });
      child.once("exit", (code) =>
        reject(new Error(`server on ${this.port} exited (${code}) while starting: ${this.log.join("").slice(-2000)}`)),
      );
    });
  }

  kill9(): void {
    this.child?.kill("SIGKILL");
    this.child = null;
  }

  pause(): void {
    this.child?.kill("SIGSTOP");
    this.paused = true;
  }

  resume(): void {
    this.child?.kill("SIGCONT");
    this.paused = false;
  }

  async stop(): Promise<void> {
    if (!this.child) return;
    if (this.paused) this.resume();
    const child = this.child;
    this.child = null;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await Promise.race([exited, delay(5000).then(() => child.kill("SIGKILL"))]);
  }
}

// ---- a TCP proxy of our own on loopback: spreads connections over the live servers, cuts them on demand ----

export class Proxy {
  readonly #pairs = new Set<{ client: net.Socket; upstream: net.Socket; ws: boolean }>();
  #server!: net.Server;
  port = 0;
  cuts = 0;

  constructor(
    readonly targets: () => number[],
    readonly random: () => number,
  ) {}

  async start(): Promise<void> {
    this.#server = net.createServer((client) => {
      const ports = this.targets();
      if (ports.length === 0) return client.destroy();
      const upstream = net.connect(ports[Math.floor(this.random() * ports.length)]!, "127.0.0.1");
      const pair = { client, upstream, ws: false };
      this.#pairs.add(pair);
      const end = () => {
        client.destroy();
        upstream.destroy();
        this.#pairs.delete(pair);
      };
      client.on("data", (chunk) => {
        if (!pair.ws && /^GET [^\r]*\r\n(?:[^\r]*\r\n)*?upgrade: websocket/im.test(chunk.toString("latin1", 0, 2048))) pair.ws = true;
        upstream.write(chunk);
      });
      upstream.on("data", (chunk) => client.write(chunk));
      for (const s of [client, upstream]) {
        s.on("close", end);
        s.on("error", end);
      }
    });
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    this.port = (this.#server.address() as net.AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Cuts every WebSocket going through (HTTP requests in flight are left alone). */
  cutWebSockets(): number {
    let n = 0;
    for (const pair of this.#pairs) {
      if (!pair.ws) continue;
      pair.client.destroy();
      pair.upstream.destroy();
      this.#pairs.delete(pair);
      n++;
    }
    this.cuts += n;
    return n;
  }

  async stop(): Promise<void> {
    for (const { client, upstream } of this.#pairs) {
      client.destroy();
      upstream.destroy();
    }
    await new Promise((r) => this.#server.close(r));
  }
}

// ---- load: producers that retry, readers that resubscribe ----------------------------------------------------

const APPEND = `mutation($s: ID!, $e: AppendInput!) { append(sessionId: $s, event: $e) { seq lastSeq deduped } }`;

export interface Ack {
  producer: string;
  producerSeq: number;
  sessionId: string;
  seq: number;
  lastSeq: number;
  deduped: boolean;
  /** What the attempts before the acknowledged one met, in order (for a violation's message). */
  earlier: string[];
}

/**
 * Appends `producerSeq` 1, 2, 3, ... in order, each retried (same producerSeq, same content) until the server
 * acknowledges it: a retry of something that did commit is deduped to its original seq.
 */
export class Producer {
  readonly acks: Ack[] = [];
  readonly unexpected: string[] = [];
  retries = 0;
  #stopped = false;

  constructor(
    readonly id: string,
    readonly sessionId: string,
    readonly url: () => string,
  ) {}

  stop(): void {
    this.#stopped = true;
  }

  async run(): Promise<void> {
    for (let n = 1; !this.#stopped; n++) {
      const event = { type: "fault", payload: { producer: this.id, n }, producerId: this.id, producerSeq: n };
      const earlier: string[] = [];
      for (let attempt = 0; ; attempt++) {
        const outcome = await this.#try(event, earlier);
        if (outcome === "ok") break;
        earlier.push(outcome);
        this.retries++;
        await delay(Math.min(50 * 2 ** attempt, 1000));
      }
    }
  }

  /** "ok" once acknowledged, else what the attempt met (it is retried). */
  async #try(event: { producerSeq: number }, earlier: string[]): Promise<string> {
    const started = Date.now();
    try {
      const res = await fetch(`${this.url()}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: APPEND, variables: { s: this.sessionId, e: event } }),
        signal: AbortSignal.timeout(5000),
      });
      const body = (await res.json()) as {
        data?: { append?: { seq: number; lastSeq: number; deduped: boolean } };
        errors?: { message?: string; extensions?: { code?: string } }[];
      };
      const append = body.data?.append;
      if (append) {
        this.acks.push({ producer: this.id, producerSeq: event.producerSeq, sessionId: this.sessionId, ...append, earlier });
        return "ok";
      }
      const code = body.errors?.[0]?.extensions?.code;
      if (code !== "database_unavailable" && code !== "shutting_down")
        this.unexpected.push(`${this.id}#${event.producerSeq}: HTTP ${res.status} ${code} (${body.errors?.[0]?.message ?? ""})`);
      return `${code ?? `HTTP ${res.status}`} after ${Date.now() - started} ms`;
    } catch (error) {
      return `${error instanceof Error ? error.name : "error"} after ${Date.now() - started} ms`;
    }
  }
}

const TAIL = `subscription($s: ID!, $c: Int) { tail(sessionId: $s, cursor: $c) { cursor live events { seq } } }`;

/**
 * Follows one session through everything: resubscribes from its cursor after any loss, finds dead sockets by
 * ping/pong, and records every seq exactly as delivered, so the checker sees duplicates, gaps and reordering.
 */
export class Reader {
  readonly received: number[] = [];
  readonly violations: string[] = [];
  readonly endings: string[] = [];
  cursor = 0;
  reconnects = 0;
  #ws: WebSocket | null = null;
  #stopped = false;
  #stallUntil = 0;

  constructor(
    readonly id: string,
    readonly sessionId: string,
    readonly url: () => string,
  ) {}

  start(): void {
    void this.#connect(0);
  }

  /** Stops reading for `ms` (the socket stays open; the server must hold back, not buffer or drop). */
  stall(ms: number): void {
    const socket = (this.#ws as unknown as { _socket?: net.Socket } | null)?._socket;
    if (!socket) return;
    socket.pause();
    this.#stallUntil = Date.now() + ms;
    setTimeout(() => socket.resume(), ms);
  }

  stop(): void {
    this.#stopped = true;
    this.#ws?.terminate();
  }

  async #connect(attempt: number): Promise<void> {
    if (this.#stopped) return;
    const ws = new WebSocket(this.url().replace(/^http/, "ws") + "/graphql", "graphql-transport-ws");
    this.#ws = ws;
    let lastHeard = Date.now();
    let acked = false;
    let ended = false;
    const end = (why: string) => {
      if (ended) return;
      ended = true;
      clearInterval(heartbeat);
      this.endings.push(why);
      ws.terminate();
      if (this.#stopped) return;
      this.reconnects++;
      setTimeout(() => void this.#connect(acked ? 0 : attempt + 1), Math.min(50 * 2 ** attempt, 1000));
    };
    const heartbeat = setInterval(() => {
      if (Date.now() < this.#stallUntil) {
        lastHeard = Date.now();
        return;
      }
      if (Date.now() - lastHeard > 3000) return end(acked ? "no pong for 3 s" : "no ack for 3 s");
      if (ws.readyState === ws.OPEN) ws.send('{"type":"ping"}');
    }, 1000);
    ws.on("open", () => ws.send(JSON.stringify({ type: "connection_init", payload: {} })));
    ws.on("message", (data) => {
      lastHeard = Date.now();
      const m = JSON.parse(String(data)) as { type: string; payload?: { data?: { tail?: { events: { seq: number }[] } } } };
      if (m.type === "connection_ack") {
        acked = true;
        ws.send(JSON.stringify({ id: "t", type: "subscribe", payload: { query: TAIL, variables: { s: this.sessionId, c: this.cursor } } }));
      } else if (m.type === "next") {
        for (const { seq } of m.payload?.data?.tail?.events ?? []) {
          if (seq !== this.cursor + 1) this.violations.push(`${this.id}: got seq ${seq} after ${this.cursor}`);
          this.received.push(seq);
          if (seq > this.cursor) this.cursor = seq;
        }
      } else if (m.type === "error" || m.type === "complete") {
        end(`${m.type}: ${JSON.stringify(m.payload ?? null).slice(0, 200)}`);
      }
    });
    ws.on("close", (code) => end(`close ${code}`));
    ws.on("error", (e) => end(`error ${e.message}`));
  }
}

/** The checker over the whole history. Returns the list of violations (empty: the run holds). */
export async function check(
  databaseUrl: string,
  producers: Producer[],
  readers: Reader[],
  sessions: string[],
): Promise<{ violations: string[]; events: number }> {
  const violations: string[] = [];
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  let events = 0;
  try {
    for (const sessionId of sessions) {
      const rows = await sql<{ seq: string; producer_id: string; producer_seq: string }[]>`
        select seq, producer_id, producer_seq from starcite.events where session_id = ${sessionId} order by seq`;
      events += rows.length;
      // Gapless seqs.
      rows.forEach((r, i) => Number(r.seq) !== i + 1 && violations.push(`${sessionId}: seq ${r.seq} at position ${i + 1}`));
      // Every acknowledged append exactly once, at the seq its producer was told.
      const byKey = new Map<string, number[]>();
      for (const r of rows) {
        const k = `${r.producer_id}#${r.producer_seq}`;
        byKey.set(k, [...(byKey.get(k) ?? []), Number(r.seq)]);
      }
      for (const [k, seqs] of byKey) if (seqs.length > 1) violations.push(`${sessionId}: ${k} stored ${seqs.length} times (${seqs})`);
      for (const p of producers.filter((x) => x.sessionId === sessionId)) {
        for (const ack of p.acks) {
          const stored = byKey.get(`${ack.producer}#${ack.producerSeq}`);
          if (!stored) violations.push(`${sessionId}: acknowledged ${ack.producer}#${ack.producerSeq} (seq ${ack.seq}) is missing`);
          else if (stored[0] !== ack.seq)
            violations.push(
              `${sessionId}: ${ack.producer}#${ack.producerSeq} acknowledged as seq ${ack.seq} (lastSeq ${ack.lastSeq}, ` +
                `deduped ${ack.deduped}; earlier attempts: ${ack.earlier.join(", ") || "none"}), stored at ${stored[0]}`,
            );
        }
        // Per-producer order: producerSeq order is seq order, and nothing but 1..n.
        const mine = rows.filter((r) => r.producer_id === p.id);
        mine.forEach(
          (r, i) =>
            Number(r.producer_seq) !== i + 1 &&
            violations.push(`${sessionId}: ${p.id} out of order at ${i + 1}: producer_seq ${r.producer_seq}`),
        );
        violations.push(...p.unexpected);
      }
      // Every reader saw one and the same sequence: 1..n, each once, in order.
      for (const r of readers.filter((x) => x.sessionId === sessionId)) {
        violations.push(...r.violations);
        if (r.received.length !== rows.length || r.received.some((s, i) => s !== i + 1)) {
          violations.push(`${r.id}: received ${r.received.length} events (last ${r.received.at(-1)}), the log has ${rows.length}`);
        }
      }
    }
  } finally {
    await sql.end({ timeout: 1 });
  }
  return { violations, events };
}
