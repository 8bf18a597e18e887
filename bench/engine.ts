/**
 * The SQL append engine on its own, without the server:
 *   npm run bench:engine [-- --seconds 3 --connections 4 --events 5000 --rounds 1]
 *
 * 1. In the database: one backend runs starcite.append_items (batches of 1, 10 and 50 events over 1,000
 *    sessions) and starcite.append (single events) in a server-side loop that commits after every call
 *    (synchronous_commit off, so no fsync waits), after a warm-up. Reported per event: wall time and the
 *    backend's own CPU time (/proc/<pid>/schedstat), which other load on the machine inflates far less.
 *    Then where a 50-event call's time goes: the same calls (50 sessions, each session's producer continuing
 *    its run) without producers, then with the events table's foreign key dropped, then its notify trigger too
 *    (both put back after).
 * 2. Throughput: N connections call the same functions back to back, a transaction (and fsync) per call:
 *    events/s, and the CPU time of those backends per event.
 * A bare INSERT into a plain table is measured the same way, as the floor.
 */
import fs from "node:fs";
import { parseArgs } from "node:util";
import type { Sql } from "../src/db/client.ts";
import { startPostgres } from "./lib/env.ts";
import { closedLoop, payloadOf } from "./lib/load.ts";
import { createFloorTable, createSessions, floorInserter } from "./scenarios/common.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "3" },
    connections: { type: "string", default: "4" },
    sessions: { type: "string", default: "1000" },
    events: { type: "string", default: "5000" },
    rounds: { type: "string", default: "1" },
  },
});
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);
const SESSIONS = Number(values.sessions);
const EVENTS = Number(values.events);
const ROUNDS = Number(values.rounds);
const BATCHES = [1, 10, 50];
const WARMUP_CALLS = 20;
/** The application_name bench/lib/env.ts gives this database's pool. */
const APP = "bench-engine";

const sessionOf = (i: number) => `eng-${i % SESSIONS}`;
const itemsOf = (start: number, n: number) =>
  Array.from({ length: n }, (_, k) => ({ session_id: sessionOf(start + k), type: "content", payload: payloadOf(start + k) }));

/** Nanoseconds a process has spent on a CPU. */
const cpuNs = (pid: number): number => Number(fs.readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[0]);

interface Row {
  label: string;
  wallUs: number;
  cpuUs: number;
  rate?: number;
}

/**
 * Runs `body` once per element of `calls` in a procedure that commits after each call; the first
 * WARMUP_CALLS calls are not timed (plans are made then). Returns µs per event, wall and backend CPU.
 */
async function inDatabase(sql: Sql, label: string, body: string, calls: unknown[], eventsPerCall: number): Promise<Row> {
  // A procedure that commits must be called outside a transaction block; pg_temp is per connection.
  const db = await sql.reserve();
  try {
    await db.unsafe(`create or replace procedure pg_temp.bench_loop(calls jsonb, first integer, inout us double precision default null)
      language plpgsql as $$
      declare _t0 timestamptz; _c jsonb;
      begin
        for _i in first .. jsonb_array_length(calls) - 1 loop
          if _i = ${WARMUP_CALLS} then _t0 := clock_timestamp(); end if;
          _c := calls->_i;
          ${body}
          commit;
        end loop;
        us := extract(epoch from clock_timestamp() - _t0) * 1e6;
      end $$`);
    await db`set synchronous_commit = off`;
    const pid = (await db<{ pid: number }[]>`select pg_backend_pid() as pid`)[0]!.pid;
    // The warm-up calls run in their own call of the procedure, so that their CPU time is not counted.
    await db`call pg_temp.bench_loop(${db.json(calls.slice(0, WARMUP_CALLS) as never)}::jsonb, 0)`;
    const cpu0 = cpuNs(pid);
    const [row] = await db<{ us: number }[]>`call pg_temp.bench_loop(${db.json(calls as never)}::jsonb, ${WARMUP_CALLS})`;
    const events = (calls.length - WARMUP_CALLS) * eventsPerCall;
    return { label, wallUs: row!.us / events, cpuUs: (cpuNs(pid) - cpu0) / 1000 / events };
  } finally {
    db.release();
  }
}

