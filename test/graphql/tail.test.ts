import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { collectTail, startTestServer, type TailEvent, type TestServer } from "../helpers/server.ts";

let s: TestServer;

beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s?.close();
});

const APPEND = `mutation A($sessionId: ID!, $event: AppendInput!) { append(sessionId: $sessionId, event: $event) { seq deduped } }`;

async function createSession(id: string): Promise<void> {
  const res = await s.gql(`mutation C($id: ID!) { createSession(id: $id) { id } }`, { id });
  expect(res.errors).toBeUndefined();
}

async function append(sessionId: string, payload: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<number> {
  const res = await s.gql<{ append: { seq: number } }>(APPEND, { sessionId, event: { payload, ...extra } });
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data!.append.seq;
}

/** Seqs from..to, in order, exactly once. */
function expectGapless(events: TailEvent[], from: number, to: number): void {
  const seqs = events.map((e) => e.seq);
  expect(seqs.length).toBe(to - from + 1);
  for (let i = 0; i < seqs.length; i++) if (seqs[i] !== from + i) expect.fail(`position ${i}: expected seq ${from + i}, got ${seqs[i]}`);
}

async function metric(name: string, labels = ""): Promise<number> {
  const text = await (await fetch(`${s.url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name}${labels} `) || (labels === "" && l.startsWith(`${name} `)));
  return line ? Number(line.split(" ").at(-1)) : 0;
}

describe("tail", () => {
  test("8 writers x 200 appends while 3 subscribers tail: each gets exactly its seqs once, in order, same content", async () => {
    const sessionId = "ses_concurrent";
    await createSession(sessionId);
    const early = collectTail(s.wsClient(), sessionId, 0);
    await early.until(() => early.batches.some((b) => b.live), 10_000, "early live");

    const writers = Array.from({ length: 8 }, async (_, w) => {
      for (let k = 1; k <= 200; k++) {
        await append(sessionId, { w, k }, { producerId: `writer-${w}`, producerSeq: k, actor: `agent:w${w}` });
      }
    });
    await early.until(() => early.events.length >= 100, 30_000, "first 100");
    const mid = collectTail(s.wsClient(), sessionId, 100);
    await Promise.all(writers);
    const late = collectTail(s.wsClient(), sessionId, 0);

    await early.until(() => early.events.length >= 1600, 30_000, "early all");
    await mid.until(() => mid.events.length >= 1500, 30_000, "mid all");
    await late.until(() => late.events.length >= 1600, 30_000, "late all");

    expectGapless(early.events, 1, 1600);
    expectGapless(mid.events, 101, 1600);
    expectGapless(late.events, 1, 1600);
    expect(mid.events).toEqual(early.events.slice(100));
    expect(late.events).toEqual(early.events);
    // Each writer's events appear in its own producer order.
    for (let w = 0; w < 8; w++) {
      const ks = early.events.filter((e) => e.payload.w === w).map((e) => e.payload.k);
      expect(ks).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    }
    // The first live batch marks the catch-up point; nothing after it is replay.
    for (const t of [early, mid, late]) {
      const firstLive = t.batches.findIndex((b) => b.live);
      expect(firstLive).toBeGreaterThanOrEqual(0);
      expect(t.batches[firstLive]!.events).toEqual([]);
      expect(t.batches.slice(firstLive).every((b) => b.live)).toBe(true);
    }
    // And it matches the database.
    const rows = await s.db.sql<{ seq: number; payload: Record<string, unknown> }[]>`
      select seq, payload from starcite.events where session_id = ${sessionId} order by seq`;
    expect(rows.map((r) => r.payload)).toEqual(early.events.map((e) => e.payload));
    for (const t of [early, mid, late]) t.unsubscribe();
  });

  test("a subscriber whose socket is killed mid-stream resumes from its last seq with no gap or duplicate", async () => {
    const sessionId = "ses_killed";
    await createSession(sessionId);
    let socket: WebSocket | undefined;
    const client = createClient({
      url: s.wsUrl,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      on: { connected: (sock) => (socket = sock as WebSocket) },
    });
    const first = collectTail(client, sessionId, 0);
    const writer = (async () => {
      for (let k = 1; k <= 300; k++) await append(sessionId, { k });
    })();
    await first.until(() => first.events.length >= 50, 20_000, "first 50");
    socket!.terminate();
    await first.ended(5_000, "the tail to end with the socket");
    expect(first.completed || first.errors.length > 0).toBe(true);
    const seen = [...first.events];
    const cursor = seen.at(-1)!.seq;

    const resumed = collectTail(s.wsClient(), sessionId, cursor);
    await writer;
    await resumed.until(() => seen.length + resumed.events.length >= 300, 20_000, "resumed");
    expectGapless([...seen, ...resumed.events], 1, 300);
    resumed.unsubscribe();
    await client.dispose();
  });

  test("a direct SQL starcite.append reaches GraphQL subscribers", async () => {
    const sessionId = "ses_sql";
    await createSession(sessionId);
    const t = collectTail(s.wsClient(), sessionId, 0);
    await t.until(() => t.batches.some((b) => b.live), 10_000, "live");
    await s.db.sql`select * from starcite.append(${sessionId}, 'tool_result', ${s.db.sql.json({ rows: 3 })}, 'tool:search')`;
    await s.db.sql`select * from starcite.append_batch(${sessionId}, ${s.db.sql.json([{ payload: { a: 1 } }, { payload: { a: 2 } }])})`;
    await t.until(() => t.events.length === 3, 10_000, "sql events");
    expect(t.events.map((e) => [e.seq, e.type, e.actor, e.payload])).toEqual([
      [1, "tool_result", "tool:search", { rows: 3 }],
      [2, "content", null, { a: 1 }],
      [3, "content", null, { a: 2 }],
    ]);
    t.unsubscribe();
  });

  test("the listener's connection is terminated mid-stream: subscribers still get every event", async () => {
    const sessionId = "ses_listener_killed";
    await createSession(sessionId);
    const tails = [collectTail(s.wsClient(), sessionId, 0), collectTail(s.wsClient(), sessionId, 0)];
    await Promise.all(tails.map((t) => t.until(() => t.batches.some((b) => b.live), 10_000, "live")));
    const reconnectsBefore = await metric("starcite_listener_reconnects_total");

    const writer = (async () => {
      for (let k = 1; k <= 200; k++) {
        await append(sessionId, { k });
        if (k === 60) {
          const killed = await s.db.sql`select pg_terminate_backend(pid) as ok from pg_stat_activity
            where application_name = 'starcite-listener' and datname = current_database()`;
          expect(killed.length).toBeGreaterThan(0);
        }
      }
    })();
    await writer;
    for (const t of tails) {
      await t.until(() => t.events.length >= 200, 30_000, "after listener kill");
      expectGapless(t.events, 1, 200);
      t.unsubscribe();
    }
    expect(await metric("starcite_listener_reconnects_total")).toBeGreaterThan(reconnectsBefore);
  });

  test("500 subscribers on one session: event reads per appended batch do not grow with subscribers", async () => {
    const hubReads = () => metric("starcite_event_reads_total", '{source="hub"}');

    async function readsPerAppend(subscribers: number, sessionId: string): Promise<number> {
      await createSession(sessionId);
      const clients = Array.from({ length: 10 }, () => s.wsClient());
      const tails = Array.from({ length: subscribers }, (_, i) => collectTail(clients[i % clients.length]!, sessionId, 0));
      await Promise.all(tails.map((t) => t.until(() => t.batches.some((b) => b.live), 20_000, "live")));
      const before = await hubReads();
      const appends = 20;
      for (let k = 1; k <= appends; k++) {
        await append(sessionId, { k });
        // Wait until everyone has it, so each append is its own batch and its own notification.
        await Promise.all(tails.map((t) => t.until(() => t.events.length >= k, 20_000, "delivery")));
      }
      const reads = (await hubReads()) - before;
      for (const t of tails) expectGapless(t.events, 1, appends);
      for (const t of tails) t.unsubscribe();
      await Promise.all(clients.map((c) => c.dispose()));
      return reads / appends;
    }

    const one = await readsPerAppend(1, "ses_fanout_1");
    const many = await readsPerAppend(500, "ses_fanout_500");
    expect(one).toBeGreaterThan(0);
    expect(one).toBeLessThanOrEqual(1);
    expect(many).toBe(one);
  });

  test("subscribers at the same point share one GraphQL result per batch; documents that use variables in the payload do not", async () => {
    const sessionId = "ses_shared_results";
    await createSession(sessionId);
    const computed = () => metric("starcite_tail_results_total", '{how="computed"}');
    const shared = () => metric("starcite_tail_results_total", '{how="shared"}');
    const clients = Array.from({ length: 4 }, () => s.wsClient());
    const tails = Array.from({ length: 100 }, (_, i) => collectTail(clients[i % 4]!, sessionId, 0));
    await Promise.all(tails.map((t) => t.until(() => t.batches.some((b) => b.live), 20_000, "live")));
    const [c0, s0] = [await computed(), await shared()];
    for (let k = 1; k <= 5; k++) {
      await append(sessionId, { k });
      await Promise.all(tails.map((t) => t.until(() => t.events.length >= k, 20_000, "delivery")));
    }
    const [c1, s1] = [await computed(), await shared()];
    expect(c1 - c0).toBeLessThanOrEqual(10);
    expect(s1 - s0).toBeGreaterThanOrEqual(5 * 90);
    for (const t of tails) expectGapless(t.events, 1, 5);
    // Same events and content for everyone.
    for (const t of tails) expect(t.events).toEqual(tails[0]!.events);

    // A document whose payload selection depends on a variable is executed per subscriber, correctly.
    const withVar = `subscription T($sessionId: ID!, $full: Boolean!) {
      tail(sessionId: $sessionId) { cursor live events { seq payload @include(if: $full) } } }`;
    const got: Record<string, unknown[]> = { yes: [], no: [] };
    const stops = (["yes", "no"] as const).map((which) =>
      clients[0]!.subscribe<{ tail: { events: unknown[] } }>(
        { query: withVar, variables: { sessionId, full: which === "yes" } },
        { next: (r) => got[which]!.push(...(r.data?.tail.events ?? [])), error: () => {}, complete: () => {} },
      ),
    );
    const deadline = Date.now() + 10_000;
    while ((got.yes!.length < 5 || got.no!.length < 5) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(got.yes![0]).toEqual({ seq: 1, payload: { k: 1 } });
    expect(got.no![0]).toEqual({ seq: 1 });
    stops.forEach((stop) => stop());
    for (const t of tails) t.unsubscribe();
  });
});
