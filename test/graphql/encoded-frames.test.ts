/**
 * Tail frames on the wire. With the fast paths, a batch is serialised once for every subscriber at the same
 * point (src/server/frames.ts) and replay comes as pages serialised by the database; without them, graphql-ws
 * serialises graphql-js results per socket. Two servers on one database, the same raw subscribers on each:
 * live frames must be the same bytes, and replay the same events (pages carry JSON as Postgres stores it,
 * so only insignificant whitespace may differ there).
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import WebSocket from "ws";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { EVENT_FIELDS } from "../../src/sdk/queries.ts";

const QUERIES = {
  sdk: `subscription Tail($sessionId: ID!, $cursor: Int) { tail(sessionId: $sessionId, cursor: $cursor) { cursor live events { ${EVENT_FIELDS} } } }`,
  aliased: `subscription ($sessionId: ID!, $cursor: Int) { t: tail(sessionId: $sessionId, cursor: $cursor) { __typename e: events { __typename s: seq p: payload m: metadata } c: cursor live } }`,
  fragment: `subscription ($sessionId: ID!, $cursor: Int) { tail(sessionId: $sessionId, cursor: $cursor) { ...B } } fragment B on TailBatch { live cursor events { seq payload } }`,
};

let fast: TestServer;
let slow: TestServer;
beforeAll(async () => {
  fast = await startTestServer({ fastPaths: true });
  slow = await startTestServer({ fastPaths: false }, fast.db);
});
afterAll(async () => {
  await slow?.close();
  await fast?.close();
});

/** A bare graphql-transport-ws subscriber that keeps every `next` frame's text as received. */
function rawTail(wsUrl: string, query: string, sessionId: string, id: string, cursor = 0) {
  const ws = new WebSocket(wsUrl, "graphql-transport-ws");
  const frames: string[] = [];
  const watchers = new Set<() => void>();
  ws.on("open", () => ws.send(JSON.stringify({ type: "connection_init", payload: {} })));
  ws.on("message", (data, isBinary) => {
    // graphql-transport-ws is text only; catch-up frames leave the server as bytes and must still go as text.
    const text = isBinary ? `binary message: ${String(data)}` : String(data);
    const msg = JSON.parse(text) as { type: string };
    if (msg.type === "connection_ack")
      ws.send(JSON.stringify({ id, type: "subscribe", payload: { query, variables: { sessionId, cursor } } }));
    if (msg.type === "next" || msg.type === "error") frames.push(text);
    watchers.forEach((w) => w());
  });
  const parsed = () => frames.map((f) => JSON.parse(f) as { payload: { data?: Record<string, Record<string, unknown>> } });
  /** Seqs received so far, whatever the selection calls them. */
  const seqs = () =>
    parsed().flatMap((f) => {
      const batch = Object.values(f.payload.data ?? {})[0] ?? {};
      const events = (batch.events ?? batch.e ?? []) as Record<string, number>[];
      return events.map((e) => e.seq ?? e.s!);
    });
  return {
    frames,
    parsed,
    seqs,
    close: () => ws.close(),
    until(pred: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!pred()) return;
          watchers.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          watchers.delete(check);
          reject(new Error(`timed out waiting for ${what}; frames: ${frames.length}`));
        }, timeoutMs);
        watchers.add(check);
        check();
      });
    },
  };
}

const isLive = (frame: string) => /"live":true/.test(frame);

test("live frames are the bytes graphql-ws would send, replay the same events, shared by subscribers at the same point", async () => {
  const sessionId = "ses_frames";
  const sql = fast.db.sql;
  await sql`select starcite.create_session(${sessionId})`;
  // History with every kind of value: unicode, escapes, nulls, JSON in metadata and refs, producers.
  const history = Array.from({ length: 25 }, (_, i) => ({
    type: i % 2 ? "tool_call" : "content",
    payload: { i, text: `héllo "${i}" \\ \n\t😀 \u2028`, n: i / 3, nested: { a: [1, null, true] } },
    ...(i % 3 === 0 ? { actor: `agent:${i}`, source: "tool", metadata: { m: i }, refs: [i, "x"], idempotency_key: `k${i}` } : {}),
    ...(i % 4 === 0 ? { producer_id: "p", producer_seq: i / 4 + 1 } : {}),
  }));
  await sql`select * from starcite.append_batch(${sessionId}, ${sql.json(history)}, true)`;

  const pairs = Object.values(QUERIES).map((query, k) => {
    const id = `sub-${k}`;
    return {
      query,
      onFast: [rawTail(fast.wsUrl, query, sessionId, id), rawTail(fast.wsUrl, query, sessionId, id)],
      onSlow: rawTail(slow.wsUrl, query, sessionId, id),
    };
  });
  const all = pairs.flatMap((p) => [...p.onFast, p.onSlow]);
  await Promise.all(all.map((t) => t.until(() => t.frames.some(isLive), "the catch-up point")));

  // Replay: the same events in the same order (batch sizes differ: pages on one side, rows on the other).
  for (const p of pairs) {
    const events = (t: ReturnType<typeof rawTail>) =>
      t.parsed().flatMap((f) => {
        const batch = Object.values(f.payload.data!)[0]!;
        return (batch.events ?? batch.e) as unknown[];
      });
    expect(events(p.onFast[0]!)).toEqual(events(p.onSlow));
    expect(events(p.onFast[1]!)).toEqual(events(p.onSlow));
    expect(p.onSlow.seqs()).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
  }

  // Live: one transaction at a time, each seen by everyone before the next, so batches line up on both servers.
  const shared = async () =>
    Number(/starcite_tail_results_total\{how="shared"\} (\d+)/.exec(await (await fetch(`${fast.url}/metrics`)).text())?.[1] ?? 0);
  const sharedBefore = await shared();
  const marks = all.map((t) => t.frames.length);
  for (let round = 0; round < 3; round++) {
    const events = Array.from({ length: round + 1 }, (_, k) => ({
      type: "chunk",
      payload: { round, k, text: 'live "é" 😀' },
      ...(k === 0 ? { metadata: { round }, actor: "user:u" } : {}),
    }));
    await sql`select * from starcite.append_batch(${sessionId}, ${sql.json(events)}, true)`;
    const expected = 25 + ((round + 1) * (round + 2)) / 2;
    await Promise.all(all.map((t) => t.until(() => t.seqs().at(-1) === expected, `seq ${expected}`)));
  }
  for (const [k, p] of pairs.entries()) {
    const slowLive = p.onSlow.frames.slice(marks[3 * k + 2]);
    expect(slowLive).toHaveLength(3);
    expect(p.onFast[0]!.frames.slice(marks[3 * k])).toEqual(slowLive);
    expect(p.onFast[1]!.frames.slice(marks[3 * k + 1])).toEqual(slowLive);
  }
  // Each document's live batches were encoded once and handed to its second subscriber as they were.
  expect((await shared()) - sharedBefore).toBeGreaterThanOrEqual(3 * pairs.length);
  all.forEach((t) => t.close());
});

