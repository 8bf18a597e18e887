/** Helpers shared by scenarios: sessions, the floor table, fast seeding, metrics, measured windows, delivery lag. */
import type { Sql } from "../../src/db/client.ts";
import type { JsonObject } from "../../src/db/types.ts";
import { payloadOf, payloadText } from "../lib/load.ts";
import type { ResultRow, Target } from "../lib/report.ts";
import type { LoadResult } from "../lib/load.ts";
import { scanIndexes } from "../lib/graphql.ts";
import type { ChildServer } from "../lib/servers.ts";
import type { ChildStats } from "../lib/child-protocol.ts";
import { Recorder, msSince, now } from "../lib/stats.ts";

/** Creates sessions through starcite.create_session. */
export async function createSessions(sql: Sql, ids: readonly string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 1000) {
    const chunk = ids.slice(i, i + 1000);
    await sql`select starcite.create_session(id) from jsonb_array_elements_text(${sql.json(chunk)}::jsonb) as id`;
  }
}

/** One starcite.append through postgres.js (as src/db/events.ts passes payloads): one statement, autocommitted. */
export async function sqlAppend(sql: Sql, sessionId: string, payload: JsonObject): Promise<number> {
  const rows = await sql<{ seq: number }[]>`select seq from starcite.append(${sessionId}, 'content', ${sql.json(payload)}::jsonb)`;
  return rows[0]!.seq;
}

/**
 * The floor: a plain table with the event row's shape and primary key, no function, no trigger, no
 * counter row. The caller picks seq (a counter in the bench process), so the database does one heap
 * insert, one index insert and one commit.
 */
export async function createFloorTable(sql: Sql): Promise<void> {
  await sql`create table if not exists public.floor_events (
    session_id  text not null,
    seq         bigint not null,
    type        text not null,
    payload     jsonb not null,
    inserted_at timestamptz not null default clock_timestamp(),
    primary key (session_id, seq))`;
}

export function floorInserter(sql: Sql): (sessionId: string, payload: JsonObject) => Promise<number> {
  const seqs = new Map<string, number>();
  return async (sessionId, payload) => {
    const seq = (seqs.get(sessionId) ?? 0) + 1;
    seqs.set(sessionId, seq);
    const rows = await sql<{ seq: number }[]>`
      insert into public.floor_events (session_id, seq, type, payload)
      values (${sessionId}, ${seq}, 'content', ${sql.json(payload)}::jsonb) returning seq`;
    return rows[0]!.seq;
  };
}

/**
 * Fills a session with `count` events straight into starcite.events (generate_series, no per-row function
 * call, triggers off when allowed) and sets sessions.last_seq. Payloads are ~256-byte JSON objects with a
 * negative "i" so that they never collide with the indexes a scenario tracks.
 */
export async function seedSession(sql: Sql, sessionId: string, count: number, payloadBytes = 256): Promise<void> {
  const padLen = payloadOf(0, payloadBytes).pad.length - 4;
  const [row] = await sql<{ last_seq: number }[]>`select last_seq from starcite.sessions where id = ${sessionId}`;
  let next = (row?.last_seq ?? 0) + 1;
  const end = next + count - 1;
  const chunk = 200_000;
  await sql.begin(async (tx) => {
    try {
      await tx`set local session_replication_role = replica`;
    } catch {
      // not a superuser: the notify trigger fires once per statement, which is harmless
    }
    while (next <= end) {
      const to = Math.min(end, next + chunk - 1);
      await tx`
        insert into starcite.events (session_id, seq, type, payload, inserted_at)
        select ${sessionId}, g, 'content', jsonb_build_object('i', -g, 'pad', repeat('x', ${padLen}::int)), clock_timestamp()
        from generate_series(${next}::bigint, ${to}::bigint) as g`;
      next = to + 1;
    }
    await tx`update starcite.sessions set last_seq = ${end}, updated_at = now() where id = ${sessionId}`;
  });
  await sql`analyze starcite.events`;
  await sql`analyze starcite.sessions`;
}

export { payloadText };

/** A result row from a load run. */
export function loadRow(caseName: string, r: LoadResult, unit = "events/s", extra?: ResultRow["extra"]): ResultRow {
  const row: ResultRow = { case: caseName, latency: r.latency.summary(), throughput: r.rate, throughputUnit: unit };
  const e = { ...(extra ?? {}) };
  if (r.errors) {
    e.errors = r.errors;
    e.firstError = String(r.firstError instanceof Error ? r.firstError.message : r.firstError).slice(0, 120);
  }
  if (Object.keys(e).length) row.extra = e;
  return row;
}