/** The backends of this bench's pool. */
async function backends(sql: Sql): Promise<number[]> {
  const rows = await sql<{ pid: number }[]>`select pid from pg_stat_activity where application_name = ${APP}`;
  return rows.map((r) => r.pid);
}

async function throughput(sql: Sql, label: string, eventsPerCall: number, op: (w: number, i: number) => Promise<unknown>): Promise<Row> {
  await closedLoop(CONNECTIONS, 300, 0, op);
  const pids = await backends(sql);
  const cpu0 = pids.map(cpuNs);
  const r = await closedLoop(CONNECTIONS, SECONDS * 1000, 0, op);
  const cpu = pids.reduce((sum, pid, i) => sum + cpuNs(pid) - cpu0[i]!, 0);
  if (r.errors > 0) throw new Error(`${label}: ${r.errors} errors, first: ${String(r.firstError)}`);
  const events = r.ops * eventsPerCall;
  return { label, wallUs: 1e6 / (r.rate * eventsPerCall), cpuUs: cpu / 1000 / events, rate: r.rate * eventsPerCall };
}

const format = (r: Row) =>
  `${r.label.padEnd(52)} ${r.rate === undefined ? "" : `${Math.round(r.rate).toString().padStart(6)} events/s `}` +
  `${r.wallUs.toFixed(1).padStart(7)} µs/event wall ${r.cpuUs.toFixed(1).padStart(7)} µs/event Postgres CPU`;

/**
 * The cost of an append_items call's parts, found by taking them away: 50 events over 50 sessions per call, each
 * session's producer continuing its run (the SDK's shape with group commit), then the same without producers,
 * then without the events table's foreign key, then without its notify trigger as well. Both are put back.
 */
async function engineParts(sql: Sql, round: number): Promise<string[]> {
  const calls = (tag: string | null) =>
    Array.from({ length: Math.ceil(EVENTS / 50) + WARMUP_CALLS }, (_, c) =>
      Array.from({ length: 50 }, (_, k) => {
        const g = c * 50 + k;
        const item = { session_id: sessionOf(g), type: "content", payload: payloadOf(g) };
        return tag === null ? item : { ...item, producer_id: `${tag}-${g % SESSIONS}`, producer_seq: Math.floor(g / SESSIONS) + 1 };
      }),
    );
  const run = async (label: string, tag: string | null) =>
    format(await inDatabase(sql, label, `perform count(*) from starcite.append_items(_c);`, calls(tag), 50));
  const [fk] = await sql<{ name: string; def: string }[]>`
    select conname as name, pg_get_constraintdef(oid) as def from pg_constraint
    where conrelid = 'starcite.events'::regclass and contype = 'f'`;
  const [trigger] = await sql<{ def: string }[]>`
    select pg_get_triggerdef(oid) as def from pg_trigger where tgrelid = 'starcite.events'::regclass and tgname = 'events_notify'`;
  if (!fk || !trigger) throw new Error("the events table's foreign key or notify trigger is not where engineParts expects it");
  const out = [`-- where a 50-event append_items call (50 sessions) goes, in the database`];
  out.push(await run("append_items, producers continuing their runs", `parts-${round}-a`));
  out.push(await run("the same without producers", null));
  try {
    await sql.unsafe(`alter table starcite.events drop constraint ${fk.name}`);
    out.push(await run("producers, no foreign key", `parts-${round}-b`));
    await sql.unsafe(`drop trigger events_notify on starcite.events`);
    out.push(await run("producers, no foreign key, no notify trigger", `parts-${round}-c`));
  } finally {
    await sql.unsafe(`drop trigger if exists events_notify on starcite.events`);
    await sql.unsafe(trigger.def);
    await sql.unsafe(`alter table starcite.events drop constraint if exists ${fk.name}`);
    await sql.unsafe(`alter table starcite.events add constraint ${fk.name} ${fk.def}`);
  }
  return out;
}

