/**
 * Archive round trip through a real S3-compatible server (s3rver): retention with archive = true copies expired
 * events to the object store before deleting them from Postgres, and `events`, `tail` and REST read them back
 * transparently. Without an archive, a reader before the retained range gets cursor_expired with the earliest
 * seq — also through the SDK, as a terminal error.
 */
import { Starcite, type StarciteError } from "@starcite/sdk";
import WebSocket from "ws";
import { afterAll, beforeAll, expect, test } from "vitest";
import { decodeSegment, segmentKey } from "../../src/archive/format.ts";
import { startTestS3, type TestS3 } from "../helpers/s3.ts";
import { collectTail, startTestServer, type TestServer } from "../helpers/server.ts";
import { waitUntil } from "../sql/_support.ts";

let s3: TestS3;
let s: TestServer;

beforeAll(async () => {
  s3 = await startTestS3();
  s = await startTestServer({
    archive: s3.store,
    workers: { retention: { intervalMs: 100, batchEvents: 50 }, archiver: { intervalMs: 100, segmentEvents: 40 } },
  });
});

afterAll(async () => {
  await s?.close();
  await s3?.close();
});

async function ok(query: string, variables?: Record<string, unknown>) {
  const res = await s.gql(query, variables);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data!;
}

async function seed(sessionId: string, n: number): Promise<void> {
  await ok(`mutation($id: ID) { createSession(id: $id) { id } }`, { id: sessionId });
  for (let i = 0; i < n; i += 100) {
    const events = Array.from({ length: Math.min(100, n - i) }, (_, k) => ({
      type: "note",
      payload: { i: i + k + 1, text: `event ${i + k + 1}` },
      actor: "agent:a",
    }));
    await ok(`mutation($id: ID!, $events: [AppendInput!]!) { appendBatch(sessionId: $id, events: $events) { seq } }`, {
      id: sessionId,
      events,
    });
  }
}

async function firstSeqInPostgres(sessionId: string): Promise<number> {
  const [row] = await s.db.sql<
    { first_seq: number }[]
  >`select coalesce((select first_seq from starcite.log_bounds where session_id = ${sessionId}), 1) as first_seq`;
  return row!.first_seq;
}

const EVENT_FIELDS = "seq type actor payload insertedAt";

test("archived ranges are read back through events, tail and REST as if they were still in Postgres", async () => {
  await seed("arc_1", 200);
  const before = (await ok(`query { events(sessionId: "arc_1", limit: 1000) { events { ${EVENT_FIELDS} } } }`)).events.events;
  expect(before).toHaveLength(200);

  await ok(`mutation { setRetention(sessionId: "arc_1", maxEvents: 30, archive: true) { scope maxEvents archive } }`);
  await waitUntil(
    "retention to delete all but the newest 30 from Postgres",
    async () => (await firstSeqInPostgres("arc_1")) === 171,
    30_000,
  );
  expect((await s.db.sql`select count(*)::int as n from starcite.events where session_id = 'arc_1'`)[0]!.n).toBe(30);

  // The objects in the store, in the documented format.
  const object = await s3.store.get(segmentKey("default", "arc_1", 1, 40));
  expect(object).not.toBeNull();
  const archived = decodeSegment(object!);
  expect(archived.map((e) => e.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  expect(archived[0]).toMatchObject({ sessionId: "arc_1", type: "note", payload: { i: 1, text: "event 1" }, actor: "agent:a" });

  // GraphQL events, paging across the archive and Postgres.
  const paged: unknown[] = [];
  for (let after = 0; ;) {
    const page = (
      await ok(
        `query($after: Int) { events(sessionId: "arc_1", after: $after, limit: 75) { nextCursor lastSeq events { ${EVENT_FIELDS} } } }`,
        { after },
      )
    ).events;
    if (page.events.length === 0) break;
    paged.push(...page.events);
    after = page.nextCursor;
  }
  expect(paged).toEqual(before);

  // REST.
  const rest = await fetch(`${s.url}/v1/sessions/arc_1/events?cursor=10&limit=5`).then((r) => r.json());
  expect(rest.events.map((e: { seq: number }) => e.seq)).toEqual([11, 12, 13, 14, 15]);
  expect(rest.events[0].inserted_at).toBe(before[10].insertedAt);

  // A tail from 0: the archive, then Postgres, then live.
  const tail = collectTail(s.wsClient(), "arc_1", 0);
  await tail.until(() => tail.batches.some((b) => b.live), 20_000, "caught up");
  await ok(`mutation { append(sessionId: "arc_1", event: { type: "note", payload: { i: 201 } }) { seq } }`);
  await tail.until(() => tail.events.length === 201, 20_000, "live after the archive");
  expect(tail.events.map((e) => e.seq)).toEqual(Array.from({ length: 201 }, (_, i) => i + 1));
  expect(tail.events.slice(0, 200).map((e) => e.payload)).toEqual(before.map((e: { payload: unknown }) => e.payload));
  tail.unsubscribe();
});

test("without an archive, a cursor before the retained range is cursor_expired (410 over REST), and the SDK's tail stops with it", async () => {
  await seed("arc_2", 50);
  await ok(`mutation { setRetention(sessionId: "arc_2", maxEvents: 10) { scope } }`);
  await waitUntil("retention to trim arc_2", async () => (await firstSeqInPostgres("arc_2")) === 41, 30_000);

  const res = await s.gql(`query { events(sessionId: "arc_2", after: 5) { lastSeq } }`);
  expect(res.errors?.[0]?.extensions).toMatchObject({ code: "cursor_expired", earliestSeq: 41, cursor: 5 });
  const rest = await fetch(`${s.url}/v1/sessions/arc_2/events?cursor=0`);
  expect(rest.status).toBe(410);
  expect(await rest.json()).toMatchObject({ error: "cursor_expired", detail: { earliest_seq: 41 } });
  expect(
    (await ok(`query { events(sessionId: "arc_2", after: 40, limit: 3) { events { seq } } }`)).events.events.map(
      (e: { seq: number }) => e.seq,
    ),
  ).toEqual([41, 42, 43]);

  const tail = collectTail(s.wsClient(), "arc_2", 3);
  await tail.until(() => tail.errors.length > 0, 20_000, "tail error").catch(() => {});
  expect(JSON.stringify(tail.errors)).toMatch(/cursor_expired/);
  expect(tail.events).toHaveLength(0);

  const starcite = new Starcite({ baseUrl: s.url, apiKey: "sk_unused_auth_is_off", webSocketImpl: WebSocket });
  const session = await starcite.session({ id: "arc_2", create: false, cursor: 0 });
  const error = await new Promise<StarciteError>((resolve) => {
    session.on("error", resolve);
    session.subscribe();
  });
  expect(error.code).toBe("cursor_expired");
  expect(error.retryable).toBe(false);
  expect(error.detail).toMatchObject({ earliestSeq: 41 });
  await session.close();
});