export const target = (text: string, pass: boolean): Target => ({ text, pass });

/** The bench process's own CPU use over a window, as a fraction of one core. */
export function cpuMeter(): () => number {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  return () => {
    const c = process.cpuUsage(c0);
    const wallUs = Number(process.hrtime.bigint() - t0) / 1000;
    return (c.user + c.system) / wallUs;
  };
}

/** Cores the Postgres cluster used over a window (undefined when it is not a local process). */
export function dbCpuMeter(pg: { cpuSeconds(): number | undefined }): () => number | undefined {
  const c0 = pg.cpuSeconds();
  const t0 = process.hrtime.bigint();
  return () => {
    const c1 = pg.cpuSeconds();
    if (c0 === undefined || c1 === undefined) return undefined;
    return (c1 - c0) / (Number(process.hrtime.bigint() - t0) / 1e9);
  };
}

/** Reads Prometheus text from `url` and returns metric samples by name{labels}. */
export async function scrapeMetrics(url: string): Promise<Map<string, number> | null> {
  try {
    const res = await fetch(url);
    if (!res.ok) return null;
    const text = await res.text();
    const out = new Map<string, number>();
    for (const line of text.split("\n")) {
      if (!line || line.startsWith("#")) continue;
      const sp = line.lastIndexOf(" ");
      out.set(line.slice(0, sp), Number(line.slice(sp + 1)));
    }
    return out;
  } catch {
    return null;
  }
}

/** Sum of all samples of `name` (any labels) whose labels include `labelFilter` (e.g. 'source="hub"'). */
export function metricSum(m: Map<string, number> | null, name: string, labelFilter?: string): number | undefined {
  if (!m) return undefined;
  let sum = 0;
  let found = false;
  for (const [k, v] of m) {
    if (k === name || k.startsWith(name + "{")) {
      if (labelFilter && !k.includes(labelFilter)) continue;
      sum += v;
      found = true;
    }
  }
  return found ? sum : undefined;
}

/** What a measured window cost: its wall time, the cores the server, the bench and Postgres used, /metrics growth. */
export interface WindowCost {
  wallMs: number;
  serverCores: number;
  benchCores: number;
  /** Undefined when Postgres is not a local process. */
  dbCores: number | undefined;
  /** The server's stats at the end (its peak RSS since the last resetPeak). */
  server: ChildStats;
  /** How much a /metrics sample grew (NaN when /metrics could not be read); a labelled counter absent before counts as 0. */
  delta(name: string, labelFilter?: string): number;
}

/** Opens a measured window on the server (and Postgres); the returned function closes it and reports its cost. */
export async function openWindow(server: ChildServer, pg: { cpuSeconds(): number | undefined }): Promise<() => Promise<WindowCost>> {
  const m0 = await scrapeMetrics(`${server.url}/metrics`);
  const s0 = await server.stats();
  const bench = cpuMeter();
  const db = dbCpuMeter(pg);
  const t0 = now();
  return async () => {
    const wallMs = msSince(t0);
    const benchCores = bench();
    const dbCores = db();
    const s1 = await server.stats();
    const m1 = await scrapeMetrics(`${server.url}/metrics`);
    return {
      wallMs,
      serverCores: (s1.cpuUserMs + s1.cpuSystemMs - s0.cpuUserMs - s0.cpuSystemMs) / wallMs,
      benchCores,
      dbCores,
      server: s1,
      delta: (name, labelFilter) => (m1 ? (metricSum(m1, name, labelFilter) ?? 0) - (metricSum(m0, name, labelFilter) ?? 0) : NaN),
    };
  };
}

/**
 * Delivery lag of the events whose payloads carry the indexes base .. base+total-1 (`"i":n`): the caller records
 * when event n was sent in sentAt[n]; onNext takes each raw `next` message a reader gets (no JSON parse).
 */
export class DeliveryLag {
  readonly sentAt: bigint[];
  readonly lag: Recorder;
  deliveries = 0;
  readonly #scratch: number[] = [];

  constructor(
    private readonly base: number,
    private readonly total: number,
    capacity: number,
  ) {
    this.sentAt = new Array<bigint>(total);
    this.lag = new Recorder(capacity);
  }

  readonly onNext = (raw: string): void => {
    const t = now();
    this.#scratch.length = 0;
    scanIndexes(raw, this.#scratch);
    for (const idx of this.#scratch) {
      const n = idx - this.base;
      if (n >= 0 && n < this.total && this.sentAt[n] !== undefined) {
        this.lag.add(Number(t - this.sentAt[n]!) / 1e6);
        this.deliveries++;
      }
    }
  };
}