test("a catch-up longer than one page, twice: gapless, and the second reader gets the pages from the cache", async () => {
  const small = await startTestServer({ fastPaths: true, hub: { catchUpPageEvents: 7, catchUpFrameBytes: 1_000_000 } }, fast.db);
  try {
    const sessionId = "ses_pages";
    const sql = fast.db.sql;
    await sql`select starcite.create_session(${sessionId})`;
    const items = Array.from({ length: 100 }, (_, i) => ({ payload: { i } }));
    await sql`select * from starcite.append_batch(${sessionId}, ${sql.json(items)}, true)`;
    const pages = async (how: string) =>
      Number(
        new RegExp(`starcite_catchup_pages_total\\{how="${how}"\\} (\\d+)`).exec(await (await fetch(`${small.url}/metrics`)).text())?.[1] ??
          0,
      );

    const first = rawTail(small.wsUrl, QUERIES.sdk, sessionId, "1");
    await first.until(() => first.frames.some(isLive), "the first reader's catch-up point");
    expect(first.seqs()).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    const fromDatabase = await pages("database");
    expect(fromDatabase).toBeGreaterThanOrEqual(15);

    const second = rawTail(small.wsUrl, QUERIES.sdk, sessionId, "2");
    await second.until(() => second.frames.some(isLive), "the second reader's catch-up point");
    expect(second.seqs()).toEqual(first.seqs());
    // Fourteen full pages (7 events each) were kept; only the last, partial one is read again.
    expect(await pages("cache")).toBe(14);
    expect((await pages("database")) - fromDatabase).toBe(1);
    first.close();
    second.close();
  } finally {
    await small.close();
  }
});

test("a seq past 32 bits: the batch goes to graphql-js, whose error is written in order with the rest", async () => {
  // The compiled encoder refuses an Int graphql-js would refuse; a directly delivered tail then waits for
  // graphql-js's result (its one asynchronous delivery) and writes it after the batches before it.
  const sessionId = "ses_int_edge";
  const sql = fast.db.sql;
  await sql`select starcite.create_session(${sessionId})`;
  const start = 2 ** 31 - 2;
  await sql`update starcite.sessions set last_seq = ${start} where id = ${sessionId}`;
  const tail = rawTail(fast.wsUrl, QUERIES.sdk, sessionId, "edge", start);
  await tail.until(() => tail.frames.some(isLive), "the catch-up point");
  const mark = tail.frames.length;
  for (const k of [1, 2, 3]) {
    await sql`select * from starcite.append_batch(${sessionId}, ${sql.json([{ type: "chunk", payload: { k } }])}, true)`;
    await tail.until(() => tail.frames.length === mark + k, `frame ${k}`);
  }
  const live = tail.frames.slice(mark).map((f) => JSON.parse(f) as { type: string; payload: Record<string, never> });
  expect(live.map((f) => f.type)).toEqual(["next", "next", "next"]);
  expect(live[0]!.payload).toMatchObject({
    data: { tail: { cursor: 2 ** 31 - 1, live: true, events: [{ seq: 2 ** 31 - 1, payload: { k: 1 } }] } },
  });
  // GraphQL's Int stops at 2^31 - 1: graphql-js's own error, coded, for each batch beyond (the tail goes on).
  for (const [k, f] of live.slice(1).entries()) {
    expect(f.payload).toMatchObject({
      data: null,
      errors: [{ message: `Int cannot represent non 32-bit signed integer value: ${2 ** 31 + k}`, extensions: { code: "bad_request" } }],
    });
  }
  tail.close();
});
