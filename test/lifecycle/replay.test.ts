/**
 * The lifecycle feed: session created / updated / archived / unarchived / deleted in commit order, with replay
 * from a cursor — a backend that stops (and a server that restarts) picks up every change made meanwhile.
 */
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { waitUntil } from "../sql/_support.ts";

let db: TestDatabase;
let server: TestServer;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer({}, db);
});

afterAll(async () => {
  await server?.close();
  await db?.drop();
});

interface Change {
  seq: number;
  sessionId: string;
  kind: string;
}

const SUBSCRIPTION = `subscription($cursor: Int) { sessionChanges(cursor: $cursor) { cursor live changes { seq sessionId kind } } }`;

/** A backend following the feed from `cursor`, the way one that keeps its cursor in its own database would. */
function follow(wsUrl: string, cursor: number) {
  const client: Client = createClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
  const changes: Change[] = [];
  const errors: unknown[] = [];
  let live = false;
  const watchers = new Set<() => void>();
  const stop = client.subscribe<{ sessionChanges: { cursor: number; live: boolean; changes: Change[] } }>(
    { query: SUBSCRIPTION, variables: { cursor } },
    {
      next: (r) => {
        if (r.errors) errors.push(...r.errors);
        if (r.data) {
          changes.push(...r.data.sessionChanges.changes);
          if (r.data.sessionChanges.live) live = true;
        }
        watchers.forEach((w) => w());
      },
      error: (e) => {
        errors.push(e);
        watchers.forEach((w) => w());
      },
      complete: () => {},
    },
  );
  return {
    changes,
    errors,
    get live() {
      return live;
    },
    get cursor() {
      return changes.at(-1)?.seq ?? cursor;
    },
    until(predicate: () => boolean, label: string): Promise<void> {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (errors.length) {
            watchers.delete(check);
            clearTimeout(timer);
            reject(new Error(`${label}: ${JSON.stringify(errors)}`));
          } else if (predicate()) {
            watchers.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          watchers.delete(check);
          reject(new Error(`${label}: timed out with ${JSON.stringify(changes)}`));
        }, 20_000);
        watchers.add(check);
        check();
      });
    },
    async close() {
      stop();
      await client.dispose();
    },
  };
}

async function ok(query: string, variables?: Record<string, unknown>) {
  const res = await server.gql(query, variables);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data!;
}

test("a backend that restarts resumes from its cursor and misses no session created, changed or deleted meanwhile", async () => {
  const backend = follow(server.wsUrl, 0);
  await backend.until(() => backend.live, "caught up");
  await ok(`mutation { createSession(id: "lc_1") { id } }`);
  await ok(`mutation { appendBatch(sessionId: "lc_1", events: [{ payload: { a: 1 } }]) { seq } }`);
  await backend.until(() => backend.changes.length === 1, "first change live");
  const saved = backend.cursor;
  await backend.close();

  // While the backend is away: changes, and a server restart.
  await ok(`mutation { createSession(id: "lc_2") { id } }`);
  await ok(`mutation { updateSession(id: "lc_1", title: "t") { id } }`);
  await server.close();
  server = await startTestServer({}, db);
  await ok(`mutation { updateSession(id: "lc_2", archived: true) { id } }`);
  await ok(`mutation { updateSession(id: "lc_2", archived: false) { id } }`);
  await ok(`mutation { deleteSession(id: "lc_1") { id } }`);

  const again = follow(server.wsUrl, saved);
  await again.until(() => again.live, "replayed");
  expect(again.changes.map((c) => [c.seq, c.sessionId, c.kind])).toEqual([
    [2, "lc_2", "created"],
    [3, "lc_1", "updated"],
    [4, "lc_2", "archived"],
    [5, "lc_2", "unarchived"],
    [6, "lc_1", "deleted"],
  ]);
  await ok(`mutation { createSession(id: "lc_3") { id } }`);
  await again.until(() => again.changes.length === 6, "live after replay");
  expect(again.changes.at(-1)).toMatchObject({ seq: 7, sessionId: "lc_3", kind: "created" });
  await again.close();

  const page = await fetch(`${server.url}/v1/session-changes?cursor=5&limit=10`).then((r) => r.json());
  expect(page).toMatchObject({
    next_cursor: 7,
    last_seq: 7,
    changes: [
      { seq: 6, session_id: "lc_1", kind: "deleted" },
      { seq: 7, session_id: "lc_3", kind: "created" },
    ],
  });
  const q = await ok(`query { sessionChanges(after: 6) { nextCursor lastSeq changes { seq kind } } }`);
  expect(q.sessionChanges).toEqual({ nextCursor: 7, lastSeq: 7, changes: [{ seq: 7, kind: "created" }] });
});

test("commit order: a create that commits late is not skipped by a reader already past a later one", async () => {
  const reader = follow(server.wsUrl, (await ok(`query { sessionChanges(after: 0, limit: 1) { lastSeq } }`)).sessionChanges.lastSeq);
  await reader.until(() => reader.live, "caught up");
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let created!: () => void;
  const inserted = new Promise<void>((r) => (created = r));
  const slow = db.sql.begin(async (tx) => {
    await tx`select starcite.create_session('lc_slow')`;
    created();
    await gate;
  });
  try {
    await inserted;
    // The second create must wait for the first one's lock on the tenant's counter row: it cannot commit ahead.
    let secondDone = false;
    const fast = ok(`mutation { createSession(id: "lc_fast") { id } }`).then(() => (secondDone = true));
    await waitUntil("the second create waiting on a lock", async () => {
      const [row] = await db.sql<{ n: number }[]>`
        select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()`;
      return row!.n >= 1;
    });
    expect(secondDone).toBe(false);
    expect(reader.changes).toHaveLength(0);
    release();
    await Promise.all([slow, fast]);
  } finally {
    release();
  }
  await reader.until(() => reader.changes.length === 2, "both");
  expect(reader.changes.map((c) => c.sessionId)).toEqual(["lc_slow", "lc_fast"]);
  expect(reader.changes[1]!.seq).toBe(reader.changes[0]!.seq + 1);
  await reader.close();
});

test("a cursor beyond the last change is invalid_argument", async () => {
  const res = await server.gql(`query { sessionChanges(after: 100000) { lastSeq } }`);
  expect(res.data?.sessionChanges.lastSeq).toBeGreaterThan(0);
  const sub = follow(server.wsUrl, 100000);
  await sub.until(() => false, "error").catch(() => {});
  expect(JSON.stringify(sub.errors)).toMatch(/invalid_argument/);
  await sub.close();
});
