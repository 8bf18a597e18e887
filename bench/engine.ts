/**
 * The SQL append engine on its own, without the server: `npm run bench:engine [-- --seconds 3 --connections 4]`.
 *
 * 1. In-database cost: one backend calls starcite.append_items (batches of 1, 10, 50 events over 1,000 sessions)
 *    and starcite.append (single events) in a loop inside one transaction, timed with clock_timestamp(): the
 *    engine's own µs per event, without round trips or commits.
 * 2. Throughput: N connections call the same functions back to back, each call its own transaction, for a few
 *    seconds per case: events/s and wall µs per event at that concurrency.
 */
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
  },
});
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);
const SESSIONS = Number(values.sessions);
const IN_DB_EVENTS = Number(values.events);
const BATCHES = [1, 10, 50];

const sessionOf = (i: number) => `eng-${i % SESSIONS}`;
const itemsOf = (start: number, n: number) =>
  Array.from({ length: n }, (_, k) => ({ session_id: sessionOf(start + k), type: "content", payload: payloadOf(start + k) }));

/**
 * µs per event of engine calls run back to back inside one server-side procedure that commits after each
 * call with synchronous_commit off: the CPU cost of a call and its commit, without round trips or fsyncs.
 */
async function inDatabase(sql: Sql, label: string, body: string, calls: unknown): Promise<string> {
  // A procedure that commits must be called outside a transaction block; pg_temp is per connection.
  const db = await sql.reserve();
  let perEvent: number;
  try {
    await db.unsafe(`create or replace procedure pg_temp.bench_loop(calls jsonb, inout us double precision default null)
      language plpgsql as $$
      declare _t0 timestamptz; _c jsonb; _n bigint := 0;
      begin
        _t0 := clock_timestamp();
        for _i in 0 .. jsonb_array_length(calls) - 1 loop
          _c := calls->_i;
          ${body}
          commit;
        end loop;
        us := extract(epoch from clock_timestamp() - _t0) * 1e6 / _n;
      end $$`);
    await db`set synchronous_commit = off`;
    const [row] = await db<{ us: number }[]>`call pg_temp.bench_loop(${db.json(calls as never)}::jsonb)`;
    perEvent = row!.us;
  } finally {
    db.release();
  }
  return `${label.padEnd(44)} ${perEvent.toFixed(1).padStart(7)} µs/event (in the database, a commit per call)`;
}

async function throughput(sql: Sql, label: string, eventsPerCall: number, op: (w: number, i: number) => Promise<unknown>): Promise<string> {
  const r = await closedLoop(CONNECTIONS, SECONDS * 1000, 500, op);
  if (r.errors > 0) throw new Error(`${label}: ${r.errors} errors, first: ${String(r.firstError)}`);
  const eventsPerSec = r.rate * eventsPerCall;
  return `${label.padEnd(44)} ${Math.round(eventsPerSec).toString().padStart(7)} events/s  ${(1e6 / eventsPerSec).toFixed(1).padStart(6)} µs/event ` +
    `(${CONNECTIONS} connections, a transaction per call)`;
}

const pg = await startPostgres((line) => process.stderr.write(`${line}\n`));
const db = await pg.newDatabase("engine", CONNECTIONS + 2);
const lines: string[] = [];
try {
  const sql = db.sql;
  await createSessions(sql, Array.from({ length: SESSIONS }, (_, i) => sessionOf(i)));
  await Promise.all(Array.from({ length: CONNECTIONS }, () => sql`select 1`));

  for (const size of BATCHES) {
    const calls = Array.from({ length: Math.ceil(IN_DB_EVENTS / size) }, (_, c) => itemsOf(c * size, size));
    lines.push(await inDatabase(sql, `append_items, ${size} per call`,
      `perform count(*) from starcite.append_items(_c); _n := _n + jsonb_array_length(_c);`, calls));
  }
  const singles = Array.from({ length: IN_DB_EVENTS }, (_, i) => ({ s: sessionOf(i), p: payloadOf(i) }));
  await createFloorTable(sql);
  lines.push(await inDatabase(sql, "floor: bare INSERT",
    `insert into public.floor_events (session_id, seq, type, payload) values (_c->>'s', _n + 1, 'content', _c->'p'); _n := _n + 1;`,
    singles));
  lines.push(await inDatabase(sql, "append (direct path)",
    `perform * from starcite.append(_c->>'s', 'content', _c->'p'); _n := _n + 1;`, singles));
  const producers = singles.map((x, i) => ({ ...x, q: Math.floor(i / SESSIONS) + 1 }));
  lines.push(await inDatabase(sql, "append with producer_id/producer_seq",
    `perform * from starcite.append(_c->>'s', 'content', _c->'p', producer_id => 'bench', producer_seq => (_c->>'q')::bigint); _n := _n + 1;`,
    producers));

  await sql`truncate public.floor_events`;
  const floor = floorInserter(sql);
  lines.push(await throughput(sql, "floor: bare INSERT", 1, (w, i) => floor(sessionOf(w * 7919 + i), payloadOf(i))));
  for (const size of BATCHES) {
    lines.push(await throughput(sql, `append_items, ${size} per call`, size, (w, i) =>
      sql`select count(*) from starcite.append_items(${sql.json(itemsOf((w * 7919 + i) * size, size))}::jsonb)`));
  }
  lines.push(await throughput(sql, "append (direct path)", 1, (w, i) =>
    sql`select seq from starcite.append(${sessionOf(w * 7919 + i)}, 'content', ${sql.json(payloadOf(i))}::jsonb)`));
} finally {
  await db.drop();
  await pg.stop();
}
process.stdout.write(`${lines.join("\n")}\n`);
