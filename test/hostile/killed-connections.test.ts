/**
 * Every server connection killed under it (the LISTEN one and the whole pool, as a failover, a pooler restart
 * or an idle-connection reaper does) while the database stays up: a tail subscribed before must receive every
 * event appended afterwards, and the server must not answer database_unavailable. Before the fix, the re-read
 * after re-listening ran on a dead pool connection, was not retried, and ended the tails at once (4 of 6 runs
 * lost the three events).
 */
import postgres from "postgres";
import { afterAll, beforeAll, expect, test } from "vitest";
import { captureLogs } from "../helpers/logs.ts";
import { collectTail, startTestServer, type TestServer } from "../helpers/server.ts";

const logs = captureLogs("warn");
let s: TestServer;
let killer: postgres.Sql;

beforeAll(async () => {
  s = await startTestServer({ logger: logs.logger });
  killer = postgres(s.db.url, { max: 1, onnotice: () => {}, connection: { application_name: "killer" } });
});
afterAll(async () => {
  await killer?.end();
  await s?.close();
});

/** Terminates every backend of this database except the killer's own; returns how many. */
async function killAll(): Promise<number> {
  const rows = await killer`
    select pg_terminate_backend(pid) as ok from pg_stat_activity
    where datname = current_database() and pid <> pg_backend_pid()`;
  return rows.filter((r) => r.ok).length;
}

test.each([1, 2, 3, 4, 5, 6])("run %i: the tail gets all three events appended from SQL after every connection was killed", async (run) => {
  const sessionId = `ses_killed_${run}`;
  await killer`select * from starcite.create_session(${sessionId})`;
  const tail = collectTail(s.wsClient(), sessionId, 0);
  await tail.until(() => tail.batches.some((b) => b.live), 10_000, "live");
  expect(await killAll()).toBeGreaterThanOrEqual(2);
  for (let i = 1; i <= 3; i++) await killer`select * from starcite.append(${sessionId}, 'content', ${killer.json({ i })}::jsonb)`;
  await tail.until(() => tail.events.length === 3, 15_000, "three events");
  expect(tail.events.map((e) => e.seq)).toEqual([1, 2, 3]);
  expect(tail.errors).toEqual([]);
  // The server answers at once afterwards too (its pool recovers by itself).
  const r = await s.gql(`query($id: ID!) { events(sessionId: $id) { lastSeq } }`, { id: sessionId });
  expect(r.errors).toBeUndefined();
  expect(r.data!.events.lastSeq).toBe(3);
  tail.unsubscribe();
});

test("reads right after the kill are answered: a dead pool connection is retried, not database_unavailable", async () => {
  const sessionId = "ses_killed_reads";
  await killer`select * from starcite.create_session(${sessionId})`;
  await killAll();
  const r = await s.gql(`query($id: ID!) { session(id: $id) { id } events(sessionId: $id) { lastSeq } }`, { id: sessionId });
  expect(r.errors).toBeUndefined();
});
