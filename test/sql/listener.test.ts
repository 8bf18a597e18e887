/**
 * The pg-listen based NotificationListener against real Postgres: `advanced` hints, and recovery after its
 * backend is terminated (`disconnected`, then `reconnected`, then later notifications again).
 */
import { once } from "node:events";
import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import { append, appendBatch } from "../../src/db/events.ts";
import { NotificationListener, type SessionAdvanced } from "../../src/db/listener.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { createSessionSql, waitUntil, within } from "./_support.ts";

let db: TestDatabase;
let listener: NotificationListener | undefined;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterEach(async () => {
  await listener?.stop();
  listener = undefined;
});

afterAll(async () => {
  await db?.drop();
});

/** Collects `advanced` hints and resolves waits on them. */
function collect(l: NotificationListener) {
  const seen: SessionAdvanced[] = [];
  const wakers = new Set<() => void>();
  l.on("advanced", (hint) => {
    seen.push(hint);
    for (const wake of wakers) wake();
  });
  return {
    seen,
    async waitFor(sessionId: string, lastSeq: number): Promise<void> {
      const match = () => seen.some((h) => h.sessionId === sessionId && h.lastSeq === lastSeq);
      if (match()) return;
      let wake!: () => void;
      const arrived = new Promise<void>((resolve) => {
        wake = () => match() && resolve();
        wakers.add(wake);
      });
      try {
        await within(10_000, `advanced ${sessionId}@${lastSeq}`, arrived);
      } finally {
        wakers.delete(wake);
      }
    },
  };
}

async function listenerBackends(): Promise<number> {
  const [row] = await db.sql<{ n: number }[]>`
    select count(*)::int as n from pg_stat_activity
    where application_name = 'starcite-listener' and datname = current_database()`;
  return row!.n;
}

test("emits advanced with the session id and last seq of every committed append", async () => {
  listener = new NotificationListener(db.url);
  const hints = collect(listener);
  await listener.start();
  expect(listener.connected).toBe(true);

  const s = await createSessionSql(db.sql);
  await append(db.sql, s, { payload: {} });
  await hints.waitFor(s, 1);
  await appendBatch(
    db.sql,
    s,
    Array.from({ length: 5 }, () => ({ payload: {} })),
  );
  await hints.waitFor(s, 6);
  expect(hints.seen.filter((h) => h.sessionId === s)).toEqual([
    { sessionId: s, lastSeq: 1 },
    { sessionId: s, lastSeq: 6 },
  ]);
});

test("after its backend is terminated it reconnects, says so, and receives later notifications", async () => {
  listener = new NotificationListener(db.url, { retryDelay: () => 50 });
  const hints = collect(listener);
  const events: string[] = [];
  listener.on("disconnected", () => events.push("disconnected"));
  listener.on("reconnected", () => events.push("reconnected"));
  await listener.start();

  const s = await createSessionSql(db.sql);
  await append(db.sql, s, { payload: {} });
  await hints.waitFor(s, 1);

  const reconnected = once(listener, "reconnected");
  const killed = await db.sql<{ ok: boolean }[]>`
    select pg_terminate_backend(pid) as ok from pg_stat_activity
    where application_name = 'starcite-listener' and datname = current_database()`;
  expect(killed.map((r) => r.ok)).toEqual([true]);

  await within(10_000, "the listener to reconnect", reconnected);
  expect(events).toEqual(["disconnected", "reconnected"]);
  expect(listener.connected).toBe(true);
  expect(await listenerBackends()).toBe(1);

  // LISTEN was re-issued on the new connection: later appends arrive again.
  await append(db.sql, s, { payload: {} });
  await hints.waitFor(s, 2);
  const other = await createSessionSql(db.sql);
  await append(db.sql, other, { payload: {} });
  await hints.waitFor(other, 1);
});

test("stop() closes the LISTEN connection and no reconnect follows", async () => {
  listener = new NotificationListener(db.url, { retryDelay: () => 50 });
  let reconnects = 0;
  listener.on("reconnected", () => reconnects++);
  await listener.start();
  expect(await listenerBackends()).toBe(1);
  await listener.stop();
  expect(listener.connected).toBe(false);
  await waitUntil("the listener backend to go away", async () => (await listenerBackends()) === 0);
  expect(reconnects).toBe(0);
});
