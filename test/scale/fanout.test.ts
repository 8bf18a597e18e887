/**
 * Scale-out: three stateless server processes on one database. Writers and readers are spread over them; one
 * process is killed with SIGKILL mid-run. Writers retry on another process with the same producer seq (dedup makes
 * that exactly once); readers move to another process with their cursor. Every reader of a session must see the
 * identical, gapless sequence, and the log must hold every acknowledged append exactly once.
 */
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startChildServer, type ChildServer } from "../../bench/lib/servers.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";

const SESSIONS = ["fan_0", "fan_1", "fan_2", "fan_3"];
const WRITERS = 8;
const APPENDS_PER_WRITER = 150;
const READERS = 12;

let db: TestDatabase;
let servers: ChildServer[] = [];
const dead = new Set<number>();

beforeAll(async () => {
  db = await createTestDatabase();
  servers = await Promise.all([0, 1, 2].map(() => startChildServer("starcite", { BENCH_DATABASE_URL: db.url, BENCH_POOL_SIZE: "6" })));
  for (const id of SESSIONS) await db.sql`select starcite.create_session(${id})`;
});

afterAll(async () => {
  await Promise.all(servers.filter((_, i) => !dead.has(i)).map((s) => s.close()));
  await db?.drop();
});

/** The next live server after `i` (round robin), skipping the dead one. */
function liveServer(i: number): number {
  for (let k = 0; k < servers.length; k++) {
    const j = (i + k) % servers.length;
    if (!dead.has(j)) return j;
  }
  throw new Error("no live server");
}

interface Seen {
  seq: number;
  producerId: string;
  producerSeq: number;
}

/** A writer: producer w<n> appends 1..count to its session, moving to the next process whenever one fails. */
async function writer(n: number, count: number, progress: () => void): Promise<string[]> {
  const sessionId = SESSIONS[n % SESSIONS.length]!;
  const acked: string[] = [];
  let at = n % servers.length;
  for (let producerSeq = 1; producerSeq <= count;) {
    at = liveServer(at);
    try {
      const res = await fetch(`${servers[at]!.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          query: `mutation($s: ID!, $e: AppendInput!) { append(sessionId: $s, event: $e) { seq deduped } }`,
          variables: { s: sessionId, e: { payload: { n, producerSeq }, producerId: `w${n}`, producerSeq } },
        }),
        signal: AbortSignal.timeout(5000),
      });
      const body = (await res.json()) as { data?: { append: { seq: number } }; errors?: unknown[] };
      if (!body.data) throw new Error(JSON.stringify(body.errors));
      acked.push(`w${n}/${producerSeq}`);
      producerSeq++;
      progress();
      at++; // spread this writer's appends over the processes
    } catch {
      at++; // that process failed (or died): the same producerSeq again, elsewhere
    }
  }
  return acked;
}

/** A reader of one session that survives its process dying: it resubscribes elsewhere from its cursor. */
class Reader {
  readonly seen: Seen[] = [];
  moves = 0;
  #client: Client | null = null;
  #at: number;
  #closed = false;
  #watchers = new Set<() => void>();

  constructor(
    readonly sessionId: string,
    start: number,
  ) {
    this.#at = start;
    this.#connect();
  }

  get cursor(): number {
    return this.seen.at(-1)?.seq ?? 0;
  }

  #connect(): void {
    if (this.#closed) return;
    this.#at = liveServer(this.#at);
    const client = createClient({
      url: servers[this.#at]!.url.replace(/^http/, "ws") + "/graphql",
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazy: true,
    });
    this.#client = client;
    const lost = () => {
      if (this.#client !== client || this.#closed) return;
      this.#client = null;
      void client.dispose();
      this.moves++;
      this.#at++;
      setImmediate(() => this.#connect());
    };
    client.subscribe<{ tail: { events: { seq: number; producerId: string; producerSeq: number }[] } }>(
      {
        query: `subscription($s: ID!, $c: Int) { tail(sessionId: $s, cursor: $c) { cursor live events { seq producerId producerSeq } } }`,
        variables: { s: this.sessionId, c: this.cursor },
      },
      {
        next: (r) => {
          for (const e of r.data?.tail.events ?? []) {
            if (e.seq <= this.cursor) continue; // a resubscribe may repeat what was delivered
            this.seen.push({ seq: e.seq, producerId: e.producerId, producerSeq: e.producerSeq });
          }
          this.#watchers.forEach((w) => w());
        },
        error: lost,
        complete: lost,
      },
    );
  }

  until(seq: number, timeoutMs = 60_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.cursor >= seq) {
          this.#watchers.delete(check);
          clearTimeout(timer);
          resolve();
        }
      };
      const timer = setTimeout(
        () => reject(new Error(`reader of ${this.sessionId} stuck at ${this.cursor}, waiting for ${seq}`)),
        timeoutMs,
      );
      this.#watchers.add(check);
      check();
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#client?.dispose();
  }
}

test("3 processes, writers and readers spread over them, one SIGKILLed mid-run: every reader sees the same gapless log, every acknowledged append once", async () => {
  const readers = Array.from({ length: READERS }, (_, j) => new Reader(SESSIONS[j % SESSIONS.length]!, j));
  let done = 0;
  let killed!: () => void;
  const killedOnce = new Promise<void>((r) => (killed = r));
  const total = WRITERS * APPENDS_PER_WRITER;
  const progress = () => {
    done++;
    if (done === Math.floor(total * 0.4)) {
      // SIGKILL: no graceful close, sockets and in-flight requests cut, its LISTEN connection and locks dropped.
      dead.add(1);
      process.kill(servers[1]!.pid, "SIGKILL");
      killed();
    }
  };
  const acked = (await Promise.all(Array.from({ length: WRITERS }, (_, n) => writer(n, APPENDS_PER_WRITER, progress)))).flat();
  await killedOnce;
  expect(acked).toHaveLength(total);

  const lastSeqs = new Map(
    (
      await db.sql<{ id: string; last_seq: number }[]>`
    select id, last_seq from starcite.sessions where id = any(${SESSIONS})`
    ).map((r) => [r.id, r.last_seq]),
  );
  await Promise.all(readers.map((r) => r.until(lastSeqs.get(r.sessionId)!)));
  await Promise.all(readers.map((r) => r.close()));

  const inLog: string[] = [];
  for (const sessionId of SESSIONS) {
    const rows = await db.sql<{ seq: number; producer_id: string; producer_seq: number }[]>`
      select seq, producer_id, producer_seq from starcite.events where session_id = ${sessionId} order by seq`;
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: rows.length }, (_, i) => i + 1));
    inLog.push(...rows.map((r) => `${r.producer_id}/${r.producer_seq}`));
    const expected = rows.map((r) => ({ seq: r.seq, producerId: r.producer_id, producerSeq: r.producer_seq }));
    for (const reader of readers.filter((r) => r.sessionId === sessionId)) expect(reader.seen).toEqual(expected);
  }
  // Every acknowledged append is in the log exactly once, and nothing else is.
  expect([...inLog].sort()).toEqual([...acked].sort());
  // The readers that were on the killed process moved.
  expect(readers.filter((r) => r.moves > 0).length).toBeGreaterThan(0);
});