const pg = await startPostgres((line) => process.stderr.write(`${line}\n`));
const db = await pg.newDatabase("engine", CONNECTIONS + 2);
const out: string[] = [];
try {
  const sql = db.sql;
  await createSessions(
    sql,
    Array.from({ length: SESSIONS }, (_, i) => sessionOf(i)),
  );
  await createFloorTable(sql);
  await Promise.all(Array.from({ length: CONNECTIONS + 2 }, () => sql`select 1`));
  const floor = floorInserter(sql);
  for (let round = 1; round <= ROUNDS; round++) {
    out.push(`-- in the database, a commit per call (synchronous_commit off)${ROUNDS > 1 ? `, round ${round}` : ""}`);
    const singles = Array.from({ length: EVENTS + WARMUP_CALLS }, (_, i) => ({
      s: sessionOf(i),
      p: payloadOf(i),
      q: Math.floor(i / SESSIONS) + 1,
    }));
    out.push(
      format(
        await inDatabase(
          sql,
          "floor: bare INSERT",
          `insert into public.floor_events (session_id, seq, type, payload) values (_c->>'s', _i + 1, 'content', _c->'p');`,
          singles,
          1,
        ),
      ),
    );
    await sql`truncate public.floor_events`;
    for (const size of BATCHES) {
      const calls = Array.from({ length: Math.ceil(EVENTS / size) + WARMUP_CALLS }, (_, c) => itemsOf(c * size, size));
      out.push(
        format(await inDatabase(sql, `append_items, ${size} per call`, `perform count(*) from starcite.append_items(_c);`, calls, size)),
      );
    }
    // The SDK's shape: a producer's appendBatch of 50 into one session, producer_id and consecutive producer_seq.
    const sdkCalls = Array.from({ length: Math.ceil(EVENTS / 50) + WARMUP_CALLS }, (_, c) =>
      Array.from({ length: 50 }, (_, k) => ({
        session_id: sessionOf(c),
        type: "content",
        payload: payloadOf(c * 50 + k),
        producer_id: `sdk-${round}-${c}`,
        producer_seq: k + 1,
      })),
    );
    out.push(
      format(
        await inDatabase(
          sql,
          "append_items, 50 per call, one session, producer",
          `perform count(*) from starcite.append_items(_c, true);`,
          sdkCalls,
          50,
        ),
      ),
    );
    out.push(
      format(
        await inDatabase(
          sql,
          "floor: one INSERT of 50 rows",
          `insert into public.floor_events (session_id, seq, type, payload) select 'f' || _i, k, 'content', x from jsonb_array_elements(_c) with ordinality as a(x, k);`,
          Array.from({ length: Math.ceil(EVENTS / 50) + WARMUP_CALLS }, (_, c) =>
            Array.from({ length: 50 }, (_, k) => payloadOf(c * 50 + k)),
          ),
          50,
        ),
      ),
    );
    await sql`truncate public.floor_events`;
    out.push(
      format(await inDatabase(sql, "append (direct path)", `perform * from starcite.append(_c->>'s', 'content', _c->'p');`, singles, 1)),
    );
    const producer = `producer-${round}`;
    out.push(
      format(
        await inDatabase(
          sql,
          "append with producer_id/producer_seq",
          `perform * from starcite.append(_c->>'s', 'content', _c->'p', producer_id => '${producer}', producer_seq => (_c->>'q')::bigint);`,
          singles,
          1,
        ),
      ),
    );

    out.push(...(await engineParts(sql, round)));

    out.push(`-- ${CONNECTIONS} connections, a transaction per call${ROUNDS > 1 ? `, round ${round}` : ""}`);
    out.push(format(await throughput(sql, "floor: bare INSERT", 1, (w, i) => floor(sessionOf(w * 7919 + i), payloadOf(i)))));
    for (const size of BATCHES) {
      out.push(
        format(
          await throughput(
            sql,
            `append_items, ${size} per call`,
            size,
            (w, i) => sql`select count(*) from starcite.append_items(${sql.json(itemsOf((w * 7919 + i) * size, size))}::jsonb)`,
          ),
        ),
      );
    }
    out.push(
      format(
        await throughput(
          sql,
          "append (direct path)",
          1,
          (w, i) => sql`select seq from starcite.append(${sessionOf(w * 7919 + i)}, 'content', ${sql.json(payloadOf(i))}::jsonb)`,
        ),
      ),
    );
  }
} finally {
  await db.drop();
  await pg.stop();
}
process.stdout.write(`${out.join("\n")}\n`);
